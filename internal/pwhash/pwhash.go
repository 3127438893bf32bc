// Package pwhash reads a configured password that may be given as its
// SHA-256 digest ({SHA256}…). The options (core) check it when the config
// is read and the XML-RPC bridge compares digests, so it sits below both.
package pwhash

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Prefix marks a password given as its SHA-256 digest.
const Prefix = "{SHA256}"

// Parse returns the SHA-256 digest of a configured password
// (xmlrpc_password): "{SHA256}" followed by the digest in hex (64
// digits, as sha256sum prints it) or base64 (44 characters, OpenLDAP's
// {SHA256} form), or else the plain password, hashed here. So no
// plain-text secret need be at rest in ser.cfg.
func Parse(pw string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	v, hashed := strings.CutPrefix(pw, Prefix)
	if !hashed {
		return sha256.Sum256([]byte(pw)), nil
	}
	v = strings.TrimSpace(v)
	var b []byte
	var err error
	if len(v) == 2*sha256.Size {
		b, err = hex.DecodeString(v)
	} else {
		b, err = base64.StdEncoding.DecodeString(v)
	}
	if err != nil || len(b) != sha256.Size {
		return d, fmt.Errorf("%s must be followed by the SHA-256 digest of the password, in hex (64 digits: printf %%s 'password' | sha256sum) or base64 (44 characters)", Prefix)
	}
	copy(d[:], b)
	return d, nil
}
