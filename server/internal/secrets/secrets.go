// Package secrets encrypts values at rest (repository passwords, REST credentials)
// with AES-256-GCM under a server key, and hashes bearer tokens.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
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

const prefix = "v1:"

// KeySize is the size of the server key in bytes.
const KeySize = 32

// ErrCorrupt means a stored ciphertext cannot be decrypted with this key.
var ErrCorrupt = errors.New("secrets: ciphertext cannot be decrypted with the server key")

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain. The empty string stays empty so "not set" stays visible.
func (b *Box) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secrets: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !strings.HasPrefix(sealed, prefix) {
		return "", ErrCorrupt
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrCorrupt
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrCorrupt
	}
	return string(plain), nil
}

// LoadOrCreateKey reads the key from a base64 value when given, else from the key file,
// creating the file (mode 0600) with a random key when it does not exist.
func LoadOrCreateKey(value, path string) ([]byte, error) {
	if value != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("secrets: configured key must be %d bytes of base64", KeySize)
		}
		return key, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(key) != KeySize {
			return nil, fmt.Errorf("secrets: key file %s is not %d bytes of base64", path, KeySize)
		}
		return key, nil
	case errors.Is(err, fs.ErrNotExist):
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("secrets: generate key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("secrets: create key file: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
			return nil, fmt.Errorf("secrets: write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("secrets: sync key file: %w", err)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("secrets: read key file: %w", err)
	}
}

// NewToken returns a random token with 256 bits of entropy and a readable prefix.
func NewToken(kind string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secrets: token: %w", err)
	}
	return kind + "_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 random bits, so a
// fast hash is enough: there is nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
