package state

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"syscall"
	"testing"

	"github.com/solvency-dev/solvency/treasury/venues"
)

func testBook(t *testing.T) *venues.Book {
	t.Helper()
	b, err := venues.NewBook([]venues.Venue{
		{ID: "safe", Kind: venues.KindWallet, Group: "safe"},
		{ID: "aave-usdc", Kind: venues.KindLending, Group: "aave", Tier: 1, Lending: &venues.LendingPool{
			Asset: "USDC", Supply: big.NewInt(1_000_000), Borrows: big.NewInt(500_000),
			Model: venues.RateModel{Slope1Bps: 400, Slope2Bps: 6000, KinkBps: 9000, ReserveFactorBps: 1000}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func startPositions() venues.Positions {
	return venues.Positions{{Venue: "safe", Asset: "USDC", Amount: big.NewInt(1000)}, {Venue: "aave-usdc", Asset: "USDC", Amount: big.NewInt(500)}}
}

// runCycles is a miniature engine loop over the store: resume where the store says, run every
// missing step, each step recorded with its effects. crash(c, stage, inTx) may kill the process.
// Every step appends a note, so a repeated step shows as a duplicate note.
func runCycles(t *testing.T, s *Store, n uint64, crash func(c uint64, st Stage, inTx bool)) {
	t.Helper()
	for {
		c, st, _, err := s.Resume()
		if err != nil {
			t.Fatal(err)
		}
		if c > n {
			return
		}
		if st == StageNone {
			if _, err := s.Begin(c); err != nil {
				t.Fatal(err)
			}
		}
		for to := st.Next(); to <= StagePublished; to++ {
			var eff Effects
			if to == StageExecuted {
				pos, err := s.Positions()
				if err != nil {
					t.Fatal(err)
				}
				eff.Positions = pos.Add("safe", "USDC", big.NewInt(-100)).Add("aave-usdc", "USDC", big.NewInt(100))
				b, err := s.Book()
				if err != nil {
					t.Fatal(err)
				}
				v, _ := b.Venue("aave-usdc")
				v.Lending.Supply.Add(v.Lending.Supply, big.NewInt(100))
				eff.Book = b
			}
			stage := to
			err := s.Advance(c, to, func(r *CycleRecord) error {
				r.Notes = append(r.Notes, fmt.Sprintf("%d/%s", c, stage))
				if stage == StagePublished {
					r.PublishTx = fmt.Sprintf("0xtx%d", c)
				}
				crash(c, stage, true)
				return nil
			}, eff)
			if err != nil {
				t.Fatal(err)
			}
			crash(c, stage, false)
		}
	}
}

func noCrash(uint64, Stage, bool) {}

func TestStagesInOrderOnce(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fresh, err := s.Init(startPositions(), testBook(t)); err != nil || !fresh {
		t.Fatalf("init %v %v", fresh, err)
	}
	if fresh, _ := s.Init(nil, testBook(t)); fresh {
		t.Fatal("a second Init overwrote the state")
	}
	if _, err := s.Begin(2); !errors.Is(err, ErrStageOrder) {
		t.Fatalf("began cycle 2 first: %v", err)
	}
	if _, err := s.Begin(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Advance(1, StageExecuted, nil, Effects{}); !errors.Is(err, ErrStageOrder) {
		t.Fatalf("skipped stages: %v", err)
	}
	if err := s.Advance(1, StageAssessed, nil, Effects{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Advance(1, StageAssessed, nil, Effects{}); !errors.Is(err, ErrStageDone) {
		t.Fatalf("repeated stage: %v", err)
	}
	if _, err := s.Begin(2); !errors.Is(err, ErrCycleOpen) {
		t.Fatalf("began a cycle over an open one: %v", err)
	}
	// A failing update writes nothing, effects included.
	boom := errors.New("boom")
	err = s.Advance(1, StageRebalanced, func(*CycleRecord) error { return boom },
		Effects{Positions: venues.Positions{{Venue: "safe", Asset: "USDC", Amount: big.NewInt(1)}}})
	if !errors.Is(err, boom) {
		t.Fatalf("update error lost: %v", err)
	}
	pos, _ := s.Positions()
	if pos.Get("safe", "USDC").Int64() != 1000 {
		t.Fatalf("a failed step changed positions: %v", pos)
	}
	if _, st, _, _ := s.Resume(); st != StageAssessed {
		t.Fatalf("resume at %s", st)
	}
}

func finalState(t *testing.T, dir string) (venues.Positions, []*CycleRecord, string) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pos, err := s.Positions()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.StartedAt, r.UpdatedAt = 0, 0
	}
	b, err := s.Book()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := b.Venue("aave-usdc")
	return pos, recs, v.Lending.Supply.String()
}

// TestCrashHelper is the child process of TestKillNineResumes: it runs cycles and kills itself
// with SIGKILL at the point given in its environment.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("STATE_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	atCycle, _ := strconv.ParseUint(os.Getenv("STATE_CRASH_CYCLE"), 10, 64)
	atStage, _ := strconv.Atoi(os.Getenv("STATE_CRASH_STAGE"))
	inTx := os.Getenv("STATE_CRASH_INTX") == "1"
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init(startPositions(), testBook(t)); err != nil {
		t.Fatal(err)
	}
	runCycles(t, s, 3, func(c uint64, st Stage, tx bool) {
		if c == atCycle && int(st) == atStage && tx == inTx {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns
		}
	})
	t.Fatal("helper finished without crashing")
}

// A run killed with SIGKILL inside any step's transaction, or right after it, resumes and ends
// in exactly the state of an uninterrupted run: no lost step, no step applied twice.
func TestKillNineResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	clean := t.TempDir()
	s, err := Open(clean)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Init(startPositions(), testBook(t)); err != nil {
		t.Fatal(err)
	}
	runCycles(t, s, 3, noCrash)
	s.Close()
	wantPos, wantRecs, wantSupply := finalState(t, clean)
	if len(wantRecs) != 3 || wantPos.Get("aave-usdc", "USDC").Int64() != 800 {
		t.Fatalf("uninterrupted run: %d records, %v", len(wantRecs), wantPos)
	}
	points := []struct {
		cycle uint64
		stage Stage
		inTx  bool
	}{{1, StageAssessed, true}, {2, StageExecuted, true}, {2, StageExecuted, false}, {2, StageProved, true}, {3, StagePublished, true}, {3, StagePublished, false}}
	for _, pt := range points {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "STATE_CRASH_DIR="+dir, fmt.Sprintf("STATE_CRASH_CYCLE=%d", pt.cycle),
			fmt.Sprintf("STATE_CRASH_STAGE=%d", pt.stage), "STATE_CRASH_INTX="+map[bool]string{true: "1", false: "0"}[pt.inTx])
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("helper at %+v did not die by SIGKILL: %v", pt, err)
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		c, st, _, err := s.Resume()
		if err != nil {
			t.Fatal(err)
		}
		// Killed inside the transaction: that step is not recorded; after it: it is.
		want := pt.stage - 1
		if !pt.inTx {
			want = pt.stage
		}
		if want == StagePublished {
			want, pt.cycle = StageNone, pt.cycle+1
		}
		if c != pt.cycle || st != want {
			t.Fatalf("killed at %+v: resume at cycle %d %s, want %d %s", pt, c, st, pt.cycle, want)
		}
		runCycles(t, s, 3, noCrash)
		s.Close()
		pos, recs, supply := finalState(t, dir)
		if !reflect.DeepEqual(pos, wantPos) || !reflect.DeepEqual(recs, wantRecs) || supply != wantSupply {
			t.Fatalf("killed at %+v: state after resume differs:\npositions %v vs %v\nsupply %s vs %s", pt, pos, wantPos, supply, wantSupply)
		}
	}
}

// publishCycle takes cycle c through every stage.
func publishCycle(t *testing.T, s *Store, c uint64) {
	t.Helper()
	if _, err := s.Begin(c); err != nil {
		t.Fatal(err)
	}
	for st := StageAssessed; st <= StagePublished; st++ {
		if err := s.Advance(c, st, func(r *CycleRecord) error { r.PublishTx = "0xabc"; return nil }, Effects{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestV6_UnpublishReopensInOrder: cycles the registry lacks are reopened, and Resume returns the
// lowest one first, so they are published again in order; only a published cycle reopens.
func TestV6_UnpublishReopensInOrder(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Init(startPositions(), testBook(t)); err != nil {
		t.Fatal(err)
	}
	publishCycle(t, s, 1)
	publishCycle(t, s, 2)
	for _, c := range []uint64{1, 2} {
		if err := s.Unpublish(c, "not on chain"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Unpublish(2, "again"); !errors.Is(err, ErrStageOrder) {
		t.Fatalf("unpublished a cycle that is not published: %v", err)
	}
	c, st, rec, err := s.Resume()
	if err != nil || c != 1 || st != StageVerified || rec.PublishTx != "" {
		t.Fatalf("resume: cycle %d at %s (%v); want cycle 1 at verified, its transaction forgotten", c, st, err)
	}
	if err := s.Advance(1, StagePublished, nil, Effects{}); err != nil {
		t.Fatal(err)
	}
	if c, st, _, _ := s.Resume(); c != 2 || st != StageVerified {
		t.Fatalf("resume: cycle %d at %s; want cycle 2 at verified", c, st)
	}
	if err := s.Advance(2, StagePublished, nil, Effects{}); err != nil {
		t.Fatal(err)
	}
	if c, st, _, _ := s.Resume(); c != 3 || st != StageNone {
		t.Fatalf("resume: cycle %d at %s; want cycle 3 not begun", c, st)
	}
}
