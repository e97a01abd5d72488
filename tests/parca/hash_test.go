package parca

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/parca-dev/parca/pkg/hash"
)

// TestHashIsParcas uploads a gcc binary (debuginfo and sources) with our CLI
// and checks that the hash recorded for each object is what Parca's own
// pkg/hash computes for the stored bytes.
func TestHashIsParcas(t *testing.T) {
	dir := t.TempDir()
	cli := filepath.Join(dir, "debuginfo")
	run(t, "../..", "go", "build", "-o", cli, "./uploader/cmd/debuginfo")
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	run(t, dir, "gcc", "-g", "-o", bin, src)
	store := filepath.Join(dir, "store")
	run(t, dir, cli, "upload", "--store-address=file://"+store, "--include-sources", bin)

	objects, _ := filepath.Glob(filepath.Join(store, "debuginfo", "*", "*"))
	checked := 0
	for _, obj := range objects {
		if filepath.Ext(obj) != "" || filepath.Base(obj) == "metadata" {
			continue
		}
		meta := obj + ".metadata"
		if filepath.Base(obj) == "debuginfo" {
			meta = filepath.Join(filepath.Dir(obj), "metadata")
		}
		b, err := os.ReadFile(meta)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Upload struct {
				Hash string `json:"hash"`
			} `json:"upload"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", meta, err)
		}
		want, err := hash.File(obj)
		if err != nil {
			t.Fatal(err)
		}
		if m.Upload.Hash != want {
			t.Errorf("%s: recorded hash %q, Parca's pkg/hash says %q", obj, m.Upload.Hash, want)
		}
		checked++
	}
	if checked != 2 {
		t.Fatalf("checked %d objects (%v), want debuginfo and sources", checked, objects)
	}
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
