//go:build unix

package boundedfile

import (
	"os"
	"syscall"
)

// openNoBlock opens path read-only without blocking: a FIFO swapped in after the check would
// otherwise hang the open until a writer came.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
