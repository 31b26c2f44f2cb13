package tf

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxFileSize bounds the files that are read; larger files are skipped.
const MaxFileSize = 1 << 20

// errNotRegular is returned for a path that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// ReadRegular reads a regular file of at most max bytes. A FIFO, device,
// socket or a symlink to one is refused without blocking: the file is
// opened non-blocking and checked with fstat before it is read, so that a
// FIFO named Procfile cannot hang the run and a symlink to /dev/zero
// cannot exhaust memory.
func ReadRegular(name string, max int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, errNotRegular, fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	// The size can grow between fstat and read; the limit holds anyway.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return b, nil
}
