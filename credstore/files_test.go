package credstore_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sigv4/sigv4/credstore"
)

// nobody is the user ID that planted files belong to, when the tests run
// as root and can give them away.
const nobody = 65534

func skipWithoutUnixModes(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no Unix owners and mode bits here")
	}
}

// plant writes a file at path with mode perm (whatever the umask), owned
// by uid unless uid is -1: an empty one, or for a key file, a key the
// planter knows.
func plant(t *testing.T, path string, perm os.FileMode, uid int) {
	t.Helper()
	var data []byte
	if strings.HasSuffix(path, ".key") {
		data = []byte(base64.StdEncoding.EncodeToString(make([]byte, credstore.SealingKeySize)) + "\n")
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(path, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
}

// wantRefused opens the store at db and wants an error naming file and
// saying what to do.
func wantRefused(t *testing.T, url, file, advice string) {
	t.Helper()
	s, err := credstore.Open(t.Context(), url, nil)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded", url)
	}
	if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), advice) {
		t.Errorf("Open(%s): got %q, want it to name %s and say %q", url, err, file, advice)
	}
}

// TestPlantedStoreFiles: in a directory another user may write, a store
// file, WAL or key file that another user created first (writable by
// them, or theirs) is refused, so that they cannot read the secrets of the
// keys created after.
func TestPlantedStoreFiles(t *testing.T) {
	skipWithoutUnixModes(t)
	for _, tc := range []struct {
		name, file string
		perm       os.FileMode
		advice     string
	}{
		{"WorldWritableDatabase", "sigv4.db", 0o666, "chmod 600"},
		{"GroupWritableDatabase", "sigv4.db", 0o620, "chmod 600"},
		{"WorldWritableWAL", "sigv4.db-wal", 0o666, "chmod 600"},
		{"WorldWritableSharedMemory", "sigv4.db-shm", 0o646, "chmod 600"},
		{"GroupWritableKeyFile", "sigv4.db.key", 0o620, "chmod 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			plant(t, path, tc.perm, -1)
			wantRefused(t, filepath.Join(dir, "sigv4.db"), path, tc.advice)
		})
	}
	t.Run("OwnedByAnotherUser", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("only root can give a file to another user: run the tests as root to check ownership")
		}
		for _, file := range []string{"sigv4.db", "sigv4.db-wal", "sigv4.db.key"} {
			dir := t.TempDir()
			path := filepath.Join(dir, file)
			plant(t, path, 0o600, nobody)
			wantRefused(t, filepath.Join(dir, "sigv4.db"), path, "run as its owner")
		}
	})
}

// TestSharedDirectory: a directory others may write is refused unless it
// has the sticky bit, which stops them from replacing the store's files.
func TestSharedDirectory(t *testing.T) {
	skipWithoutUnixModes(t)
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	wantRefused(t, filepath.Join(dir, "sigv4.db"), dir, "chmod go-w")

	keys := filepath.Join(t.TempDir(), "keys")
	os.Mkdir(keys, 0o700)
	os.Chmod(keys, 0o770)
	wantRefused(t, "sqlite:"+filepath.Join(t.TempDir(), "sigv4.db")+"?keyfile="+keys+"/sigv4.key", keys, "chmod go-w")

	os.Chmod(dir, 0o777|os.ModeSticky)
	s, err := credstore.Open(t.Context(), filepath.Join(dir, "sigv4.db"), nil)
	if err != nil {
		t.Fatalf("a sticky shared directory: %v", err)
	}
	s.Close()
}

// TestStoreFilesPrivate: the files Open creates are the user's own, mode
// 0600, whatever the umask lets through.
func TestStoreFilesPrivate(t *testing.T) {
	skipWithoutUnixModes(t)
	path := filepath.Join(t.TempDir(), "sigv4.db")
	s := newStore(t, path)
	defer s.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm", path + ".key"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Error(err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", name, fi.Mode().Perm())
		}
	}
}
