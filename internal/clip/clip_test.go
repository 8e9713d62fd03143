package clip

import (
	"strings"
	"testing"
)

func TestQuoteCutsLongValues(t *testing.T) {
	long := strings.Repeat("9", 1<<20)
	q := Quote(long)
	if len(q) > 2*Max || !strings.Contains(q, "(1048576 bytes)") {
		t.Fatalf("quote of a long value: %d bytes: %.100s", len(q), q)
	}
	if Quote("ab") != `"ab"` {
		t.Fatal(Quote("ab"))
	}
	if q := Quote(strings.Repeat("é", 100)); !strings.HasPrefix(q, `"`+strings.Repeat("é", 32)+`"...`) {
		t.Fatalf("cut inside a rune: %s", q)
	}
}
