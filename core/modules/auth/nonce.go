package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// NonceLen is the length of a nonce: 8 hex digits of expiry time (Unix
// seconds, big-endian, as SER's), 8 hex digits of randomness and 32 hex
// digits of HMAC-SHA256(secret, the first 16 digits) cut to 128 bits.
// SER 0.9's nonce was the expiry followed by MD5(expiry + secret); the
// ngrep sample of the admin guide shows a 48-digit nonce of the same
// shape.
const NonceLen = 48

// Errors of CheckNonce.
var (
	// ErrBadNonce: the nonce was not made with this secret (tampered,
	// truncated, or from a server with another secret).
	ErrBadNonce = errors.New("auth: invalid nonce")
)

// MakeNonce returns a fresh nonce valid until expires, signed with secret.
// Every server sharing the secret accepts it (CheckNonce): there is no
// per-server nonce state to replicate.
func MakeNonce(secret []byte, expires time.Time) string {
	var salt [4]byte
	_, _ = rand.Read(salt[:]) // crypto/rand does not fail on supported platforms
	return makeNonce(secret, expires, salt)
}

func makeNonce(secret []byte, expires time.Time, salt [4]byte) string {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(expires.Unix()))
	copy(head[4:], salt[:])
	prefix := hex.EncodeToString(head[:])
	return prefix + hex.EncodeToString(nonceMAC(secret, prefix))
}

func nonceMAC(secret []byte, prefix string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(prefix))
	return mac.Sum(nil)[:16]
}

// CheckNonce verifies that nonce was made by MakeNonce with secret and
// returns its expiry time; whether it is stale is the caller's decision.
// Hex digits of the signature are compared case-insensitively.
func CheckNonce(secret []byte, nonce string) (time.Time, error) {
	if len(nonce) != NonceLen {
		return time.Time{}, ErrBadNonce
	}
	raw, err := hex.DecodeString(nonce)
	if err != nil {
		return time.Time{}, ErrBadNonce
	}
	// The MAC is over the lowercase prefix as MakeNonce printed it.
	prefix := hex.EncodeToString(raw[:8])
	if !hmac.Equal(raw[8:], nonceMAC(secret, prefix)) {
		return time.Time{}, ErrBadNonce
	}
	return time.Unix(int64(binary.BigEndian.Uint32(raw[:4])), 0), nil
}
