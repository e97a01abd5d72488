package upload

import (
	"context"
	"errors"
	"hash"
	"io"
	"os"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/objhash"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

var errChanged = errors.New("changed while uploading; run again")

// unchanged tells whether now is the file before was, as it was: the same
// file (not one renamed over it), with the same size, modification time and
// change time. The change time catches a rewrite that sets the mtime back
// (touch -d, cp -p): no one can set it.
func unchanged(before, now os.FileInfo) bool {
	return os.SameFile(before, now) && now.Size() == before.Size() &&
		now.ModTime().Equal(before.ModTime()) && changeTime(now) == changeTime(before)
}

// verify reads obj's bytes for one send from r: at most obj.Size of them,
// hashed on the way. Its last Read fails with errChanged unless they are
// exactly obj.Size bytes that hash to obj.Hash, so a store never gets more
// bytes than announced, and a send whose bytes differ from the hashed ones
// ends in an error before the store is told it finished.
//
// recheck, if set, is run beside the send from its first Read, and its
// error fails the last Read too: an extraction reads again what it made its
// compressed and sorted sections from (elfdebug.Extraction.InputUnchanged),
// bytes a send does not read from the input. Started at the send, after
// the hash pass read every byte the send reads from the input, it is one
// version of the input that both checks compare against.
func verify(r io.ReadCloser, obj store.Object, recheck func() error) io.ReadCloser {
	return &verified{r: r, left: obj.Size, h: objhash.New(), want: obj.Hash, recheck: recheck}
}

type verified struct {
	r    io.ReadCloser
	left int64
	h    hash.Hash64
	want string

	recheck func() error // not yet started
	running chan error   // its result, while it runs
	ended   error        // end's result, once known
}

func (v *verified) Read(p []byte) (int, error) {
	if v.recheck != nil {
		check := v.recheck
		v.recheck, v.running = nil, make(chan error, 1)
		go func() { v.running <- check() }()
	}
	if v.left <= 0 {
		return 0, v.end()
	}
	n, err := v.r.Read(p[:min(int64(len(p)), v.left)])
	v.h.Write(p[:n])
	v.left -= int64(n)
	if err == io.EOF || (err == nil && v.left == 0) {
		err = v.end()
	}
	return n, err
}

// end is the error that ends the bytes: io.EOF when they are all there,
// hash to what was announced and the recheck passed.
func (v *verified) end() error {
	if v.ended == nil {
		v.ended = io.EOF
		err := v.wait()
		var corrupt *elfdebug.CorruptDWARF
		switch {
		case errors.As(err, &corrupt):
			v.ended = err // no run again mends it
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			v.ended = err // the run was stopped: nothing changed
		case v.left != 0 || objhash.Sum(v.h) != v.want || err != nil:
			v.ended = errChanged
		}
	}
	return v.ended
}

// wait waits for the recheck, if one runs, and returns its error.
func (v *verified) wait() error {
	if v.running == nil {
		return nil
	}
	err := <-v.running
	v.running = nil
	return err
}

// Close waits for a recheck still running: it reads what the caller
// releases next.
func (v *verified) Close() error {
	v.wait()
	return v.r.Close()
}
