package cli

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportBoundaries pins which package may use what: cli parses flags
// and prints, and reaches a store only through package store (which owns
// the connection, the calls and the explanation of a refusal); creds knows
// nothing of flags or stores.
func TestImportBoundaries(t *testing.T) {
	const mod = "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/"
	for dir, banned := range map[string][]string{
		".":        {"google.golang.org/grpc"},
		"../creds": {"github.com/spf13/pflag", mod + "store", "google.golang.org/grpc"},
	} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range banned {
					if path == b || strings.HasPrefix(path, b+"/") {
						t.Errorf("%s imports %s", f, path)
					}
				}
			}
		}
	}
}
