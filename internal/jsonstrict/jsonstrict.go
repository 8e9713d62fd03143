// Package jsonstrict decodes one JSON document strictly, for every input file the project reads.
//
// encoding/json alone accepts documents that silently change results: a duplicate key (the last
// one wins), a key that differs from the field's name only in case (matched case-insensitively),
// an unknown or misspelled key (ignored), a missing field (left at zero), a top-level null (the
// target left untouched) and trailing data (with a Decoder). Unmarshal refuses all of them, and
// every error names the file, the line and column, and the key.
//
// Field rules, for struct targets:
//   - keys match a field's JSON name exactly;
//   - every field is required unless its json tag says omitempty or omitzero (the writer may
//     leave it out, so its zero value is its documented default) or it carries the tag
//     `jsonstrict:"optional"` (say its default in the field's comment);
//   - a required field may not be null.
//
// A type with its own UnmarshalJSON is opaque to the field rules (its method checks its own
// shape); duplicate and case-variant keys are refused inside it all the same.
package jsonstrict

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/solvency-dev/solvency/internal/clip"
)

// Error is a refusal, located in its file.
type Error struct {
	File      string // the file's name as the caller gave it
	Line, Col int    // 1-based; 0 when the position is unknown
	Key       string // the key's path, e.g. statement.prices[1].answer; empty for the document
	Msg       string
	Err       error // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %s: ", Quote(e.Key))
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Quote renders a key or value for an error message, cut to a short prefix when long.
func Quote(s string) string { return clip.Quote(s) }

// optionalTag marks a struct field that may be absent (its zero value is its default).
const optionalTag = "optional"

// Unmarshal decodes raw, the whole content of file, into v (a non-nil pointer) strictly.
func Unmarshal(file string, raw []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &Error{File: file, Msg: fmt.Sprintf("internal: decode target %T is not a non-nil pointer", v)}
	}
	w := &walker{file: file, raw: raw, dec: json.NewDecoder(bytes.NewReader(raw))}
	w.dec.UseNumber()
	start := w.next()
	tok, err := w.dec.Token()
	if err == io.EOF {
		return w.errAt(start, "", "empty document: want a JSON value")
	}
	if err != nil {
		return w.syntax(err)
	}
	if tok == nil {
		return w.errAt(start, "", "the document is null: want a JSON value")
	}
	if err := w.value(tok, start, "", rv.Type().Elem()); err != nil {
		return err
	}
	end := w.next()
	if _, err := w.dec.Token(); err != io.EOF {
		return w.errAt(end, "", "trailing data after the JSON value")
	}
	// The token pass has checked keys, nulls and presence; encoding/json now fills v. Unknown
	// fields stay refused here too, for types the walker treats as opaque.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return w.decodeErr(err)
	}
	return nil
}

type walker struct {
	file string
	raw  []byte
	dec  *json.Decoder
}

// next is the offset of the next token's first byte (past whitespace, ':' and ',').
func (w *walker) next() int64 {
	off := w.dec.InputOffset()
	for off < int64(len(w.raw)) {
		switch w.raw[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func (w *walker) pos(off int64) (line, col int) {
	if off > int64(len(w.raw)) {
		off = int64(len(w.raw))
	}
	before := w.raw[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

func (w *walker) errAt(off int64, key, msg string) error {
	line, col := w.pos(off)
	return &Error{File: w.file, Line: line, Col: col, Key: key, Msg: msg}
}

func (w *walker) syntax(err error) error {
	var se *json.SyntaxError
	off := w.dec.InputOffset()
	if errors.As(err, &se) {
		off = se.Offset
	}
	line, col := w.pos(off)
	if err == io.ErrUnexpectedEOF {
		return &Error{File: w.file, Line: line, Col: col, Msg: "unexpected end of the document", Err: err}
	}
	return &Error{File: w.file, Line: line, Col: col, Msg: "invalid JSON: " + err.Error(), Err: err}
}

func (w *walker) decodeErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := w.pos(te.Offset)
		return &Error{File: w.file, Line: line, Col: col, Key: te.Field,
			Msg: fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value), Err: err}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return w.syntax(err)
	}
	// An UnmarshalJSON method's own refusal carries no offset; name the document.
	return &Error{File: w.file, Msg: err.Error(), Err: err}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// opaque reports whether t decodes itself, so its shape is not the walker's to check.
func opaque(t reflect.Type) bool {
	if t == nil {
		return true
	}
	if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return true
	}
	return t.Kind() == reflect.Interface
}

func textual(t reflect.Type) bool {
	return t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// value walks the value that starts with tok (already read, at offset start) against type t
// (nil: any shape).
func (w *walker) value(tok json.Token, start int64, key string, t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	_, isString := tok.(string)
	if t != nil && t.Kind() != reflect.Interface && (opaque(t) || isString && textual(t)) {
		// Walk it for keys, then let its own method judge it here, where the value's position
		// is known (encoding/json reports a method's error without one).
		if err := w.value(tok, start, key, nil); err != nil {
			return err
		}
		sub := w.raw[start:w.dec.InputOffset()]
		if err := json.Unmarshal(sub, reflect.New(t).Interface()); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return w.errAt(start, key, fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value))
			}
			return w.errAt(start, key, err.Error())
		}
		return nil
	}
	if t != nil && opaque(t) {
		t = nil
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: encoding/json checks its type
	}
	switch d {
	case '{':
		return w.object(start, key, t)
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) &&
			!t.Implements(textUnmarshaler) && !reflect.PointerTo(t).Implements(textUnmarshaler) {
			elem = t.Elem()
		}
		for i := 0; ; i++ {
			off := w.next()
			tok, err := w.dec.Token()
			if err != nil {
				return w.syntax(err)
			}
			if tok == json.Delim(']') {
				return nil
			}
			k := fmt.Sprintf("%s[%d]", key, i)
			if tok == nil && elem != nil && !nullable(elem) {
				return w.errAt(off, k, "null is not a value here")
			}
			if err := w.value(tok, off, k, elem); err != nil {
				return err
			}
		}
	}
	return w.errAt(start, key, fmt.Sprintf("unexpected %v", d))
}

// nullable reports whether encoding/json gives null a meaning for t (nil), rather than leaving
// a zero value behind that reads like a real one.
func nullable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		return true
	}
	return opaque(t)
}

func (w *walker) object(start int64, key string, t reflect.Type) error {
	var fields map[string]field
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = structFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	folded := map[string]string{}
	for {
		koff := w.next()
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax(err)
		}
		if tok == json.Delim('}') {
			break
		}
		name, ok := tok.(string)
		if !ok {
			return w.errAt(koff, key, "want a key")
		}
		path := name
		if key != "" {
			path = key + "." + name
		}
		if seen[name] {
			return w.errAt(koff, path, "duplicate key (each key may appear once)")
		}
		seen[name] = true
		low := foldKey(name)
		if prev, ok := folded[low]; ok {
			return w.errAt(koff, path, fmt.Sprintf("differs from key %s only in case; keys are case-sensitive", Quote(prev)))
		}
		folded[low] = name
		voff := w.next()
		vtok, err := w.dec.Token()
		if err != nil {
			return w.syntax(err)
		}
		var vt reflect.Type
		switch {
		case fields != nil:
			f, ok := fields[name]
			if !ok {
				return w.errAt(koff, path, unknownMsg(name, fields))
			}
			vt = f.typ
			if vtok == nil && !f.optional {
				return w.errAt(voff, path, "the field is required and may not be null")
			}
		case elem != nil:
			vt = elem
			if vtok == nil && !nullable(elem) {
				return w.errAt(voff, path, "null is not a value here")
			}
		}
		if err := w.value(vtok, voff, path, vt); err != nil {
			return err
		}
	}
	var missing []string
	for name, f := range fields {
		if !f.optional && !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		k := missing[0]
		if key != "" {
			k = key + "." + k
		}
		msg := "required field is missing"
		if len(missing) > 1 {
			msg = fmt.Sprintf("required fields are missing: %s", strings.Join(missing, ", "))
		}
		return w.errAt(start, k, msg)
	}
	return nil
}

// foldKey maps a key to one representative of its case-folding class, the equivalence under
// which encoding/json matches keys to fields (so "K" with a Kelvin sign folds with "k").
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

type field struct {
	typ      reflect.Type
	optional bool
}

// structFields lists t's JSON fields as encoding/json sees them (embedded structs promoted).
func structFields(t reflect.Type) map[string]field {
	out := map[string]field{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				et := sf.Type
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			optional := sf.Tag.Get("jsonstrict") == optionalTag
			for _, o := range strings.Split(opts, ",") {
				if o == "omitempty" || o == "omitzero" {
					optional = true
				}
			}
			if _, dup := out[name]; !dup {
				out[name] = field{typ: sf.Type, optional: optional}
			}
		}
	}
	walk(t)
	return out
}

func unknownMsg(name string, fields map[string]field) string {
	best, bestD := "", -1
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return fmt.Sprintf("unknown field; keys are case-sensitive: did you mean %s?", Quote(n))
		}
		if d := distance(strings.ToLower(name), strings.ToLower(n)); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" && bestD <= max(2, len(best)/3) {
		return fmt.Sprintf("unknown field; did you mean %s?", Quote(best))
	}
	return fmt.Sprintf("unknown field; known fields: %s", strings.Join(names, ", "))
}

// distance is the Levenshtein distance between a and b (bytes), bounded in cost by the short
// keys it is used for.
func distance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
