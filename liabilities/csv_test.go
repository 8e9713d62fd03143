package liabilities

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/solvency-dev/solvency/circuits/assets"
)

func testTable(t testing.TB) *assets.Table {
	t.Helper()
	tab, err := assets.Decode(strings.NewReader(`{"assets":[
		{"symbol":"ETH","decimals":18,"precision":8},
		{"symbol":"USDC","decimals":6,"precision":6},
		{"symbol":"WBTC","decimals":8,"precision":8}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func parseString(t testing.TB, tab *assets.Table, in string) ([]Account, error) {
	t.Helper()
	var out []Account
	err := ParseAccounts(strings.NewReader(in), "accounts.csv", tab, func(a Account) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func TestParseAccountsMapsColumnsToSlots(t *testing.T) {
	tab := testTable(t)
	// Columns in another order than the table, WBTC missing (zero), a BOM, CRLF, a quoted id,
	// an amount with more decimals than the precision (rounded up).
	in := "\ufeffaccount_id,USDC,ETH\r\nalice,1.5,0.000000001\r\n\"bob,jr\",0,2\r\n"
	got, err := parseString(t, tab, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{
		{ID: "alice", Balances: []uint64{1, 1_500_000, 0}},
		{ID: "bob,jr", Balances: []uint64{200_000_000, 0, 0}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d accounts, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !equalU64(got[i].Balances, want[i].Balances) {
			t.Errorf("account %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestParseAccountsRejects: each bad input is refused with the line and column (CSV field
// number) that is wrong, in file:line:column form.
func TestParseAccountsRejects(t *testing.T) {
	tab := testTable(t)
	long := strings.Repeat("x", MaxIDLen+1)
	cases := []struct {
		name, in   string
		line, col  int
		mentioning string
	}{
		{"empty file", "", 0, 0, "empty"},
		{"blank lines only", "\n\n", 0, 0, "empty"},
		{"header only", "account_id,ETH\n", 1, 0, "no accounts"},
		{"first column", "id,ETH\na,1\n", 1, 1, "account_id"},
		{"unknown symbol", "account_id,ETH,DOGE\na,1,2\n", 1, 3, "unknown asset symbol \"DOGE\""},
		{"repeated symbol", "account_id,ETH,USDC,ETH\na,1,2,3\n", 1, 4, "repeats column 2"},
		{"negative", "account_id,ETH,USDC\na,1,2\nb,-1,2\n", 3, 2, "negative"},
		{"NaN", "account_id,ETH\na,NaN\n", 2, 2, "not a plain decimal"},
		{"infinity", "account_id,ETH\na,Inf\n", 2, 2, "not a plain decimal"},
		{"exponent", "account_id,ETH\na,1e3\n", 2, 2, "not a plain decimal"},
		{"plus sign", "account_id,ETH\na,+1\n", 2, 2, "not a plain decimal"},
		{"space", "account_id,ETH\na, 1\n", 2, 2, "not a plain decimal"},
		{"empty amount", "account_id,USDC,ETH\na,1,\n", 2, 3, "empty amount"},
		{"past 64 bits", "account_id,USDC,ETH\na,1,184467440737.09551616\n", 2, 3, "64-bit"},
		{"past 64 bits by rounding up", "account_id,ETH\na,184467440737.095516151\n", 2, 2, "64-bit"},
		{"repeated id", "account_id,ETH\na,1\nb,2\na,3\n", 4, 1, "repeats line 2"},
		{"long id", "account_id,ETH\n" + long + ",1\n", 2, 1, "at most 93"},
		{"empty id", "account_id,ETH\n,1\n", 2, 1, "empty account id"},
		{"control in id", "account_id,ETH\n\"a\tb\",1\n", 2, 1, "control character"},
		{"spaces around id", "account_id,ETH\n\" a\",1\n", 2, 1, "white space"},
		{"too few fields", "account_id,ETH,USDC\na,1,2\nb,1\n", 3, 3, "2 fields; the header has 3"},
		{"too many fields", "account_id,ETH\na,1,2\n", 2, 3, "3 fields; the header has 2"},
		{"bare quote", "account_id,ETH\na\"b,1\n", 2, 0, "CSV syntax"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseString(t, tab, c.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if pe.File != "accounts.csv" || pe.Line != c.line || pe.Column != c.col {
				t.Errorf("at %s:%d:%d, want accounts.csv:%d:%d (%v)", pe.File, pe.Line, pe.Column, c.line, c.col, err)
			}
			if !strings.Contains(err.Error(), c.mentioning) {
				t.Errorf("error %q does not mention %q", err, c.mentioning)
			}
			if c.line > 0 && !strings.HasPrefix(err.Error(), "accounts.csv:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

// TestParseLiabilityFastPathAgrees pins the fast path to assets.ParseLiability on edge cases;
// FuzzParseLiabilityFastPath extends it to arbitrary strings.
func TestParseLiabilityFastPathAgrees(t *testing.T) {
	for _, s := range []string{"0", "-0", "00", "1", "1.5", "0.000000001", "18446744073709551615",
		"18446744073709551616", "184467440737.09551615", "184467440737.09551616", "184467440737.095516150",
		"184467440737.095516150000000001", "1.", ".5", "", "1.2.3", "12345678901234567890123456789012345678901",
		"0000000000000000000000000000000000000001", "1." + strings.Repeat("0", 40), "1." + strings.Repeat("0", 41)} {
		for _, prec := range []uint8{0, 2, 6, 8, 18} {
			checkFastPath(t, s, prec)
		}
	}
}

func checkFastPath(t *testing.T, s string, prec uint8) {
	t.Helper()
	want, wantErr := assets.ParseLiability(s, prec)
	got, gotErr := parseLiability(s, prec)
	if (wantErr == nil) != (gotErr == nil) || got != want {
		t.Fatalf("parseLiability(%q, %d) = %d, %v; assets.ParseLiability = %d, %v", s, prec, got, gotErr, want, wantErr)
	}
	if v, ok := parseFast(s, prec); ok && (wantErr != nil || v != want) {
		t.Fatalf("parseFast(%q, %d) = %d, ok; assets.ParseLiability = %d, %v", s, prec, v, want, wantErr)
	}
}

func FuzzParseLiabilityFastPath(f *testing.F) {
	for _, s := range []string{"0", "1.5", "184467440737.09551616", "-1", "1e3", "0.1234567890123456789"} {
		f.Add(s, uint8(8))
	}
	f.Fuzz(func(t *testing.T, s string, prec uint8) {
		checkFastPath(t, s, prec%(assets.MaxPrecision+1))
	})
}

// FuzzParseAccounts: the parser never panics; whatever it accepts is a valid snapshot (checked
// ids, unique, one balance per asset) and a rejection is always a *ParseError naming the file.
func FuzzParseAccounts(f *testing.F) {
	f.Add("account_id,ETH,USDC\nalice,1.5,2\nbob,0,0.000001\n")
	f.Add("account_id,WBTC\n\"q,\"\"x\",1\n")
	f.Add("account_id,ETH\na,1\na,2\n")
	f.Add("account_id,ETH,ETH\n")
	f.Add("\ufeffaccount_id\r\nz\r\n")
	f.Add("account_id,ETH\na,-0\nb,1e5\n")
	tab := testTable(f)
	f.Fuzz(func(t *testing.T, in string) {
		seen := map[string]bool{}
		err := ParseAccounts(strings.NewReader(in), "f.csv", tab, func(a Account) error {
			if err := CheckID(a.ID); err != nil {
				t.Fatalf("accepted a bad id: %v", err)
			}
			if seen[a.ID] {
				t.Fatalf("accepted a repeated id %q", a.ID)
			}
			seen[a.ID] = true
			if len(a.Balances) != tab.Len() {
				t.Fatalf("%d balances", len(a.Balances))
			}
			return nil
		})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "f.csv" {
				t.Fatalf("error %v is not a *ParseError naming the file", err)
			}
			return
		}
		if len(seen) == 0 {
			t.Fatal("accepted a file without accounts")
		}
	})
}

func TestGenerateIsDeterministicAndParses(t *testing.T) {
	tab := testTable(t)
	gen := func(seed uint64) string {
		var b strings.Builder
		if err := Generate(&b, tab, GenerateOptions{Users: 3000, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a, b, c := gen(7), gen(7), gen(8)
	if a != b {
		t.Fatal("the same seed gave different files")
	}
	if a == c {
		t.Fatal("different seeds gave the same file")
	}
	accts, err := parseString(t, tab, a)
	if err != nil {
		t.Fatalf("generated file does not parse: %v", err)
	}
	if len(accts) != 3000 {
		t.Fatalf("%d accounts", len(accts))
	}
	// Realistic: many zeros in every asset, a heavy tail (the largest balance far above the
	// median holder's), and both id styles.
	uuids := 0
	for _, a := range accts {
		if !strings.HasPrefix(a.ID, "user-") {
			uuids++
		}
	}
	if uuids < 300 || uuids > 1500 {
		t.Errorf("%d uuid-like ids of 3000", uuids)
	}
	for slot := range tab.Len() {
		zeros := 0
		var nz []uint64
		for _, a := range accts {
			if a.Balances[slot] == 0 {
				zeros++
			} else {
				nz = append(nz, a.Balances[slot])
			}
		}
		if zeros < 3000/5 {
			t.Errorf("slot %d: only %d zero balances", slot, zeros)
		}
		maxV, sum := uint64(0), new(big.Int)
		for _, v := range nz {
			maxV = max(maxV, v)
			sum.Add(sum, new(big.Int).SetUint64(v))
		}
		mean := new(big.Int).Div(sum, big.NewInt(int64(len(nz))))
		if new(big.Int).SetUint64(maxV).Cmp(new(big.Int).Mul(mean, big.NewInt(20))) < 0 {
			t.Errorf("slot %d: largest balance %d is not far above the mean %s: no heavy tail", slot, maxV, mean)
		}
	}
}
