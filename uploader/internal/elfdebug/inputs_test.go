package elfdebug

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// helloCC is a small C++ program with a namespaced method and templates.
const helloCC = `#include <iostream>
#include <vector>

namespace shapes {
struct Square {
	int side;
	int area() const;
};
__attribute__((noinline)) int Square::area() const { return side * side; }
}

__attribute__((noinline)) int total(const std::vector<shapes::Square>& v) {
	int s = 0;
	for (const auto& q : v) s += q.area();
	return s;
}

int main(int argc, char**) {
	std::vector<shapes::Square> v{{argc}, {2}, {3}};
	std::cout << total(v) << std::endl;
	return 0;
}
`

// input is a real binary to extract, and functions worth symbolizing in it.
type input struct {
	name    string
	path    string
	funcs   []string // names as nm prints them
	gdbFunc string   // a function as gdb names it
	goBin   bool
}

// inputs builds the binaries every layout test runs on: gcc C (PIE and
// non-PIE, DWARF 5 and 4, -O2), g++ and Go (plain and PIE).
func inputs(t *testing.T) []input {
	t.Helper()
	testbin.Need(t, "gcc", "g++", "go")
	dir := t.TempDir()
	cFuncs := []string{"square", "sum_squares", "main"}
	cc := filepath.Join(dir, "hellocc.cc")
	if err := os.WriteFile(cc, []byte(helloCC), 0o644); err != nil {
		t.Fatal(err)
	}
	ccBin := filepath.Join(dir, "hellocc")
	testbin.Run(t, dir, "g++", "-g", "-O1", "-o", ccBin, cc)
	goFuncs := []string{"main.main", "fmt.Fprintln", "runtime.main"}
	return []input{
		{name: "c-pie", path: testbin.GCC(t, dir, "pie", testbin.HelloC, "-g", "-O1", "-fPIE", "-pie"), funcs: cFuncs, gdbFunc: "sum_squares"},
		{name: "c-nopie-dwarf4", path: testbin.GCC(t, dir, "nopie", testbin.HelloC, "-g", "-gdwarf-4", "-O1", "-fno-PIE", "-no-pie"), funcs: cFuncs, gdbFunc: "sum_squares"},
		// gcc -O2: main in .text.startup, a .cold part: line tables that
		// extraction puts in address order (lineorder_test.go).
		{name: "c-O2", path: testbin.GCC(t, dir, "o2", testbin.O2C, "-g", "-O2"), funcs: []string{"sum", "main"}, gdbFunc: "sum"},
		{name: "c++", path: ccBin, funcs: []string{"_ZNK6shapes6Square4areaEv", "_Z5totalRKSt6vectorIN6shapes6SquareESaIS1_EE", "main"}, gdbFunc: "shapes::Square::area"},
		{name: "go", path: testbin.GoBuild(t, dir, "hellogo", testbin.HelloGo("hi"), ""), funcs: goFuncs, gdbFunc: "main.main", goBin: true},
		{name: "go-pie", path: testbin.Go(t, "hellogopie", "hi", "-buildmode=pie"), funcs: goFuncs, gdbFunc: "main.main", goBin: true},
	}
}
