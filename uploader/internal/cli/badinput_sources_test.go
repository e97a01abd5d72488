package cli

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// hostileSources is a gcc binary whose line tables (set with #line) name
// /etc/shadow, a path through "..", the CI token file in the source root
// and a symlink in the root that leads out of it.
type hostileSources struct {
	root, bin, token, outside string
}

const tokenValue = "opaque-token-do-not-archive-me-0123456789"

func buildHostileSources(t *testing.T) hostileSources {
	t.Helper()
	h := hostileSources{root: t.TempDir(), outside: t.TempDir()}
	h.token = filepath.Join(h.root, "ci-token")
	for p, c := range map[string]string{
		h.token:                                "  " + tokenValue + "\n",
		filepath.Join(h.outside, "secret.txt"): "outside\n",
	} {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(h.outside, "secret.txt"), filepath.Join(h.root, "link.c")); err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	names := []string{"/etc/shadow", "../" + filepath.Base(h.outside) + "/secret.txt", h.token, "link.c"}
	for i, n := range names {
		fmt.Fprintf(&src, "#line 1 %q\nint f%d(int x) { return x + %d; }\n", n, i, i)
	}
	src.WriteString("#line 1 \"prog.c\"\nint main(void) { return f0(1) + f1(2) + f2(3) + f3(4); }\n")
	h.bin = testbin.GCC(t, h.root, "prog", src.String(), "-g")
	return h
}

// checkArchiveClean fails if the zstd tar holds the token, a ".." name, or
// anything but the compiled file prog.c.
func checkArchiveClean(t *testing.T, data []byte) {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if strings.Contains(string(b), tokenValue) || strings.Contains(h.Name, "..") {
			t.Errorf("archive entry %q holds the token or climbs out", h.Name)
		}
		names = append(names, h.Name)
	}
	if len(names) != 1 || !strings.HasSuffix(names[0], "/prog.c") {
		t.Errorf("archive = %q, want only the compiled prog.c", names)
	}
}

// tokenHeld uploads the hostile sources with the token given by env or
// flags (which may name the sources' token file), and checks the stored
// archive.
func tokenHeld(t *testing.T, env map[string]string, flags func(hostileSources) []string) *badRun {
	h := buildHostileSources(t)
	srv := teststore.Start(t, teststore.Options{})
	args := append([]string{"upload", "--store-address=" + srv.Addr(), "--insecure", "--include-sources", "--source-root=" + h.root}, flags(h)...)
	r := &badRun{args: append(args, h.bin), env: env, absent: []string{tokenValue}}
	r.after = func(t *testing.T) {
		data, ok := srv.Uploaded(mustID(t, h.bin), pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES)
		if !ok {
			t.Fatal("no source archive uploaded")
		}
		checkArchiveClean(t, data)
	}
	return r
}

// tokenInRecord is an upload, with the credential flag given, of a record
// extracted without any credential (as in a Bazel action) from a tree
// whose header holds tokenValue: nothing may be uploaded.
func tokenInRecord(t *testing.T, credFlag string) *badRun {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "deploy.h"), []byte("/* deploy with "+tokenValue+" */\nint deployed;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := testbin.GCC(t, src, "prog", "#include \"deploy.h\"\nint main(void) { return deployed; }\n", "-g")
	dir := t.TempDir()
	rec := filepath.Join(dir, "x.json")
	if code, _, stderr := cliRun(t, nil, "extract", bin, "-o", filepath.Join(dir, "x.debuginfo"), "--record", rec, "--sources-out", filepath.Join(dir, "x.src.tar.zst"), "--source-root", src); code != 0 {
		t.Fatalf("extract: %s", stderr)
	}
	srv := teststore.Start(t, teststore.Options{})
	r := &badRun{args: []string{"upload", "--store-address=" + srv.Addr(), "--insecure", credFlag, "--record", rec}}
	r.absent = []string{tokenValue}
	r.after = func(t *testing.T) {
		for _, m := range []string{"InitiateUpload", "MarkUploadFinished"} {
			if n := srv.Calls(m); n != 0 {
				t.Errorf("%s called %d times: part of a refused record was uploaded", m, n)
			}
		}
	}
	return r
}

func archiveFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hostileInputSetups(fx *badFixtures) map[string]func(t *testing.T) *badRun {
	args := func(a ...string) *badRun { return &badRun{args: a} }
	out := func(t *testing.T) string { return filepath.Join(t.TempDir(), "out") }
	goID := func(t *testing.T, id string) string {
		return testbin.GoBuild(t, t.TempDir(), "goid", testbin.HelloGo("hi"), "-B=none -buildid="+id)
	}
	sources := func(t *testing.T) *badRun {
		h := buildHostileSources(t)
		o := out(t)
		r := args("sources", h.bin, "-o", o, "--verbose", "--source-root", h.root)
		r.env = map[string]string{"DEBUGINFO_TOKEN_FILE": h.token}
		r.after = func(t *testing.T) { checkArchiveClean(t, archiveFile(t, o)) }
		return r
	}
	bomb := func(t *testing.T, section string) string {
		testbin.Need(t, "objcopy")
		f := filepath.Join(t.TempDir(), "bomb.z")
		if err := os.WriteFile(f, append(chdr(bombSize), zlibBomb(t)...), 0o644); err != nil {
			t.Fatal(err)
		}
		flag := "--update-section"
		if section == ".debug_junk" {
			flag = "--add-section"
		}
		return withSection(t, fx.elf, section, true, flag, section+"="+f)
	}
	// extracted makes a real record with extract, then a copy of it in a new
	// directory whose files are symlinks: to extract's outputs (as in
	// Bazel's sandbox) unless links names other targets.
	extracted := func(t *testing.T, links map[string]string) (rec string, srv *teststore.Server, token string) {
		dir := t.TempDir()
		if code, _, stderr := cliRun(t, nil, "extract", fx.elf, "-o", filepath.Join(dir, "x.debuginfo"), "--record", filepath.Join(dir, "x.json"), "--sources-out", filepath.Join(dir, "x.src.tar.zst"), "--source-root", filepath.Dir(fx.elf)); code != 0 {
			t.Fatalf("extract: %s", stderr)
		}
		token = filepath.Join(t.TempDir(), "ci-token")
		if err := os.WriteFile(token, []byte(tokenValue+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		sandbox := t.TempDir()
		for _, n := range []string{"x.json", "x.debuginfo", "x.src.tar.zst"} {
			target := filepath.Join(dir, n)
			if l, ok := links[n]; ok {
				target = l
			}
			if target == "TOKEN" {
				target = token
			}
			if err := os.Symlink(target, filepath.Join(sandbox, n)); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(sandbox, "x.json"), teststore.Start(t, teststore.Options{}), token
	}
	nothingStored := func(srv *teststore.Server) func(t *testing.T) {
		return func(t *testing.T) {
			for _, m := range []string{"InitiateUpload", "MarkUploadFinished"} {
				if n := srv.Calls(m); n != 0 {
					t.Errorf("%s called %d times: part of a refused record was uploaded", m, n)
				}
			}
		}
	}
	secretText := func(t *testing.T) string {
		return testbin.File(t, "shadow", []byte("root:$6$opaque-shadow-hash:19000::::::\n"))
	}
	return map[string]func(t *testing.T) *badRun{
		"record-symlinked-files": func(t *testing.T) *badRun {
			rec, srv, token := extracted(t, nil)
			return args("upload", "--store-address="+srv.Addr(), "--insecure", "--bearer-token-file="+token, "--record", rec)
		},
		"record-sources-token-symlink": func(t *testing.T) *badRun {
			rec, srv, token := extracted(t, map[string]string{"x.src.tar.zst": "TOKEN"})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "--bearer-token-file="+token, "--record", rec)
			r.absent, r.after = []string{tokenValue}, nothingStored(srv)
			return r
		},
		"record-sources-not-archive": func(t *testing.T) *badRun {
			rec, srv, token := extracted(t, map[string]string{"x.src.tar.zst": secretText(t)})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "--bearer-token-file="+token, "--record", rec)
			r.absent, r.after = []string{"opaque-shadow-hash"}, nothingStored(srv)
			return r
		},
		"record-sources-hold-run-token": func(t *testing.T) *badRun {
			token := filepath.Join(t.TempDir(), "ci-token")
			if err := os.WriteFile(token, []byte(tokenValue+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return tokenInRecord(t, "--bearer-token-file="+token)
		},
		"record-sources-hold-helper-token": func(t *testing.T) *badRun {
			return tokenInRecord(t, "--credential-helper="+writeHelper(t, `echo '{"headers": {"Authorization": ["Bearer `+tokenValue+`"]}}'`))
		},
		"record-debuginfo-not-elf": func(t *testing.T) *badRun {
			rec, srv, token := extracted(t, map[string]string{"x.debuginfo": secretText(t)})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "--bearer-token-file="+token, "--record", rec)
			r.absent, r.after = []string{"opaque-shadow-hash"}, nothingStored(srv)
			return r
		},
		"go-note-dotdot": func(t *testing.T) *badRun {
			return args("upload", "--dry-run", goID(t, "../../escaped/note"))
		},
		"build-id-flag-dotdot": func(t *testing.T) *badRun {
			return args("upload", "--dry-run", "--no-extract", "--build-id=../../x", fx.elf)
		},
		"build-id-flag-control": func(t *testing.T) *badRun {
			return args("upload", "--dry-run", "--no-extract", "--build-id=ab\x1b[2Kc", fx.elf)
		},
		"build-id-go-file-store": func(t *testing.T) *badRun {
			dir := t.TempDir()
			r := args("upload", "--store-address=file://"+dir, goID(t, "aaaa/bbbb/cccc/dddd"))
			r.after = func(t *testing.T) {
				if _, err := os.Stat(filepath.Join(dir, "debuginfo/aaaa/bbbb/cccc/dddd/debuginfo")); err != nil {
					t.Errorf("not stored under debuginfo/<go build id>/: %v", err)
				}
			}
			return r
		},
		"build-id-go-squat": func(t *testing.T) *badRun {
			dir := t.TempDir()
			victim := mustID(t, fx.elf)
			r := args("upload", "--store-address=file://"+dir, goID(t, victim+"/metadata"))
			r.after = func(t *testing.T) {
				code, _, stderr := runBad(t, &badRun{args: []string{"upload", "--store-address=file://" + dir, fx.elf}})
				if code != 0 {
					t.Errorf("the victim's upload after the squatter's: exit %d: %s", code, stderr)
				}
			}
			return r
		},
		"build-id-flag-odd-hex": func(t *testing.T) *badRun {
			return args("upload", "--dry-run", "--no-extract", "--build-id=abcde", fx.elf)
		},
		"record-bad-build-id": func(t *testing.T) *badRun {
			dir := t.TempDir()
			rec := filepath.Join(dir, "r.json")
			if err := os.WriteFile(rec, []byte(`{"version":1,"binary":"x","build_id":"../../x","build_id_type":"gnu","debuginfo":"x.debuginfo"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			return args("upload", "--dry-run", "--record", rec)
		},
		"sources-outside-roots": sources,
		"sources-root-slash": func(t *testing.T) *badRun {
			return args("sources", fx.elf, "-o", filepath.Join(t.TempDir(), "s.tar.zst"), "--source-root", "/")
		},
		"sources-dotdot-name":    sources,
		"sources-token-file":     sources,
		"sources-symlink-escape": sources,
		"sources-token-in-env": func(t *testing.T) *badRun {
			r := sources(t)
			r.env = map[string]string{"POLARSIGNALS_TOKEN": tokenValue}
			r.absent = []string{tokenValue}
			return r
		},
		"upload-sources-token-file": func(t *testing.T) *badRun {
			return tokenHeld(t, nil, func(h hostileSources) []string { return []string{"--bearer-token-file=" + h.token} })
		},
		// The token file is no longer the one in use, but holds the token.
		"upload-sources-token-in-env": func(t *testing.T) *badRun {
			return tokenHeld(t, map[string]string{"POLARSIGNALS_TOKEN": tokenValue}, func(hostileSources) []string { return nil })
		},
		"upload-sources-helper-token": func(t *testing.T) *badRun {
			h := filepath.Join(t.TempDir(), "helper.sh")
			if err := os.WriteFile(h, []byte("#!/bin/sh\ncat >/dev/null\necho '{\"headers\":{\"Authorization\":[\"Bearer "+tokenValue+"\"]}}'\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			return tokenHeld(t, nil, func(hostileSources) []string { return []string{"--credential-helper=" + h} })
		},
		"upload-sources-header-value": func(t *testing.T) *badRun {
			return tokenHeld(t, nil, func(hostileSources) []string { return []string{"--grpc-headers=x-api-key=" + tokenValue} })
		},
		"upload-sources-left-out-once": func(t *testing.T) *badRun {
			h := buildHostileSources(t)
			srv := teststore.Start(t, teststore.Options{})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "--include-sources", "--source-root="+h.root, "--bearer-token-file="+h.token, h.bin)
			r.once = []string{"debuginfo: sources of "}
			return r
		},
		"upload-sources-left-out-once-dry-run": func(t *testing.T) *badRun {
			h := buildHostileSources(t)
			r := args("upload", "--dry-run", "--include-sources", "--source-root="+h.root, h.bin)
			r.once = []string{"debuginfo: sources of "}
			return r
		},
		"sources-manifest-symlink-escape": func(t *testing.T) *badRun {
			h := buildHostileSources(t)
			m := filepath.Join(t.TempDir(), "m.tsv")
			if err := os.WriteFile(filepath.Join(h.root, "prog.c"), []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(m, []byte("prog.c\t"+filepath.Join(h.root, "prog.c")+"\nsrc/x.c\t"+filepath.Join(h.root, "link.c")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			o := out(t)
			r := args("sources", "--sources-manifest", m, "-o", o, "--verbose", "--source-root", h.root, "--include", "**")
			r.after = func(t *testing.T) {
				zr, err := zstd.NewReader(bytes.NewReader(archiveFile(t, o)))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				tr := tar.NewReader(zr)
				for {
					hdr, err := tr.Next()
					if err != nil {
						break
					}
					if hdr.Name != "prog.c" {
						t.Errorf("archived %q", hdr.Name)
					}
				}
			}
			return r
		},
		"source-root-missing": func(t *testing.T) *badRun {
			return args("sources", fx.elf, "-o", out(t), "--source-root", filepath.Join(t.TempDir(), "nope"))
		},
		"sources-zlib-bomb": func(t *testing.T) *badRun {
			return args("sources", bomb(t, ".debug_str"), "-o", out(t))
		},
		"sources-long-name": func(t *testing.T) *badRun {
			dir := t.TempDir()
			name := "/" + strings.Repeat("d/", 2500) + "x.c"
			bin := testbin.GCC(t, dir, "prog", fmt.Sprintf("#line 1 %q\nint main(void) { return 0; }\n", name), "-g")
			return args("sources", bin, "-o", out(t))
		},
		"sources-zlib-bomb-unused": func(t *testing.T) *badRun {
			b := bomb(t, ".debug_junk")
			r := args("sources", b, "-o", out(t), "--source-root", filepath.Dir(fx.elf))
			r.maxTime = 20 * time.Second
			return r
		},
	}
}
