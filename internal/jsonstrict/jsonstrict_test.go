package jsonstrict

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Answer string `json:"answer"`
	Note   string `json:"note,omitempty"`
}

type doc struct {
	Cycle     uint64            `json:"cycle"`
	Precision int               `json:"precision"`
	Prices    []inner           `json:"prices"`
	Totals    map[string]string `json:"totals"`
	Comment   string            `json:"comment" jsonstrict:"optional"`
	Ptr       *inner            `json:"ptr,omitempty"`
	embedded
}

type embedded struct {
	Path string `json:"proof"`
}

const good = `{
  "cycle": 7,
  "precision": 6,
  "prices": [{"answer": "1"}],
  "totals": {"ETH": "2"},
  "proof": "p"
}`

func TestAcceptsAStrictDocument(t *testing.T) {
	var d doc
	if err := Unmarshal("f.json", []byte(good), &d); err != nil {
		t.Fatal(err)
	}
	if d.Cycle != 7 || d.Precision != 6 || d.Prices[0].Answer != "1" || d.Totals["ETH"] != "2" || d.Path != "p" {
		t.Fatalf("decoded %+v", d)
	}
}

func refuse(t *testing.T, raw string, wantKey, wantMsg string, wantLine, wantCol int) {
	t.Helper()
	var d doc
	err := Unmarshal("f.json", []byte(raw), &d)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("accepted or wrong error type: %v", err)
	}
	if e.File != "f.json" || e.Key != wantKey || !strings.Contains(e.Error(), wantMsg) {
		t.Fatalf("error %q: want key %q and %q", err, wantKey, wantMsg)
	}
	if wantLine > 0 && (e.Line != wantLine || e.Col != wantCol) {
		t.Fatalf("error %q at %d:%d, want %d:%d", err, e.Line, e.Col, wantLine, wantCol)
	}
}

func TestV3_DuplicateKeyRefused(t *testing.T) {
	refuse(t, strings.Replace(good, `"cycle": 7,`, `"cycle": 7, "cycle": 8,`, 1), "cycle", "duplicate key", 2, 15)
	refuse(t, strings.Replace(good, `{"ETH": "2"}`, `{"ETH": "2", "ETH": "3"}`, 1), "totals.ETH", "duplicate key", 5, 26)
	refuse(t, strings.Replace(good, `{"answer": "1"}`, `{"answer": "1", "answer": "9"}`, 1), "prices[0].answer", "duplicate key", 0, 0)
}

func TestV3_CaseVariantKeyRefused(t *testing.T) {
	refuse(t, strings.Replace(good, `"cycle": 7,`, `"Cycle": 7,`, 1), "Cycle", "case-sensitive", 2, 3)
	refuse(t, strings.Replace(good, `"cycle": 7,`, `"cycle": 7, "CYCLE": 7,`, 1), "CYCLE", "only in case", 0, 0)
	refuse(t, strings.Replace(good, `{"ETH": "2"}`, `{"ETH": "2", "eth": "3"}`, 1), "totals.eth", "only in case", 0, 0)
	// encoding/json folds the Kelvin sign with k.
	var m map[string]int
	if err := Unmarshal("m.json", []byte(`{"k": 1, "`+"\u212a"+`": 2}`), &m); err == nil || !strings.Contains(err.Error(), "only in case") {
		t.Fatalf("Kelvin sign: %v", err)
	}
}

func TestV3_UnknownFieldSuggestsNearest(t *testing.T) {
	refuse(t, strings.Replace(good, `"precision"`, `"precison"`, 1), "precison", `did you mean "precision"`, 3, 3)
	refuse(t, strings.Replace(good, `"proof": "p"`, `"proof": "p", "zzzzzzzzzz": 1`, 1), "zzzzzzzzzz", "known fields: comment, cycle", 0, 0)
}

func TestV3_MissingRequiredFieldRefused(t *testing.T) {
	refuse(t, strings.Replace(good, `"precision": 6,`, ``, 1), "precision", "required field is missing", 1, 1)
	refuse(t, strings.Replace(good, `{"answer": "1"}`, `{}`, 1), "prices[0].answer", "required field is missing", 4, 14)
	refuse(t, strings.Replace(good, `"precision": 6,`, `"precision": null,`, 1), "precision", "may not be null", 3, 16)
	refuse(t, strings.Replace(good, `{"ETH": "2"}`, `{"ETH": null}`, 1), "totals.ETH", "null is not a value here", 0, 0)
}

func TestV3_TrailingDataRefused(t *testing.T) {
	refuse(t, good+" garbage", "", "trailing data", 7, 3)
	refuse(t, good+"{}", "", "trailing data", 0, 0)
}

func TestV3_NullAndEmptyRefused(t *testing.T) {
	refuse(t, "null", "", "the document is null", 1, 1)
	refuse(t, "  \n", "", "empty document", 0, 0)
	var m map[string]string
	if err := Unmarshal("m.json", []byte(" null "), &m); err == nil || !strings.Contains(err.Error(), "m.json:1:2") {
		t.Fatalf("null map: %v", err)
	}
}

func TestTypeErrorIsLocated(t *testing.T) {
	refuse(t, strings.Replace(good, `"cycle": 7`, `"cycle": "7"`, 1), "cycle", "want uint64", 2, 15)
}

func TestSyntaxErrorIsLocated(t *testing.T) {
	var d doc
	err := Unmarshal("f.json", []byte("{\n  \"cycle\": 7,,\n}"), &d)
	if err == nil || !strings.HasPrefix(err.Error(), "f.json:2:") {
		t.Fatalf("syntax error: %v", err)
	}
}

// FuzzUnmarshal: never panics, and whatever it accepts decodes with encoding/json to the same.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"cycle":1,"cycle":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d doc
		if Unmarshal("f.json", raw, &d) != nil {
			return
		}
		var e doc
		if err := json.Unmarshal(raw, &e); err != nil || !reflect.DeepEqual(d, e) {
			t.Fatalf("accepted %q, which encoding/json reads as %+v (%v), not %+v", raw, e, err, d)
		}
	})
}
