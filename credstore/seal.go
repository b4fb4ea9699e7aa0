package credstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SealingKeySize is the size of a sealing key: AES-256.
const SealingKeySize = 32

// sealVersion is the first byte of a sealed value: the format
// version || nonce || AES-256-GCM ciphertext and tag.
const sealVersion = 1

// sealer seals secrets and session tokens. The additional data binds a
// sealed value to what it is and to its access key.
type sealer struct {
	aead        cipher.AEAD
	fingerprint string // identifies the key without revealing it
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != SealingKeySize {
		return nil, fmt.Errorf("credstore: sealing key is %d bytes, want %d", len(key), SealingKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("sigv4 credstore sealing key fingerprint"))
	return &sealer{aead: aead, fingerprint: hex.EncodeToString(mac.Sum(nil)[:16])}, nil
}

func sealingAD(kind, accessKeyID string) []byte {
	return []byte("sigv4 credstore v1\x00" + kind + "\x00" + accessKeyID)
}

func (s *sealer) seal(kind, accessKeyID, plaintext string) []byte {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return s.aead.Seal(out, out[1:], []byte(plaintext), sealingAD(kind, accessKeyID))
}

var errUnseal = errors.New("credstore: a sealed value does not open: corrupt, moved to another key, or sealed with another key")

func (s *sealer) open(kind, accessKeyID string, sealed []byte) (string, error) {
	n := 1 + s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() || sealed[0] != sealVersion {
		return "", errUnseal
	}
	p, err := s.aead.Open(nil, sealed[1:n], sealed[n:], sealingAD(kind, accessKeyID))
	if err != nil {
		return "", errUnseal
	}
	return string(p), nil
}

// loadSealingKey reads the key file at path, or creates it if it does not
// exist, and binds the backend to it.
func loadSealingKey(ctx context.Context, path string, b Backend) (*sealer, error) {
	if err := checkDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	s, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(ctx, path, b)
	}
	if err != nil {
		return nil, err
	}
	if err := b.BindSealingKey(ctx, s.fingerprint); err != nil {
		if errors.Is(err, ErrWrongSealingKey) {
			return nil, fmt.Errorf("%w: key file %s is not the one the store was created with; pass the right one with ?keyfile=PATH", err, path)
		}
		return nil, err
	}
	return s, nil
}

func readKeyFile(path string) (*sealer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("credstore: key file %s is not a regular file", path)
	}
	if err := checkOwner("key file", path, fi); err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && unixOwners {
		return nil, fmt.Errorf("credstore: key file %s may be read or written by other users (mode %#o): run \"chmod 600 %s\"", path, perm, path)
	}
	var buf [128]byte
	n, _ := f.Read(buf[:])
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(buf[:n])))
	if err != nil || len(key) != SealingKeySize {
		return nil, fmt.Errorf("credstore: key file %s does not hold a %d-byte base64 key", path, SealingKeySize)
	}
	return newSealer(key)
}

// createKeyFile makes a new sealing key and publishes it at path
// atomically, so that two processes opening a new store agree on one key.
// If the backend was bound to another key, the new file is removed: the
// original is missing, and the secrets cannot be opened without it.
func createKeyFile(ctx context.Context, path string, b Backend) (*sealer, error) {
	key := make([]byte, SealingKeySize)
	rand.Read(key)
	s, _ := newSealer(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("credstore: creating the key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600) // CreateTemp makes 0600 already; say it
	if err == nil {
		_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path) // fails if another process won the race
	}
	if errors.Is(err, fs.ErrExist) {
		return loadSealingKey(ctx, path, b)
	}
	if err != nil {
		return nil, fmt.Errorf("credstore: creating the key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	if err := b.BindSealingKey(ctx, s.fingerprint); err != nil {
		os.Remove(path)
		if errors.Is(err, ErrWrongSealingKey) {
			return nil, fmt.Errorf("%w: key file %s is missing; restore it, or pass its path with ?keyfile=PATH", err, path)
		}
		return nil, err
	}
	return s, nil
}

// syncDir makes a new directory entry durable, where the system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
