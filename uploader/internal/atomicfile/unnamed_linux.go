package atomicfile

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// oTmpfile is O_TMPFILE: __O_TMPFILE (the same on every Linux port Go
// has) with O_DIRECTORY, which the syscall package does not define for all.
const oTmpfile = 0x400000 | syscall.O_DIRECTORY

const atSymlinkFollow = 0x400

// createUnnamed opens a file in dir that has no name until linkUnnamed
// gives it one: a writer killed however hard (SIGKILL, the OOM killer)
// leaves nothing behind (review s14-r2, finding 5). Nil where the kernel or
// the file system refuses O_TMPFILE, or /proc, which linkUnnamed needs, is
// missing: the caller then makes a named temp as before.
func createUnnamed(dir, display string) *os.File {
	fd, err := syscall.Open(dir, oTmpfile|syscall.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil
	}
	if _, err := os.Lstat(procFD(fd)); err != nil {
		syscall.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), display)
}

func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// linkUnnamed gives f, from createUnnamed, the name name (which must not
// exist): linkat of its /proc link, following it to the file.
func linkUnnamed(f *os.File, name string) error {
	src, err := syscall.BytePtrFromString(procFD(int(f.Fd())))
	if err != nil {
		return err
	}
	dst, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	cwd := -100 // AT_FDCWD, which the syscall package keeps to itself
	_, _, e := syscall.Syscall6(syscall.SYS_LINKAT, uintptr(cwd), uintptr(unsafe.Pointer(src)),
		uintptr(cwd), uintptr(unsafe.Pointer(dst)), atSymlinkFollow, 0)
	if e != 0 {
		return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: e}
	}
	return nil
}
