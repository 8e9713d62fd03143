// Package state is the treasury engine's persisted state: current positions and venue state,
// the cycle counter, and one record per cycle with the stage it has reached. It lives in an
// embedded bbolt store in the state directory. Every step is one bbolt transaction that writes
// the step's results together with the stage marker, so a cycle killed at any point (kill -9)
// resumes at the first step not recorded: no step is lost, none is applied twice.
package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/solvency-dev/solvency/treasury/execute"
	"github.com/solvency-dev/solvency/treasury/market"
	"github.com/solvency-dev/solvency/treasury/venues"
)

// Stage is how far a cycle has got. Stages are strictly ordered; each is recorded once.
type Stage int

// The stages of a cycle, in order.
const (
	StageNone       Stage = iota // begun, nothing recorded yet
	StageAssessed                // prices read and checked, risk assessed
	StageRebalanced              // plan computed
	StageExecuted                // trades executed; positions updated
	StageProved                  // proof and bundle written
	StageVerified                // bundle verified
	StagePublished               // attestation published; the cycle is complete
)

func stageNames() []string {
	return []string{"begun", "assessed", "rebalanced", "executed", "proved", "verified", "published"}
}

func (s Stage) String() string {
	names := stageNames()
	if s < 0 || int(s) >= len(names) {
		return fmt.Sprintf("stage(%d)", int(s))
	}
	return names[s]
}

// MarshalText writes the stage's name.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a stage's name.
func (s *Stage) UnmarshalText(b []byte) error {
	for i, n := range stageNames() {
		if n == string(b) {
			*s = Stage(i)
			return nil
		}
	}
	return fmt.Errorf("unknown stage %q", b)
}

// Next returns the stage after s.
func (s Stage) Next() Stage { return s + 1 }

// Complete reports whether a cycle at this stage is finished.
func (s Stage) Complete() bool { return s == StagePublished }

// CycleRecord is everything the engine records about one cycle. Fields are filled stage by
// stage; Risk and Plan are opaque JSON so the engine can store the checker's report and the
// plan without this package depending on their types.
type CycleRecord struct {
	Cycle     uint64 `json:"cycle"`
	Stage     Stage  `json:"stage"`
	StartedAt int64  `json:"startedAt"`
	UpdatedAt int64  `json:"updatedAt"`

	// Assessed.
	Prices          market.Snapshot  `json:"prices"`
	PositionsBefore venues.Positions `json:"positionsBefore,omitempty"`
	Risk            json.RawMessage  `json:"risk,omitempty"`
	// DerivativesBefore are the options and pool shares held once expired options settled;
	// Settlements those expired options' cash payouts (already in PositionsBefore).
	DerivativesBefore *venues.Derivatives `json:"derivativesBefore,omitempty"`
	Settlements       []venues.Settlement `json:"settlements,omitempty"`
	// Rebalanced.
	Plan   json.RawMessage `json:"plan,omitempty"`
	Trades []execute.Trade `json:"trades,omitempty"`
	// Greeks is the engine's Greek report of the plan (before and after it), opaque JSON.
	Greeks json.RawMessage `json:"greeks,omitempty"`
	// Executed.
	Fills          []execute.Fill   `json:"fills,omitempty"`
	PositionsAfter venues.Positions `json:"positionsAfter,omitempty"`
	SafeBatchPath  string           `json:"safeBatchPath,omitempty"`
	// Chain is the on-chain execution (engine mode with reserves on chain): see chain.go.
	Chain *ChainRecord `json:"chain,omitempty"`
	// Proved and verified.
	ReservesBlock uint64 `json:"reservesBlock,omitempty"`
	ProofPath     string `json:"proofPath,omitempty"`
	BundlePath    string `json:"bundlePath,omitempty"`
	ProveSeconds  string `json:"proveSeconds,omitempty"`
	Verified      bool   `json:"verified,omitempty"`
	// Published.
	PublishTx    string `json:"publishTx,omitempty"`
	PublishBlock uint64 `json:"publishBlock,omitempty"`
	GasUsed      uint64 `json:"gasUsed,omitempty"`

	Notes []string `json:"notes,omitempty"`
}

// Derivatives returns the options and pool shares the cycle held once expired options settled
// (none for a record from before the treasury held any).
func (r *CycleRecord) Derivatives() venues.Derivatives {
	if r == nil || r.DerivativesBefore == nil {
		return venues.Derivatives{}
	}
	return r.DerivativesBefore.Clone()
}

// Effects are the changes to the treasury's current state that a step makes, written in the
// same transaction as the step's stage marker.
type Effects struct {
	Positions   venues.Positions    // nil: unchanged
	Book        *venues.Book        // nil: unchanged
	Derivatives *venues.Derivatives // nil: unchanged
}

// Errors a caller can test for.
var (
	// ErrStageDone means the step is already recorded: a resumed cycle skips it.
	ErrStageDone = errors.New("stage already recorded")
	// ErrStageOrder means a step was attempted before the one it follows.
	ErrStageOrder = errors.New("stage out of order")
	// ErrCycleOpen means a new cycle was begun while the last one is not published.
	ErrCycleOpen = errors.New("previous cycle not complete")
)

// Bucket and key names; functions rather than shared []byte variables, so nothing global can
// be mutated.
func bucketMeta() []byte   { return []byte("meta") }
func bucketCycles() []byte { return []byte("cycles") }
func keyCycle() []byte     { return []byte("cycle") }
func keyPositions() []byte { return []byte("positions") }
func keyBook() []byte      { return []byte("book") }
func keyDerivatives() []byte {
	return []byte("derivatives")
}

// FileName is the store's file inside the state directory.
const FileName = "treasury.db"

// Store is an open state directory. One process at a time: bbolt holds a file lock.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

// Open opens (creating if needed) the store in dir. If another process holds it, Open fails
// after a second rather than waiting forever.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("state %s is in use by another run; wait for it to finish (each state directory takes one run at a time): %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta(), bucketCycles()} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise state %s: %w", path, err)
	}
	return &Store{db: db, now: time.Now}, nil
}

// Close releases the store.
func (s *Store) Close() error { return s.db.Close() }

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	// bbolt's slice is valid only inside the transaction; Unmarshal copies what it keeps.
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

func cycleKey(c uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, c)
	return k
}

// Init records the starting positions and venue book, once: a store that already has
// positions is left as it is (a rerun must not reset the treasury), and Init reports false.
func (s *Store) Init(pos venues.Positions, book *venues.Book) (bool, error) {
	fresh := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta())
		if m.Get(keyPositions()) != nil {
			return nil
		}
		fresh = true
		if err := putJSON(m, keyPositions(), pos.Canonical()); err != nil {
			return err
		}
		return putJSON(m, keyBook(), book)
	})
	if err != nil {
		return false, fmt.Errorf("initialise treasury state: %w", err)
	}
	return fresh, nil
}

// InitDerivatives records the starting options and pool shares, once: a store that already
// records them is left as it is, and InitDerivatives reports false. It is separate from Init so
// that a store written before the treasury held derivatives takes them from the file on its
// next start; a run killed between the two records them on the next.
func (s *Store) InitDerivatives(d venues.Derivatives) (bool, error) {
	fresh := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta())
		if m.Get(keyDerivatives()) != nil {
			return nil
		}
		fresh = true
		return putJSON(m, keyDerivatives(), d.Canonical())
	})
	if err != nil {
		return false, fmt.Errorf("initialise treasury derivatives: %w", err)
	}
	return fresh, nil
}

// Derivatives returns the current options and pool shares (none when never recorded).
func (s *Store) Derivatives() (venues.Derivatives, error) {
	var d venues.Derivatives
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketMeta()), keyDerivatives(), &d)
		return err
	})
	if err != nil {
		return venues.Derivatives{}, fmt.Errorf("read derivatives: %w", err)
	}
	return d, nil
}

// Positions returns the current positions.
func (s *Store) Positions() (venues.Positions, error) {
	var pos venues.Positions
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketMeta()), keyPositions(), &pos)
		if err == nil && !ok {
			err = errors.New("no positions recorded; initialise the state first")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read positions: %w", err)
	}
	return pos, nil
}

// Book returns the current venue book (pool state included).
func (s *Store) Book() (*venues.Book, error) {
	var b venues.Book
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketMeta()), keyBook(), &b)
		if err == nil && !ok {
			err = errors.New("no venue book recorded; initialise the state first")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read venue book: %w", err)
	}
	return venues.NewBook(b.Venues)
}

// Current returns the latest cycle number and its record; 0 and nil before the first cycle.
func (s *Store) Current() (uint64, *CycleRecord, error) {
	var c uint64
	var rec *CycleRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta()).Get(keyCycle())
		if v == nil {
			return nil
		}
		c = binary.BigEndian.Uint64(v)
		rec = &CycleRecord{}
		ok, err := getJSON(tx.Bucket(bucketCycles()), cycleKey(c), rec)
		if err == nil && !ok {
			err = fmt.Errorf("cycle %d has no record", c)
		}
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read current cycle: %w", err)
	}
	return c, rec, nil
}

// Record returns the record of cycle c.
func (s *Store) Record(c uint64) (*CycleRecord, error) {
	rec := &CycleRecord{}
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketCycles()), cycleKey(c), rec)
		if err == nil && !ok {
			err = fmt.Errorf("no record of cycle %d", c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Records returns every cycle record in order.
func (s *Store) Records() ([]*CycleRecord, error) {
	var out []*CycleRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCycles()).ForEach(func(_, v []byte) error {
			r := &CycleRecord{}
			if err := json.Unmarshal(v, r); err != nil {
				return fmt.Errorf("decode cycle record: %w", err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read cycle records: %w", err)
	}
	return out, nil
}

// Resume returns the cycle to work on and the stage it has reached: the lowest cycle that is not
// published (the current one, or an earlier one that Unpublish reopened), else the next cycle
// number with StageNone and a nil record (not begun yet).
func (s *Store) Resume() (uint64, Stage, *CycleRecord, error) {
	recs, err := s.Records()
	if err != nil {
		return 0, 0, nil, err
	}
	for _, r := range recs {
		if !r.Stage.Complete() {
			return r.Cycle, r.Stage, r, nil
		}
	}
	c, _, err := s.Current()
	if err != nil {
		return 0, 0, nil, err
	}
	return c + 1, StageNone, nil, nil
}

// Begin starts cycle c, which must be the one after the current (published) cycle. Beginning
// the current, unfinished cycle again returns its record unchanged, so a resumed run can call
// Begin unconditionally.
func (s *Store) Begin(c uint64) (*CycleRecord, error) {
	rec := &CycleRecord{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, cy := tx.Bucket(bucketMeta()), tx.Bucket(bucketCycles())
		var cur uint64
		if v := m.Get(keyCycle()); v != nil {
			cur = binary.BigEndian.Uint64(v)
			var last CycleRecord
			if _, err := getJSON(cy, cycleKey(cur), &last); err != nil {
				return err
			}
			if c == cur {
				*rec = last
				return nil
			}
			if !last.Stage.Complete() {
				return fmt.Errorf("begin cycle %d: cycle %d is at stage %s: %w", c, cur, last.Stage, ErrCycleOpen)
			}
		}
		if c != cur+1 {
			return fmt.Errorf("begin cycle %d: the next cycle is %d: %w", c, cur+1, ErrStageOrder)
		}
		now := s.now().Unix()
		*rec = CycleRecord{Cycle: c, Stage: StageNone, StartedAt: now, UpdatedAt: now}
		if err := putJSON(cy, cycleKey(c), rec); err != nil {
			return err
		}
		return m.Put(keyCycle(), cycleKey(c))
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Advance records stage `to` of cycle c in one transaction: it applies update to the record,
// writes the effects (positions, book) and moves the stage marker. If the stage is already
// recorded it returns ErrStageDone and changes nothing; if the previous stage is not recorded,
// ErrStageOrder. If update fails, nothing is written.
func (s *Store) Advance(c uint64, to Stage, update func(*CycleRecord) error, eff Effects) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, cy := tx.Bucket(bucketMeta()), tx.Bucket(bucketCycles())
		rec := &CycleRecord{}
		ok, err := getJSON(cy, cycleKey(c), rec)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("cycle %d not begun: %w", c, ErrStageOrder)
		}
		if rec.Stage >= to {
			return fmt.Errorf("cycle %d %s: %w", c, to, ErrStageDone)
		}
		if rec.Stage != to-1 {
			return fmt.Errorf("cycle %d is at %s, cannot record %s: %w", c, rec.Stage, to, ErrStageOrder)
		}
		if update != nil {
			if err := update(rec); err != nil {
				return fmt.Errorf("cycle %d %s: %w", c, to, err)
			}
		}
		rec.Cycle, rec.Stage, rec.UpdatedAt = c, to, s.now().Unix()
		if err := putJSON(cy, cycleKey(c), rec); err != nil {
			return err
		}
		if eff.Positions != nil {
			if err := putJSON(m, keyPositions(), eff.Positions.Canonical()); err != nil {
				return err
			}
		}
		if eff.Book != nil {
			if err := putJSON(m, keyBook(), eff.Book); err != nil {
				return err
			}
		}
		if eff.Derivatives != nil {
			if err := putJSON(m, keyDerivatives(), eff.Derivatives.Canonical()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", to, err)
	}
	return nil
}

// Reprove moves an unpublished cycle that reached StageProved or StageVerified back to
// StageExecuted, forgetting its proof: the chain no longer has the block its reserves were
// claimed at (a reorg, or a dev chain that lost its last blocks in a crash), so the bundle must
// be proven again at the current head. Trades and positions are kept: they were executed. A
// published cycle is reopened by Unpublish first.
func (s *Store) Reprove(c uint64, note string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		cy := tx.Bucket(bucketCycles())
		rec := &CycleRecord{}
		ok, err := getJSON(cy, cycleKey(c), rec)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("cycle %d not begun: %w", c, ErrStageOrder)
		}
		if rec.Stage < StageProved || rec.Stage >= StagePublished {
			return fmt.Errorf("cycle %d is at %s; only a proved, unpublished cycle can be re-proven: %w", c, rec.Stage, ErrStageOrder)
		}
		rec.Stage = StageExecuted
		rec.ReservesBlock, rec.ProofPath, rec.BundlePath, rec.ProveSeconds, rec.Verified = 0, "", "", "", false
		rec.Notes = append(rec.Notes, note)
		rec.UpdatedAt = s.now().Unix()
		return putJSON(cy, cycleKey(c), rec)
	})
}

// Unpublish moves a cycle recorded as published back to StageVerified, forgetting its publish
// transaction: the registry does not hold it (the chain lost the block, or the registry was
// deployed again), so it must be published again. The chain is the truth about what was
// published; this record only remembers what the engine saw. The bundle, trades and positions
// are kept.
func (s *Store) Unpublish(c uint64, note string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		cy := tx.Bucket(bucketCycles())
		rec := &CycleRecord{}
		ok, err := getJSON(cy, cycleKey(c), rec)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("cycle %d not begun: %w", c, ErrStageOrder)
		}
		if rec.Stage != StagePublished {
			return fmt.Errorf("cycle %d is at %s, not published: %w", c, rec.Stage, ErrStageOrder)
		}
		rec.Stage = StageVerified
		rec.PublishTx, rec.PublishBlock, rec.GasUsed = "", 0, 0
		rec.Notes = append(rec.Notes, note)
		rec.UpdatedAt = s.now().Unix()
		return putJSON(cy, cycleKey(c), rec)
	})
}
