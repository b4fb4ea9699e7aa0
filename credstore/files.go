package credstore

import (
	"fmt"
	"io/fs"
	"os"
)

// A store's files must be its user's own. In a directory other users may
// write, one of them could plant a database or a key file of theirs
// before the first start, and read every secret sealed after; or, without
// the sticky bit, replace the files later. So Open refuses a store file
// (the database, its -wal and -shm files) or a key file that another user
// owns or may write, and a directory that others may write unless it has
// the sticky bit (as /tmp has), which stops them from replacing or
// removing what is there. The files Open creates are created with mode
// 0600. Where files have no Unix owners and mode bits (Windows), these
// checks are skipped.

// checkFile refuses the file of fi, at path, if it is not a regular file,
// if another user owns it, or if its group or other users may write it.
func checkFile(what, path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("credstore: %s %s is not a regular file", what, path)
	}
	if err := checkOwner(what, path, fi); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && unixOwners {
		return fmt.Errorf("credstore: %s %s may be written by other users (mode %#o), who could have planted or changed it: if it is yours, run \"chmod 600 %s\"; if not, remove it", what, path, perm, path)
	}
	return nil
}

// checkOwner refuses the file of fi if another user owns it.
func checkOwner(what, path string, fi fs.FileInfo) error {
	uid, ok := fileOwner(fi)
	if me := os.Geteuid(); ok && uid != me {
		return fmt.Errorf("credstore: %s %s belongs to another user (uid %d; this is uid %d), who could have planted it to read the secrets sealed here: run as its owner, or remove it", what, path, uid, me)
	}
	return nil
}

// checkDir refuses a directory that its group or other users may write,
// unless it has the sticky bit.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil || !unixOwners {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("credstore: directory %s may be written by other users (mode %#o), who could replace the store's files: keep the store in a directory of your own, or run \"chmod go-w %s\"", dir, perm, dir)
	}
	return nil
}

// openPrivate creates the file at path with mode 0600 if it does not
// exist, so that no one else can create it first, then checks it with
// checkFile.
func openPrivate(what, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("credstore: opening the %s: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return checkFile(what, path, fi)
}
