package cli

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// badInputDoc is the table this test checks, relative to the package dir.
const badInputDoc = "../../../docs/bad-input.md"

// badRow is one row of docs/bad-input.md.
type badRow struct {
	id, input, command, message string
	exit                        int
	line                        int
}

// parseBadInputTable reads the rows of the table whose header starts with "| id |".
func parseBadInputTable(t *testing.T) []badRow {
	t.Helper()
	data, err := os.ReadFile(badInputDoc)
	if err != nil {
		t.Fatal(err)
	}
	var rows []badRow
	inTable := false
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) > 0 && cells[0] == "id" {
			if len(cells) != 5 {
				t.Fatalf("%s:%d: header has %d columns, want 5 (id | input | command | message | exit code)", badInputDoc, n+1, len(cells))
			}
			inTable = true
			continue
		}
		if !inTable || strings.Trim(cells[0], "-: ") == "" {
			continue
		}
		if len(cells) != 5 {
			t.Fatalf("%s:%d: row has %d cells, want 5 (a \"|\" inside a cell?)", badInputDoc, n+1, len(cells))
		}
		code, err := strconv.Atoi(cells[4])
		if err != nil {
			t.Fatalf("%s:%d: exit code %q: %v", badInputDoc, n+1, cells[4], err)
		}
		msg := unquoteCell(cells[3])
		if msg == "" {
			t.Fatalf("%s:%d: empty message", badInputDoc, n+1)
		}
		rows = append(rows, badRow{id: cells[0], input: cells[1], command: unquoteCell(cells[2]), message: msg, exit: code, line: n + 1})
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no table rows found", badInputDoc)
	}
	return rows
}

func unquoteCell(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return s[1 : len(s)-1]
	}
	return s
}

// badRun is what a row's setup builds: the command line and environment,
// and optional bounds and checks.
type badRun struct {
	args []string
	env  map[string]string
	// maxTime bounds the run (default 60s); past it the row fails as a hang.
	maxTime time.Duration
	// unblock, if set, is called after a hang to let the stuck run return.
	unblock func()
	// maxExtraFDs > 0 samples this process's open files during the run and
	// fails if more than this many are open on top of those before it.
	maxExtraFDs int
	// after runs extra checks once the command returned.
	after func(t *testing.T)
	// absent are texts (a secret, a raw escape character) that must appear
	// in neither stdout nor stderr, compared case-insensitively.
	absent []string
	// once are texts that must be printed exactly once (stdout and stderr).
	once []string
	// asNobody runs the command as a process of user nobody, so that a
	// mode-000 file is unreadable even when the tests run as root.
	asNobody bool
}

// badFixtures are built once for all rows.
type badFixtures struct {
	elf     string // a good gcc -g binary
	elfData []byte
	plain   *teststore.Server

	gzOnce sync.Once // gz: a gcc -g -gz binary's bytes
	gz     []byte
	gzErr  error
}

func TestBadInputTable(t *testing.T) {
	rows := parseBadInputTable(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the upload journal

	fx := &badFixtures{elf: testbin.C(t, "badinput", "bad input", "-g")}
	var err error
	if fx.elfData, err = os.ReadFile(fx.elf); err != nil {
		t.Fatal(err)
	}
	fx.plain = teststore.Start(t, teststore.Options{})

	setups := badInputSetups(fx)
	maps.Copy(setups, hostileSetups(fx))
	maps.Copy(setups, hostileInputSetups(fx))
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.id] {
			t.Errorf("%s:%d: duplicate row id %q", badInputDoc, r.line, r.id)
		}
		seen[r.id] = true
	}
	for id := range setups {
		if !seen[id] {
			t.Errorf("setup %q has no row in %s: document it or remove it", id, badInputDoc)
		}
	}
	for _, r := range rows {
		t.Run(r.id, func(t *testing.T) {
			setup, ok := setups[r.id]
			if !ok {
				t.Fatalf("%s:%d: row %q has no setup in badInputSetups", badInputDoc, r.line, r.id)
			}
			run := setup(t)
			if run == nil {
				return // skipped by the setup
			}
			if want := strings.Fields(r.command)[0]; len(run.args) == 0 || run.args[0] != want {
				t.Fatalf("setup runs %q, the row's command is %q", run.args, r.command)
			}
			code, stdout, stderr := runBad(t, run)
			if code != r.exit {
				t.Errorf("exit %d, want %d", code, r.exit)
			}
			if !strings.Contains(stdout, r.message) && !strings.Contains(stderr, r.message) {
				t.Errorf("message %q not printed", r.message)
			}
			// Always logged: with -v the run shows what each row really prints.
			t.Logf("args: %q\nstdout:\n%s\nstderr:\n%s", run.args, stdout, stderr)
			for _, a := range run.absent {
				if strings.Contains(strings.ToLower(stdout+stderr), strings.ToLower(a)) {
					t.Errorf("output shows %q", a)
				}
			}
			for _, o := range run.once {
				if n := strings.Count(stdout+stderr, o); n != 1 {
					t.Errorf("%q printed %d times, want once", o, n)
				}
			}
			if run.after != nil {
				run.after(t)
			}
		})
	}
}

// runBad runs the CLI in-process with a map-based environment, bounded in
// time, turning a panic into a test failure.
func runBad(t *testing.T, run *badRun) (code int, stdout, stderr string) {
	t.Helper()
	if run.asNobody && os.Geteuid() == 0 {
		return runAsNobody(t, run.args, run.env)
	}
	var o, e syncBuffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Getenv: func(k string) string { return run.env[k] }}
	maxTime := run.maxTime
	if maxTime == 0 {
		maxTime = 60 * time.Second
	}

	var sample func() int
	stopSampling := make(chan struct{})
	sampled := make(chan int, 1)
	base := 0
	if run.maxExtraFDs > 0 {
		sample = func() int { return testbin.OpenFiles(t) }
		base = sample()
		go func() {
			peak := 0
			for {
				if n := sample(); n > peak {
					peak = n
				}
				select {
				case <-stopSampling:
					sampled <- peak
					return
				case <-time.After(200 * time.Microsecond):
				}
			}
		}()
	}

	type result struct {
		code  int
		panic string
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{code: -1, panic: fmt.Sprintf("%v\n%s", p, debug.Stack())}
			}
		}()
		done <- result{code: Main(env, run.args)}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(maxTime):
		t.Errorf("hang: no exit after %s", maxTime)
		if run.unblock != nil {
			run.unblock()
		}
		select {
		case res = <-done:
			t.Logf("returned %s after it started", time.Since(start).Round(time.Millisecond))
		case <-time.After(2 * time.Minute):
			t.Fatalf("still running %s after it started", time.Since(start).Round(time.Second))
		}
	}
	elapsed := time.Since(start)
	if res.panic != "" {
		t.Fatalf("panic: %s", res.panic)
	}
	if run.maxExtraFDs > 0 {
		close(stopSampling)
		peak := <-sampled
		t.Logf("open files: %d before, peak %d during the run (%s)", base, peak, elapsed.Round(time.Millisecond))
		if peak-base > run.maxExtraFDs {
			t.Errorf("open files peaked at %d, %d more than before the run; want at most %d more", peak, peak-base, run.maxExtraFDs)
		}
	}
	return res.code, o.String(), e.String()
}

// syncBuffer is a bytes.Buffer safe for the writes of concurrent workers.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) lock() {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.String()
}

// patchELF copies the good ELF file with fn applied to its bytes.
// sectionData is the file bytes of section name in the ELF file b, as a
// slice of b.
func sectionData(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(name)
	if s == nil {
		t.Fatalf("no %s", name)
	}
	return b[s.Offset : s.Offset+s.FileSize]
}

// gzData is a gcc -g -gz program (compressed DWARF), built once.
func (fx *badFixtures) gzData(t *testing.T) []byte {
	t.Helper()
	fx.gzOnce.Do(func() {
		fx.gz, fx.gzErr = os.ReadFile(testbin.C(t, "badinput-gz", "bad input gz", "-g", "-gz"))
	})
	if fx.gzErr != nil {
		t.Fatal(fx.gzErr)
	}
	return fx.gz
}

func patchELF(t *testing.T, fx *badFixtures, name string, fn func(b []byte)) string {
	t.Helper()
	b := bytes.Clone(fx.elfData)
	fn(b)
	return testbin.File(t, name, b)
}

// ELF64 little-endian header fields (x86-64 gcc output).
const (
	offShoff    = 0x28
	offShnum    = 0x3c
	shdrSize    = 64
	shdrSizeOff = 32 // sh_size within a section header
)

func elfShoff(b []byte) uint64 { return binary.LittleEndian.Uint64(b[offShoff:]) }
func elfShnum(b []byte) int    { return int(binary.LittleEndian.Uint16(b[offShnum:])) }

// withBuildIDByte returns a copy of an ELF file whose GNU build ID has its
// last byte set to b: a distinct file to the store, without another gcc run.
func withBuildIDByte(t *testing.T, data []byte, b byte) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		t.Fatal("no .note.gnu.build-id section")
	}
	// Elf64_Nhdr (12 bytes), "GNU\0", then the ID.
	namesz := f.ByteOrder.Uint32(data[sec.Offset:])
	descsz := f.ByteOrder.Uint32(data[sec.Offset+4:])
	end := sec.Offset + 12 + uint64((namesz+3)&^3) + uint64(descsz)
	out := bytes.Clone(data)
	out[end-1] = b
	return out
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func badInputSetups(fx *badFixtures) map[string]func(t *testing.T) *badRun {
	text := func(t *testing.T) string { return testbin.File(t, "notes.txt", []byte("hello\n")) }
	empty := func(t *testing.T) string { return testbin.File(t, "empty", nil) }
	out := func(t *testing.T) string { return filepath.Join(t.TempDir(), "out") }
	args := func(a ...string) *badRun { return &badRun{args: a} }
	store := func() string { return "--store-address=" + fx.plain.Addr() }
	loop := func(t *testing.T) string {
		dir := t.TempDir()
		for _, l := range [][2]string{{"b", "a"}, {"a", "b"}} {
			if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(dir, "a")
	}
	fifo := func(t *testing.T) (string, func()) {
		p := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		// A reader stuck in open(2) is released by a writer coming and going.
		return p, func() {
			if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
	}
	tokenFile := func(t *testing.T, content string) string {
		p := testbin.File(t, "token", []byte(content))
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tlsStore := func(t *testing.T) (*teststore.Server, []byte) {
		cfg, pemData := teststore.SelfSignedTLS(t)
		return teststore.Start(t, teststore.Options{TLS: cfg}), pemData
	}
	quick := []string{"--retries=0", "--timeout=5s"}
	cat := func(parts ...[]string) []string {
		var all []string
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}

	return map[string]func(t *testing.T) *badRun{
		"not-elf":         func(t *testing.T) *badRun { return args("upload", "--dry-run", text(t)) },
		"not-elf-buildid": func(t *testing.T) *badRun { return args("buildid", text(t)) },
		"not-elf-sources": func(t *testing.T) *badRun { return args("sources", text(t), "-o", out(t)) },
		"zero-byte":       func(t *testing.T) *badRun { return args("upload", "--dry-run", empty(t)) },
		"zero-byte-stamp": func(t *testing.T) *badRun { return args("stamp", empty(t), "-o", out(t)) },
		"truncated-header": func(t *testing.T) *badRun {
			return args("buildid", testbin.File(t, "trunc30", fx.elfData[:30]))
		},
		"corrupt-dwarf": func(t *testing.T) *badRun {
			srv := teststore.Start(t, teststore.Options{})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", patchELF(t, fx, "corrupt-dwarf", func(b []byte) {
				info := sectionData(t, b, ".debug_info")
				copy(info[12:76], bytes.Repeat([]byte{0xff}, 64))
			}))
			r.after = func(t *testing.T) {
				if n := srv.Calls("MarkUploadFinished"); n != 0 {
					t.Errorf("MarkUploadFinished called %d times", n)
				}
			}
			return r
		},
		"corrupt-dwarf-stream": func(t *testing.T) *badRun {
			b := bytes.Clone(fx.gzData(t))
			line := sectionData(t, b, ".debug_line")
			for i := len(line) / 2; i < len(line)/2+8; i++ {
				line[i] ^= 0x5a
			}
			return args("upload", "--dry-run", testbin.File(t, "corrupt-stream", b))
		},
		"dwarf-bomb": func(t *testing.T) *badRun {
			b := bytes.Clone(fx.gzData(t))
			binary.LittleEndian.PutUint64(sectionData(t, b, ".debug_line")[8:], 1<<40) // ch_size
			return args("extract", testbin.File(t, "bomb", b), "-o", out(t))
		},
		"truncated-elf": func(t *testing.T) *badRun {
			o := out(t)
			r := args("extract", testbin.File(t, "trunc200", fx.elfData[:200]), "-o", o)
			r.after = func(t *testing.T) {
				if _, err := os.Lstat(o); !os.IsNotExist(err) {
					t.Errorf("OUT exists after a failed extract (err %v); it must appear complete or not at all", err)
				}
				if ents, _ := os.ReadDir(filepath.Dir(o)); len(ents) != 0 {
					t.Errorf("temporary files left beside OUT: %v", ents)
				}
			}
			return r
		},
		"corrupt-shoff": func(t *testing.T) *badRun {
			return args("upload", "--dry-run", patchELF(t, fx, "corrupt", func(b []byte) {
				binary.LittleEndian.PutUint64(b[offShoff:], 0xdeadbeefcafe)
			}))
		},
		"corrupt-section-headers": func(t *testing.T) *badRun {
			return args("stamp", patchELF(t, fx, "corrupt", func(b []byte) {
				start := int(elfShoff(b)) + shdrSize
				end := int(elfShoff(b)) + shdrSize*elfShnum(b)
				for i := start; i < end && i < len(b); i++ {
					b[i] = 0xff
				}
			}), "-o", out(t))
		},
		"huge-shnum": func(t *testing.T) *badRun {
			return args("buildid", patchELF(t, fx, "huge", func(b []byte) {
				binary.LittleEndian.PutUint16(b[offShnum:], 65535)
			}))
		},
		"many-program-headers": func(t *testing.T) *badRun {
			b := bytes.Clone(fx.elfData)
			const n = 65534
			phoff := (len(b) + 7) &^ 7
			b = append(b, make([]byte, phoff-len(b)+n*56)...)
			for i := range n {
				ph := b[phoff+i*56:]
				binary.LittleEndian.PutUint32(ph, uint32(elf.PT_NOTE))
				if i%2 == 1 {
					binary.LittleEndian.PutUint32(ph, uint32(elf.PT_PHDR))
				}
				binary.LittleEndian.PutUint32(ph[4:], uint32(elf.PF_R))
				binary.LittleEndian.PutUint64(ph[16:], 0x7000000) // p_vaddr: in no PT_LOAD
				binary.LittleEndian.PutUint64(ph[40:], 16)        // p_memsz
			}
			binary.LittleEndian.PutUint64(b[0x20:], uint64(phoff)) // e_phoff
			binary.LittleEndian.PutUint16(b[0x38:], n)             // e_phnum
			r := args("extract", testbin.File(t, "phdrs", b), "-o", out(t))
			r.maxTime = 20 * time.Second
			return r
		},
		"extended-shnum-lying": func(t *testing.T) *badRun {
			return args("extract", patchELF(t, fx, "ext", func(b []byte) {
				binary.LittleEndian.PutUint16(b[offShnum:], 0)
				binary.LittleEndian.PutUint64(b[int(elfShoff(b))+shdrSizeOff:], 0xffffffff)
			}), "-o", out(t))
		},
		"missing-path":         func(t *testing.T) *badRun { return args("upload", "--dry-run", filepath.Join(t.TempDir(), "missing")) },
		"missing-path-buildid": func(t *testing.T) *badRun { return args("buildid", filepath.Join(t.TempDir(), "missing")) },
		"unreadable-mode-000": func(t *testing.T) *badRun {
			p := testbin.Copy(t, fx.elf, "noread")
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
			for d := filepath.Dir(p); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
				os.Chmod(d, 0o755) // nobody may walk in
			}
			r := args("buildid", p)
			r.asNobody = true // root would read it anyway
			return r
		},
		"unreadable-not-a-directory": func(t *testing.T) *badRun { return args("buildid", filepath.Join(text(t), "x")) },
		"fifo-upload": func(t *testing.T) *badRun {
			p, unblock := fifo(t)
			r := args("upload", "--dry-run", p)
			r.maxTime, r.unblock = 10*time.Second, unblock
			return r
		},
		"fifo-buildid": func(t *testing.T) *badRun {
			p, unblock := fifo(t)
			r := args("buildid", p)
			r.maxTime, r.unblock = 5*time.Second, unblock
			return r
		},
		"symlink-loop":         func(t *testing.T) *badRun { return args("upload", "--dry-run", loop(t)) },
		"symlink-loop-buildid": func(t *testing.T) *badRun { return args("buildid", loop(t)) },
		"dir-symlink-to-parent": func(t *testing.T) *badRun {
			dir := filepath.Dir(loop(t))
			if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, l := range [][2]string{{"..", "sub/up"}, {".", "self"}} {
				if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "sub", "prog"), fx.elfData, 0o755); err != nil {
				t.Fatal(err)
			}
			r := args("upload", "--dry-run", dir)
			r.maxTime = 20 * time.Second
			return r
		},
		"many-files": func(t *testing.T) *badRun {
			dir := t.TempDir()
			for i := range 5000 {
				sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%50))
				if i < 50 {
					if err := os.Mkdir(sub, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d.txt", i)), []byte("not elf "+strconv.Itoa(i)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				bin := testbin.C(t, fmt.Sprintf("many%d", i), fmt.Sprintf("many %d", i), "-g")
				data, err := os.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("d%02d", i*17), fmt.Sprintf("prog%d", i)), data, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			srv := teststore.Start(t, teststore.Options{})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", dir)
			r.maxExtraFDs = 64
			return r
		},
		"empty-bearer-token": func(t *testing.T) *badRun {
			return args("upload", store(), "--insecure", "--bearer-token=", fx.elf)
		},
		"empty-token-file": func(t *testing.T) *badRun {
			return args("upload", store(), "--insecure", "--bearer-token-file="+tokenFile(t, "  \n\t\n"), fx.elf)
		},
		"token-inner-newline-file": func(t *testing.T) *badRun {
			return args("upload", store(), "--insecure", "--bearer-token-file="+tokenFile(t, "abc\ndef"), fx.elf)
		},
		"token-inner-newline-env": func(t *testing.T) *badRun {
			r := args("upload", store(), "--insecure", fx.elf)
			r.env = map[string]string{"POLARSIGNALS_TOKEN": "abc\ndef"}
			return r
		},
		"psc-token-no-project": func(t *testing.T) *badRun {
			r := args("upload", store(), "--insecure", fx.elf)
			r.env = map[string]string{"POLARSIGNALS_TOKEN": "psc_v1_" + strings.Repeat("0123456789abcdef", 4)}
			return r
		},
		"grpc-headers-novalue": func(t *testing.T) *badRun {
			return args("upload", store(), "--insecure", "--grpc-headers=novalue", fx.elf)
		},
		"grpc-headers-empty-key": func(t *testing.T) *badRun {
			return args("upload", store(), "--insecure", "--grpc-headers==x", fx.elf)
		},
		"unreachable-store": func(t *testing.T) *badRun {
			r := args(cat([]string{"upload", "--store-address=" + closedPort(t), "--insecure"}, quick, []string{fx.elf})...)
			r.maxTime = 10 * time.Second
			return r
		},
		"unreachable-store-many": func(t *testing.T) *badRun {
			dir := t.TempDir()
			for i := range 8 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("prog%d", i)), withBuildIDByte(t, fx.elfData, byte(i)), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			r := args("upload", "--store-address="+closedPort(t), "--insecure", "-j", "2", "--timeout=3s", dir)
			r.maxTime = 8 * time.Second
			return r
		},
		"tls-to-plaintext": func(t *testing.T) *badRun {
			r := args(cat([]string{"upload", store()}, quick, []string{fx.elf})...)
			r.maxTime = 10 * time.Second
			return r
		},
		"plaintext-to-tls": func(t *testing.T) *badRun {
			srv, _ := tlsStore(t)
			r := args(cat([]string{"upload", "--store-address=" + srv.Addr(), "--insecure"}, quick, []string{fx.elf})...)
			r.maxTime = 10 * time.Second
			return r
		},
		"tls-untrusted-cert": func(t *testing.T) *badRun {
			srv, _ := tlsStore(t)
			r := args(cat([]string{"upload", "--store-address=" + srv.Addr()}, quick, []string{fx.elf})...)
			r.maxTime = 10 * time.Second
			return r
		},
		"bad-type":           func(t *testing.T) *badRun { return args("upload", "--dry-run", "--type=bogus", fx.elf) },
		"build-id-two-paths": func(t *testing.T) *badRun { return args("upload", "--dry-run", "--build-id=abc123", fx.elf, fx.elf) },
		"build-id-directory": func(t *testing.T) *badRun {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "prog"), fx.elfData, 0o755); err != nil {
				t.Fatal(err)
			}
			return args("upload", "--dry-run", "--no-extract", "--build-id=abc123", dir)
		},
		"unknown-command":       func(t *testing.T) *badRun { return args("frobnicate") },
		"usage-buildid":         func(t *testing.T) *badRun { return args("buildid") },
		"usage-extract":         func(t *testing.T) *badRun { return args("extract") },
		"usage-extract-no-out":  func(t *testing.T) *badRun { return args("extract", fx.elf) },
		"usage-extract-out-dir": func(t *testing.T) *badRun { return args("extract", fx.elf, "-o", t.TempDir()) },
		"usage-sources":         func(t *testing.T) *badRun { return args("sources") },
		"usage-stamp":           func(t *testing.T) *badRun { return args("stamp") },
		"usage-stamp-no-out":    func(t *testing.T) *badRun { return args("stamp", fx.elf) },
		"usage-upload":          func(t *testing.T) *badRun { return args("upload") },
	}
}
