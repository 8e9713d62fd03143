package liabilities

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/solvency-dev/solvency/circuits/assets"
	"github.com/solvency-dev/solvency/internal/boundedfile"
	"github.com/solvency-dev/solvency/internal/clip"
)

// Limits of a snapshot.
const (
	// MaxIDLen is the longest account id in bytes (L6): three 31-byte limbs in idHash.
	MaxIDLen = 93
	// MaxAccounts bounds a snapshot so that leaf indices fit 32 bits and every running sum
	// (at most MaxAccounts * 2^64) stays far inside its 96-bit limb (L2).
	MaxAccounts = 1 << 30
	// IDColumn is the first header field.
	IDColumn = "account_id"
)

// Account is one user's row: the id exactly as in the file and its balance in every asset
// slot, in circuit units (rounded up, below 2^64).
type Account struct {
	ID       string
	Balances []uint64 // len = number of assets, slot order of the asset table
}

// ParseError names where the snapshot is wrong: the file, the 1-based line and the 1-based
// CSV column (field number, not byte offset), and the header name of that column when known.
type ParseError struct {
	File   string
	Line   int
	Column int    // 0 when the error concerns the whole line or file
	Field  string // header name of Column, when known
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	switch {
	case len(e.Field) > clip.Max: // a header cell from the file: never echoed whole
		fmt.Fprintf(&b, "%s: ", clip.Quote(e.Field))
	case e.Field != "":
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// ParseAccounts reads an accounts CSV from r, streaming, and calls each for every account in file
// order; name is used in errors. The header is `account_id,<SYMBOL>,...` with symbols from
// table in any order; a table asset without a column has balance zero. It stops at the first
// problem and returns a *ParseError: an unknown or repeated symbol, a row with the wrong number
// of fields, an empty, too long or unprintable id, a repeated id, an amount that is empty,
// negative, not a plain decimal, or past 64 bits in circuit units, a file without rows.
//
// The Balances slice handed to each is freshly allocated and may be kept. Repeated ids are
// found with a set of every id seen, which is the parser's only memory that grows with the file
// (about 100 bytes per account).
func ParseAccounts(r io.Reader, name string, table *assets.Table, each func(Account) error) error {
	p, err := newParser(r, name, table)
	if err != nil {
		return err
	}
	return p.run(each)
}

// ReadAccounts parses the accounts CSV at path (see ParseAccounts) into memory.
func ReadAccounts(path string, table *assets.Table) ([]Account, error) {
	f, err := boundedfile.Open(path, boundedfile.CSV)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Account
	err = ParseAccounts(f.Reader(), path, table, func(a Account) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type parser struct {
	name    string
	table   *assets.Table
	r       *csv.Reader
	header  []string
	slots   []int // CSV column i (i >= 1) feeds asset slot slots[i]
	seen    map[string]int
	slab    []uint64 // balances are cut from slabs to avoid one allocation per account
	nAssets int
}

func newParser(r io.Reader, name string, table *assets.Table) (*parser, error) {
	if table == nil || table.Len() == 0 {
		return nil, errors.New("parse accounts: no asset table")
	}
	cr := csv.NewReader(skipBOM(r))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // counted here, to name the line and say what was expected
	return &parser{
		name:    name,
		table:   table,
		r:       cr,
		seen:    make(map[string]int),
		nAssets: table.Len(),
	}, nil
}

// skipBOM drops a leading UTF-8 byte order mark, which spreadsheet exports often write.
func skipBOM(r io.Reader) io.Reader {
	br := &bomReader{r: r}
	return br
}

type bomReader struct {
	r    io.Reader
	done bool
	buf  []byte
}

func (b *bomReader) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		head := make([]byte, 3)
		n, err := io.ReadFull(b.r, head)
		head = head[:n]
		if !bytes.Equal(head, []byte{0xEF, 0xBB, 0xBF}) {
			b.buf = head
		}
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
	}
	if len(b.buf) > 0 {
		n := copy(p, b.buf)
		b.buf = b.buf[n:]
		return n, nil
	}
	return b.r.Read(p)
}

func (p *parser) errAt(line, col int, format string, args ...any) error {
	field := ""
	if col >= 1 && col <= len(p.header) {
		field = p.header[col-1]
	}
	return &ParseError{File: p.name, Line: line, Column: col, Field: field, Err: fmt.Errorf(format, args...)}
}

// csvErr converts encoding/csv's syntax errors (bare quotes and the like) into a ParseError.
func (p *parser) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: p.name, Line: pe.Line, Err: fmt.Errorf("CSV syntax at byte %d of the line: %w", pe.Column, pe.Err)}
	}
	return &ParseError{File: p.name, Err: fmt.Errorf("read: %w", err)}
}

func (p *parser) readHeader() error {
	rec, err := p.r.Read()
	if err == io.EOF {
		return &ParseError{File: p.name, Err: errors.New("the file is empty; want a header `account_id,<SYMBOL>,...` and one row per account")}
	}
	if err != nil {
		return p.csvErr(err)
	}
	line, _ := p.r.FieldPos(0)
	p.header = append([]string(nil), rec...)
	if rec[0] != IDColumn {
		return p.errAt(line, 1, "the first column must be %q, got %s", IDColumn, clip.Quote(rec[0]))
	}
	p.slots = make([]int, len(rec))
	bySlot := make(map[int]int, len(rec))
	for i := 1; i < len(rec); i++ {
		sym := rec[i]
		slot, ok := p.table.Index(sym)
		if !ok {
			return p.errAt(line, i+1, "unknown asset symbol %s; the asset table has %s", clip.Quote(sym), strings.Join(p.table.Symbols(), ", "))
		}
		if prev, dup := bySlot[slot]; dup {
			return p.errAt(line, i+1, "asset symbol %s repeats column %d", clip.Quote(sym), prev+1)
		}
		bySlot[slot] = i
		p.slots[i] = slot
	}
	return nil
}

// maxAmountLen bounds an amount cell: 20 integer digits, a point and 18 decimals, plus slack for
// leading zeros a spreadsheet may write.
const maxAmountLen = 64

func (p *parser) run(each func(Account) error) error {
	if err := p.readHeader(); err != nil {
		return err
	}
	rows := 0
	for {
		rec, err := p.r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.csvErr(err)
		}
		line, _ := p.r.FieldPos(0)
		if len(rec) != len(p.header) {
			// Point at the first missing field, or the first one past the header.
			col := min(len(rec), len(p.header)) + 1
			return &ParseError{File: p.name, Line: line, Column: col,
				Err: fmt.Errorf("%d fields; the header has %d", len(rec), len(p.header))}
		}
		id := rec[0]
		if err := CheckID(id); err != nil {
			return p.errAt(line, 1, "%v", err)
		}
		// ReuseRecord: the record's strings stay valid (they are not overwritten), but clone the
		// id anyway so that it does not pin the reader's line buffer in memory.
		id = strings.Clone(id)
		if first, dup := p.seen[id]; dup {
			return p.errAt(line, 1, "account id %q repeats line %d", id, first)
		}
		p.seen[id] = line
		bal := p.balances()
		for i := 1; i < len(rec); i++ {
			prec := p.table.Assets[p.slots[i]].Precision
			if len(rec[i]) > maxAmountLen {
				// Refused by length, and quoted by a prefix only: a huge cell is not echoed.
				return p.errAt(line, i+1, "amount %s is too long for an amount (at most %d characters)", clip.Quote(rec[i]), maxAmountLen)
			}
			v, err := parseLiability(rec[i], prec)
			if err != nil {
				if rec[i] == "" {
					// An empty cell is refused rather than read as zero: a broken export must
					// not quietly shrink the liabilities.
					return p.errAt(line, i+1, "empty amount; write 0 for a zero balance")
				}
				return p.errAt(line, i+1, "%v", err)
			}
			bal[p.slots[i]] = v
		}
		rows++
		if rows > MaxAccounts {
			return p.errAt(line, 0, "more than %d accounts", MaxAccounts)
		}
		if err := each(Account{ID: id, Balances: bal}); err != nil {
			return err
		}
	}
	if rows == 0 {
		return &ParseError{File: p.name, Line: 1, Err: errors.New("the file has a header but no accounts")}
	}
	return nil
}

// balances cuts a zeroed slice of nAssets from the current slab.
func (p *parser) balances() []uint64 {
	if len(p.slab) < p.nAssets {
		p.slab = make([]uint64, p.nAssets*4096)
	}
	b := p.slab[:p.nAssets:p.nAssets]
	p.slab = p.slab[p.nAssets:]
	return b
}

// CheckID says whether id can be an account id: 1 to MaxIDLen bytes (L6) of valid UTF-8, no
// control characters and no leading or trailing white space, so that a user can type it into
// the verifier exactly as it was hashed.
func CheckID(id string) error {
	if id == "" {
		return errors.New("empty account id")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("account id is %d bytes; at most %d are allowed", len(id), MaxIDLen)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("account id %q is not valid UTF-8", id)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("account id %q holds a control character", id)
		}
	}
	first, _ := utf8.DecodeRuneInString(id)
	last, _ := utf8.DecodeLastRuneInString(id)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("account id %q starts or ends with white space", id)
	}
	return nil
}
