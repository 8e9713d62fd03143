package poseidon

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Hex renders e as 0x followed by 64 lowercase hex digits, big-endian: the only form field
// elements take in files.
func Hex(e fr.Element) string {
	b := e.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}

// ParseHex parses the form Hex writes and nothing else: a value >= p is an error, never reduced
// (V3).
func ParseHex(s string) (fr.Element, error) {
	var e fr.Element
	if !strings.HasPrefix(s, "0x") {
		return e, fmt.Errorf("field element %q: want 0x followed by 64 hex digits", s)
	}
	body := s[2:]
	if len(body) != 64 {
		return e, fmt.Errorf("field element %q: want 64 hex digits, got %d", s, len(body))
	}
	if strings.ToLower(body) != body {
		return e, fmt.Errorf("field element %q: hex digits must be lowercase", s)
	}
	raw, err := hex.DecodeString(body)
	if err != nil {
		return e, fmt.Errorf("field element %q: %w", s, err)
	}
	v := new(big.Int).SetBytes(raw)
	if v.Cmp(fr.Modulus()) >= 0 {
		return e, fmt.Errorf("field element %q is not below the BN254 scalar field modulus", s)
	}
	e.SetBigInt(v)
	return e, nil
}

// Element is a field element that marshals to and from its canonical hex form in JSON. It
// defines MarshalJSON and UnmarshalJSON itself: the embedded fr.Element's JSON methods (decimal,
// reducing values >= p) would otherwise be promoted and win over the text methods (V3).
type Element struct{ fr.Element }

// MarshalText implements encoding.TextMarshaler.
func (e Element) MarshalText() ([]byte, error) { return []byte(Hex(e.Element)), nil }

// UnmarshalText implements encoding.TextUnmarshaler with canonical checks.
func (e *Element) UnmarshalText(b []byte) error {
	v, err := ParseHex(string(b))
	if err != nil {
		return err
	}
	e.Element = v
	return nil
}

// MarshalJSON writes the canonical hex string. It must exist: fr.Element's own MarshalJSON
// (decimal) is promoted through the embedding and encoding/json prefers it to MarshalText.
func (e Element) MarshalJSON() ([]byte, error) { return json.Marshal(Hex(e.Element)) }

// UnmarshalJSON accepts only a JSON string in the canonical hex form (V3). Without it the
// promoted fr.Element.UnmarshalJSON would accept numbers, decimals, uppercase hex and values
// >= p, reducing them mod p.
func (e *Element) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("field element: want a JSON string 0x followed by 64 hex digits, got %.80s", b)
	}
	return e.UnmarshalText([]byte(s))
}
