//go:build unix

package credstore

import (
	"io/fs"
	"syscall"
)

// unixOwners is whether files have owners and mode bits as Unix has them.
const unixOwners = true

// fileOwner returns the user ID that owns the file of fi.
func fileOwner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
