# Sourced by bench scripts after lib.sh: build_inputs writes $work/c,
# $work/cxx and $work/go, a gcc C, a g++ C++ and a Go binary, all with -g.
build_inputs() {
cat >"$work/big.cc" <<'CC'
#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
namespace app {
template <typename K, typename V> struct Table {
  std::map<K, std::vector<V>> rows;
  void add(const K& k, const V& v) { rows[k].push_back(v); }
  size_t count() const { size_t n = 0; for (auto& [k, v] : rows) n += v.size(); return n; }
};
}
int main(int argc, char** argv) {
  app::Table<std::string, double> t;
  app::Table<int, std::string> u;
  std::unordered_map<std::string, int> seen;
  std::regex re("([a-z]+)=([0-9.]+)");
  for (int i = 1; i < argc; i++) {
    std::smatch m; std::string s = argv[i];
    if (std::regex_match(s, m, re)) { t.add(m[1], std::stod(m[2])); seen[m[1]]++; u.add(i, s); }
  }
  std::ostringstream os; os << t.count() << " " << u.count() << " " << seen.size();
  std::cout << os.str() << std::endl;
}
CC
g++ -g -O2 -o "$work/cxx" "$work/big.cc"
cat >"$work/c.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *next; char name[32]; double v; };
static struct node *push(struct node *h, const char *n, double v) {
  struct node *x = calloc(1, sizeof *x); x->next = h; strncpy(x->name, n, 31); x->v = v; return x; }
int main(int argc, char **argv) { struct node *h = NULL; for (int i = 1; i < argc; i++) h = push(h, argv[i], i);
  double s = 0; for (; h; h = h->next) s += h->v; printf("%f\n", s); return 0; }
C
gcc -g -O2 -o "$work/c" "$work/c.c"
mkdir -p "$work/gosrc"
printf 'module x\n\ngo 1.24\n' >"$work/gosrc/go.mod"
printf 'package main\n\nimport (\n\t"encoding/json"\n\t"fmt"\n\t"net/http"\n)\n\nfunc main() { b, _ := json.Marshal(map[string]int{"a": 1}); fmt.Println(string(b), http.StatusOK) }\n' >"$work/gosrc/main.go"
(cd "$work/gosrc" && GOWORK=off CGO_ENABLED=0 go build -o "$work/go" .)
}
