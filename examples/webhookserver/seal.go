package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealKeyEnv is the environment variable that holds the key that seals
// account tokens at rest: 32 bytes, base64.
const sealKeyEnv = "TOKEN_SEALING_KEY"

// howToMakeKey tells the user how to make a sealing key.
const howToMakeKey = "make one with `openssl rand -base64 32` (or `head -c 32 /dev/urandom | base64`), keep it in your secret store, and export it; every replica needs the same key"

// sealer seals account tokens with AES-256-GCM. Each sealed token is a
// random 12-byte nonce followed by the ciphertext; the Linked Account id is
// the additional data, so that a sealed token copied to another row does
// not open.
type sealer struct{ aead cipher.AEAD }

// newSealer reads the key from its base64 form. It fails, without showing
// the key, when the key is missing, is not base64 or is not 32 bytes long.
func newSealer(encoded string) (*sealer, error) {
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return nil, fmt.Errorf("%s is not set: account tokens are sealed at rest with AES-256-GCM under it; %s", sealKeyEnv, howToMakeKey)
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64: %s", sealKeyEnv, howToMakeKey)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%s holds %d bytes, AES-256 needs 32: %s", sealKeyEnv, len(key), howToMakeKey)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns token sealed for the account id.
func (s *sealer) seal(id, token string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(token)+s.aead.Overhead())
	rand.Read(nonce) // never fails (crypto/rand)
	return s.aead.Seal(nonce, nonce, []byte(token), []byte(id))
}

// errUnseal is the error for a sealed token that does not open: another
// key sealed it, or it was changed or moved.
var errUnseal = errors.New("the sealed account token does not open under " + sealKeyEnv + ": another key sealed it, or it was changed")

// open returns the token sealed for the account id.
func (s *sealer) open(id string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errUnseal
	}
	token, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return "", errUnseal
	}
	return string(token), nil
}
