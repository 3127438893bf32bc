package xmpp

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// scram runs SASL SCRAM-SHA-1 (RFC 5802) without channel binding.
func (c *Conn) scram(user, pass string) error {
	nb := make([]byte, 18)
	if _, err := rand.Read(nb); err != nil {
		return err
	}
	nonce := base64.RawStdEncoding.EncodeToString(nb)
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
	first := "n=" + name + ",r=" + nonce
	if err := c.write("<auth xmlns='" + nsSASL + "' mechanism='SCRAM-SHA-1'>" +
		base64.StdEncoding.EncodeToString([]byte("n,,"+first)) + "</auth>"); err != nil {
		return err
	}
	e, err := c.Next()
	if err != nil {
		return err
	}
	if e.XMLName.Local == "failure" {
		return fmt.Errorf("%w (%s)", ErrAuth, firstChild(e))
	}
	if e.XMLName.Local != "challenge" {
		return fmt.Errorf("xmpp: unexpected <%s> during SCRAM", e.XMLName.Local)
	}
	sf, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
	if err != nil {
		return fmt.Errorf("xmpp: bad SCRAM challenge: %w", err)
	}
	final, verify, err := scramFinal(first, string(sf), nonce, pass)
	if err != nil {
		return err
	}
	if err := c.write("<response xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString([]byte(final)) + "</response>"); err != nil {
		return err
	}
	return c.saslOutcome(verify)
}

func firstChild(e *Element) string {
	if len(e.Children) > 0 {
		return e.Children[0].XMLName.Local
	}
	return ""
}

// scramFinal computes the client-final message for the server-first
// message sf and a function that checks the server's signature.
func scramFinal(clientFirstBare, sf, nonce, pass string) (string, func([]byte) error, error) {
	var rnonce, salt string
	iter := 0
	for _, f := range strings.Split(sf, ",") {
		if len(f) < 2 || f[1] != '=' {
			continue
		}
		switch f[0] {
		case 'r':
			rnonce = f[2:]
		case 's':
			salt = f[2:]
		case 'i':
			iter, _ = strconv.Atoi(f[2:])
		}
	}
	if !strings.HasPrefix(rnonce, nonce) || salt == "" || iter <= 0 {
		return "", nil, errors.New("xmpp: malformed SCRAM challenge")
	}
	s, err := base64.StdEncoding.DecodeString(salt)
	if err != nil {
		return "", nil, errors.New("xmpp: malformed SCRAM salt")
	}
	salted, err := pbkdf2.Key(sha1.New, pass, s, iter, sha1.Size)
	if err != nil {
		return "", nil, err
	}
	mac := func(k []byte, m string) []byte {
		h := hmac.New(sha1.New, k)
		h.Write([]byte(m))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha1.Sum(clientKey)
	withoutProof := "c=biws,r=" + rnonce
	authMsg := clientFirstBare + "," + sf + "," + withoutProof
	sig := mac(stored[:], authMsg)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ sig[i]
	}
	serverSig := mac(mac(salted, "Server Key"), authMsg)
	verify := func(data []byte) error {
		v, ok := strings.CutPrefix(string(data), "v=")
		if !ok {
			return errors.New("xmpp: SCRAM success without a server signature")
		}
		got, err := base64.StdEncoding.DecodeString(v)
		if err != nil || subtle.ConstantTimeCompare(got, serverSig) != 1 {
			return errors.New("xmpp: the server's SCRAM signature does not match")
		}
		return nil
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), verify, nil
}
