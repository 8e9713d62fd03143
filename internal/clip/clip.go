// Package clip quotes values from input files in error messages without echoing them whole: a
// 1 GB cell must not become a 1 GB line on stderr.
package clip

import (
	"fmt"
	"unicode/utf8"
)

// Max is the longest prefix of a value an error message quotes.
const Max = 64

// Quote renders s quoted (as %q does), cut to a short prefix followed by its full length when it
// is longer than Max bytes.
func Quote(s string) string {
	if len(s) <= Max {
		return fmt.Sprintf("%q", s)
	}
	cut := Max
	for cut > 0 && !utf8.RuneStart(s[cut]) { // do not split a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:cut], len(s))
}
