//go:build !unix

package credstore

import "io/fs"

// unixOwners is whether files have owners and mode bits as Unix has them:
// not here (Windows keeps access control lists instead).
const unixOwners = false

func fileOwner(fs.FileInfo) (uid int, ok bool) { return 0, false }
