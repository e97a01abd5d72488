package stamp

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func stampBytes(t *testing.T, b []byte) ([]byte, string) {
	t.Helper()
	var out bytes.Buffer
	id, err := Stamp(bytes.NewReader(b), int64(len(b)), &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Bytes()) != len(b) {
		t.Fatalf("size changed %d -> %d", len(b), out.Len())
	}
	return out.Bytes(), id
}

func TestStampRedactedGo(t *testing.T) {
	testbin.Need(t, "readelf")
	dir := t.TempDir()
	var ids []string
	for i, msg := range []string{"hello one", "hello two"} {
		bin := testbin.GoBuild(t, dir, "p"+string(rune('a'+i)), testbin.HelloGo(msg), "-buildid=redacted")
		before, err := buildid.Read(bin)
		if err != nil || !before.Redacted {
			t.Fatalf("precondition: %+v %v", before, err)
		}
		b, _ := os.ReadFile(bin)
		stamped, id := stampBytes(t, b)
		if id == before.Value || len(id) != len(before.Value) {
			t.Fatalf("new ID %s (old %s)", id, before.Value)
		}
		// Only the 20 descriptor bytes differ.
		diff := 0
		for j := range b {
			if b[j] != stamped[j] {
				diff++
			}
		}
		if diff == 0 || diff > 20 {
			t.Fatalf("%d bytes changed", diff)
		}
		// Deterministic, and stable when stamped again.
		again, id2 := stampBytes(t, stamped)
		if id2 != id || !bytes.Equal(again, stamped) {
			t.Fatal("re-stamping changed the file")
		}
		out := filepath.Join(dir, "stamped"+string(rune('a'+i)))
		if err := os.WriteFile(out, stamped, 0o755); err != nil {
			t.Fatal(err)
		}
		after, err := buildid.Read(out)
		if err != nil || after.Value != id || after.Redacted || after.Type != buildid.GNU {
			t.Fatalf("after: %+v %v", after, err)
		}
		if n := testbin.Run(t, "", "readelf", "-n", out); !strings.Contains(n, "Build ID: "+id) {
			t.Fatalf("readelf -n:\n%s", n)
		}
		got, err := exec.Command(out).Output()
		if err != nil || string(got) != msg+"\n" {
			t.Fatalf("stamped program: %q %v", got, err)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		t.Fatal("two programs got the same stamped ID")
	}
}

func TestStampErrors(t *testing.T) {
	var w bytes.Buffer
	if _, err := Stamp(strings.NewReader("not elf at all"), 14, &w); !errors.Is(err, buildid.ErrNotELF) {
		t.Fatalf("non-ELF: %v", err)
	}
	dir := t.TempDir()
	b, _ := os.ReadFile(testbin.GCC(t, dir, "nobid", testbin.HelloC, "-Wl,--build-id=none"))
	if _, err := Stamp(bytes.NewReader(b), int64(len(b)), &w); !errors.Is(err, ErrNoGNUBuildID) {
		t.Fatalf("no build ID: %v", err)
	}
	// A C binary works too, and truncation is an error.
	c, _ := os.ReadFile(testbin.GCC(t, dir, "bid", testbin.HelloC, "-Wl,--build-id=sha1"))
	stampBytes(t, c)
	if _, err := Stamp(bytes.NewReader(c[:len(c)/2]), int64(len(c)/2), &w); err == nil {
		t.Fatal("truncated: no error")
	}
}
