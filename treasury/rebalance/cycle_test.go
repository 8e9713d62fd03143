package rebalance_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/rebalance"
	"github.com/solvency-dev/solvency/treasury/state"
)

// runEngine is a template of the engine's cycle over these packages (prove, verify and publish
// are the pipeline's and are stubbed): each stage is recorded with its effects in one store
// transaction, and a resumed run re-enters at the first unrecorded stage, reusing what earlier
// stages recorded (the prices, the trades), so a restart never re-plans or re-trades.
// stopAfter (cycle, stage) returns early, as a crash would.
func runEngine(t *testing.T, s *sample, dir string, cycles uint64, stopAfter func(uint64, state.Stage) bool) {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Init(s.pos, s.book); err != nil {
		t.Fatal(err)
	}
	src := market.SyntheticSource{Market: s.mkt}
	ab, err := execute.LoadAddressBook(filepath.Join(sampleDir, "addressbook.json"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		c, stage, rec, err := st.Resume()
		if err != nil {
			t.Fatal(err)
		}
		if c > cycles {
			return
		}
		if stage == state.StageNone {
			if rec, err = st.Begin(c); err != nil {
				t.Fatal(err)
			}
		}
		for next := stage.Next(); next <= state.StagePublished; next++ {
			pos, err := st.Positions()
			if err != nil {
				t.Fatal(err)
			}
			book, err := st.Book()
			if err != nil {
				t.Fatal(err)
			}
			var eff state.Effects
			var update func(*state.CycleRecord) error
			switch next {
			case state.StageAssessed:
				snap, err := src.Snapshot(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				if err := snap.Validate(snap.Assets()); err != nil {
					t.Fatal(err)
				}
				// A day of interest, staking yield and funding before the cycle's decisions.
				accrued, _, err := book.Accrue(pos, 86400, s.assets, snap)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := s.checker.Check(rebalance.Portfolio{Positions: accrued, Prices: snap, Liabilities: s.liab})
				if err != nil {
					t.Fatal(err)
				}
				risk, _ := json.Marshal(rep)
				eff = state.Effects{Positions: accrued, Book: book}
				update = func(r *state.CycleRecord) error {
					r.Prices, r.PositionsBefore, r.Risk = snap, accrued, risk
					return nil
				}
			case state.StageRebalanced:
				plan, err := s.rebalancer(t, nil).Plan(rebalance.Input{Book: book, Portfolio: rebalance.Portfolio{Positions: pos, Prices: rec.Prices, Liabilities: s.liab}})
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := json.Marshal(plan)
				update = func(r *state.CycleRecord) error {
					r.Plan, r.Trades = raw, plan.Trades
					if err := plan.Err(); err != nil {
						r.Notes = append(r.Notes, err.Error())
					}
					return nil
				}
			case state.StageExecuted:
				after, fills, err := s.exec.Execute(book, pos, rec.Prices, rec.Trades)
				if err != nil {
					t.Fatal(err)
				}
				batch, err := execute.SafeBatch(book, ab, fills, fmt.Sprintf("cycle %d", c), "rebalance", time.Unix(rec.Prices.Time, 0))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, fmt.Sprintf("cycle-%d.safe.json", c))
				if err := execute.WriteSafeBatch(path, batch); err != nil {
					t.Fatal(err)
				}
				eff = state.Effects{Positions: after, Book: book}
				update = func(r *state.CycleRecord) error {
					r.Fills, r.PositionsAfter, r.SafeBatchPath = fills, after, path
					return nil
				}
			default: // proved, verified, published: the pipeline's stages
				update = func(r *state.CycleRecord) error {
					if next == state.StagePublished {
						r.PublishTx = fmt.Sprintf("0xstub%d", c)
					}
					return nil
				}
			}
			if err := st.Advance(c, next, update, eff); err != nil {
				t.Fatal(err)
			}
			if rec, err = st.Record(c); err != nil {
				t.Fatal(err)
			}
			if stopAfter(c, next) {
				return
			}
		}
	}
}

func engineState(t *testing.T, dir string) ([]*state.CycleRecord, string) {
	t.Helper()
	st, err := state.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Records()
	if err != nil {
		t.Fatal(err)
	}
	pos, err := st.Positions()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.StartedAt, r.UpdatedAt, r.SafeBatchPath = 0, 0, ""
	}
	raw, _ := json.Marshal(pos)
	return recs, string(raw)
}

// Three cycles over the crash, the depeg and the recovery; a run stopped after any stage and
// resumed ends where an uninterrupted run ends.
func TestCycleTemplateResumes(t *testing.T) {
	s := loadSample(t)
	clean := t.TempDir()
	runEngine(t, s, clean, 3, func(uint64, state.Stage) bool { return false })
	want, wantPos := engineState(t, clean)
	if len(want) != 3 {
		t.Fatalf("%d cycle records", len(want))
	}
	for _, r := range want {
		if r.Stage != state.StagePublished || r.PositionsAfter == nil {
			t.Fatalf("cycle %d ended at %s", r.Cycle, r.Stage)
		}
		t.Logf("cycle %d: %d trades, notes %v", r.Cycle, len(r.Trades), r.Notes)
	}
	for _, stop := range []struct {
		c  uint64
		st state.Stage
	}{{1, state.StageAssessed}, {2, state.StageRebalanced}, {2, state.StageExecuted}, {3, state.StageProved}} {
		dir := t.TempDir()
		stopped := false
		runEngine(t, loadSample(t), dir, 3, func(c uint64, st state.Stage) bool {
			if !stopped && c == stop.c && st == stop.st {
				stopped = true
				return true
			}
			return false
		})
		runEngine(t, loadSample(t), dir, 3, func(uint64, state.Stage) bool { return false })
		got, gotPos := engineState(t, dir)
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if string(a) != string(b) || gotPos != wantPos {
			t.Fatalf("stopped after cycle %d %s: resumed state differs", stop.c, stop.st)
		}
	}
	// A fresh Begin over an unfinished cycle is refused.
	st, err := state.Open(filepath.Join(clean, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Begin(5); !errors.Is(err, state.ErrStageOrder) {
		t.Fatalf("began cycle 5 after 3: %v", err)
	}
}
