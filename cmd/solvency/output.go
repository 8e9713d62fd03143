package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
)

// The one output convention of every command (docs/json.md):
//
//   - without --json, human text on stdout, progress and warnings on stderr;
//   - with --json, exactly one JSON document on stdout: snake_case keys, an "ok" field first that
//     is true when the command succeeded, integers that may exceed 2^53 and all amounts as
//     decimal strings (JavaScript readers lose precision beyond 2^53);
//   - on exit code 2 (unusable input) with --json, the error object jsonError on stdout, so that a
//     script reading stdout always gets a document.

// jsonFlag registers the --json flag every scriptable command carries.
func jsonFlag(cmd *cobra.Command, dst *bool) {
	cmd.Flags().BoolVar(dst, "json", false, "print one JSON document on stdout (see docs/json.md)")
}

// printDocument writes v as one indented JSON document with "ok" as its first key. v must encode
// as a JSON object. A v that carries its own "ok" field (a report whose verdict is its success) is
// printed as it is, provided the two agree.
func printDocument(w io.Writer, ok bool, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("encode JSON: %T is not an object", v)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	var doc bytes.Buffer
	if own, has := keys["ok"]; has {
		if string(own) != strconv.FormatBool(ok) {
			return fmt.Errorf("encode JSON: %T says ok %s, the command %t", v, own, ok)
		}
		doc.Write(body)
	} else {
		doc.WriteString(`{"ok":` + strconv.FormatBool(ok))
		if len(keys) > 0 {
			doc.WriteByte(',')
		}
		doc.Write(body[1:])
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	out.WriteByte('\n')
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// jsonError is the document printed on stdout, with --json, when a command ends with exit code 2.
type jsonError struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// watchedWriter remembers whether anything was written through it: run prints the error object
// only on a stdout the command left empty.
type watchedWriter struct {
	w     io.Writer
	wrote bool
}

func (w *watchedWriter) Write(p []byte) (int, error) {
	w.wrote = w.wrote || len(p) > 0
	return w.w.Write(p)
}

// printJSONError writes the error object.
func printJSONError(w io.Writer, err error, code int) error {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonError{OK: false, Error: msg, ExitCode: code})
}

// wantsJSON reports whether the command that ran (or failed to parse its flags) was asked for
// --json. A flag error leaves the flag unparsed, so the arguments are read too.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if f := cmd.Flags().Lookup("json"); f != nil && f.Value.String() == "true" {
			return true
		}
	}
	return slices.Contains(args, "--json") || slices.Contains(args, "--json=true")
}

// exitCodeOf is the one place that turns an error into an exit code.
func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitErr
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitBadInput
}
