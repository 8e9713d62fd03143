package market

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
)

func TestParseFormatPrice(t *testing.T) {
	p, err := ParsePrice("3012.5")
	if err != nil || p != 301250000000 {
		t.Fatalf("ParsePrice = %d, %v", p, err)
	}
	if FormatPrice(p) != "3012.5" {
		t.Fatalf("FormatPrice = %s", FormatPrice(p))
	}
	for _, bad := range []string{"1.000000001", "0", "-3", "abc", "92233720368.54775808"} {
		if _, err := ParsePrice(bad); err == nil {
			t.Errorf("ParsePrice(%q) accepted", bad)
		}
	}
}

func TestValueFloorsAgainstTreasury(t *testing.T) {
	// 1.5 units of a 6-decimal asset at $0.99999999: 1.499999985 USD -> floor at 8 decimals.
	v := Value(big.NewInt(1_500_000), 6, 99999999)
	if v.Cmp(big.NewInt(149999998)) != 0 {
		t.Fatalf("positive value %v", v)
	}
	v = Value(big.NewInt(-1_500_000), 6, 99999999)
	if v.Cmp(big.NewInt(-149999999)) != 0 {
		t.Fatalf("negative value %v, want rounded away from zero", v)
	}
	a, err := AmountFor(big.NewInt(300000000000), 18, 300000000000)
	if err != nil || a.Cmp(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)) != 0 {
		t.Fatalf("AmountFor = %v, %v", a, err)
	}
}

func TestDeviation(t *testing.T) {
	prev := Snapshot{Prices: map[string]uint64{"ETH": 300000000000, "USDC": 100000000}}
	cur := Snapshot{Prices: map[string]uint64{"ETH": 180000000000, "USDC": 100000000}}
	err := CheckDeviation(prev, cur, 3000)
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Asset != "ETH" || ce.Check != FailDeviation {
		t.Fatalf("want ETH deviation error, got %v", err)
	}
	if err := CheckDeviation(prev, cur, 4000); err != nil {
		t.Fatalf("exactly 40%% with a 40%% bound must pass: %v", err)
	}
}

func testSynth(t *testing.T) *Synthetic {
	t.Helper()
	s, err := NewSynthetic(SynthConfig{
		Seed: 7, Steps: 400, StartTime: 1_700_000_000,
		Assets: []SynthAsset{
			{Symbol: "ETH", Start: 300000000000, DailyVol: 0.04},
			{Symbol: "BTC", Start: 6000000000000, DailyVol: 0.03},
			{Symbol: "USDC", Start: 100000000, DailyVol: 0.0005, PegReversion: 0.5},
		},
		Correlation: [][]float64{{1, 0.8, 0}, {0.8, 1, 0}, {0, 0, 1}},
		Shocks:      []Shock{{Step: 200, Asset: "ETH", Bps: -4000}, {Step: 300, Asset: "USDC", Bps: -1000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSyntheticDeterministicCorrelatedShocked(t *testing.T) {
	a, b := testSynth(t), testSynth(t)
	ha, hb := a.History(), b.History()
	for i := range ha.Prices {
		for j := range ha.Prices[i] {
			if ha.Prices[i][j] != hb.Prices[i][j] {
				t.Fatalf("same seed, different path at %d,%d", i, j)
			}
		}
	}
	r := ha.LogReturns()
	// The shock day's ETH return is log(0.6) plus one day's noise.
	if got := r[199][0]; math.Abs(got-math.Log(0.6)) > 0.2 {
		t.Fatalf("ETH return on the shock day %g, want about %g", got, math.Log(0.6))
	}
	if got := r[299][2]; math.Abs(got-math.Log(0.9)) > 0.01 {
		t.Fatalf("USDC return on the depeg day %g", got)
	}
	// Sample correlation of ETH/BTC over non-shock days is near 0.8.
	var sx, sy, sxx, syy, sxy, n float64
	for i, row := range r {
		if i == 199 || i == 299 {
			continue
		}
		x, y := row[0], row[1]
		sx, sy, sxx, syy, sxy, n = sx+x, sy+y, sxx+x*x, syy+y*y, sxy+x*y, n+1
	}
	c := (sxy/n - sx/n*sy/n) / math.Sqrt((sxx/n-sx*sx/n/n)*(syy/n-sy*sy/n/n))
	if math.Abs(c-0.8) > 0.08 {
		t.Fatalf("sample correlation %g, want about 0.8", c)
	}
	// The peg pulls USDC back: after 20 days it is within 1% of $1.
	if p := ha.Prices[320][2]; p < 99000000 || p > 101000000 {
		t.Fatalf("USDC after recovery %d", p)
	}
	snap, err := SyntheticSource{Market: a, Offset: 100}.Snapshot(context.Background(), 3)
	if err != nil || snap.Cycle != 3 || snap.Prices["ETH"] != ha.Prices[103][0] {
		t.Fatalf("source snapshot %+v, %v", snap, err)
	}
}

func TestSyntheticRejectsBadConfig(t *testing.T) {
	_, err := NewSynthetic(SynthConfig{Steps: 5, Assets: []SynthAsset{{Symbol: "A", Start: 1}, {Symbol: "B", Start: 1}},
		Correlation: [][]float64{{1, 2}, {2, 1}}})
	if err == nil {
		t.Fatal("accepted a correlation that is not positive definite")
	}
}

func TestFileFormats(t *testing.T) {
	dir := t.TempDir()
	snaps := []Snapshot{
		{Cycle: 1, Time: 100, Prices: map[string]uint64{"ETH": 300000000000, "USDC": 99990000}, Rounds: map[string]*big.Int{"ETH": big.NewInt(42)}},
		{Cycle: 2, Time: 200, Prices: map[string]uint64{"ETH": 180000000000, "USDC": 100000000}},
	}
	path := filepath.Join(dir, "p.json")
	if err := WriteSnapshotsJSON(path, snaps); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFileSource(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := src.Snapshot(context.Background(), 1)
	if err != nil || s.Prices["USDC"] != 99990000 || s.Rounds["ETH"].Int64() != 42 {
		t.Fatalf("round trip %+v %v", s, err)
	}
	if _, err := src.Snapshot(context.Background(), 9); err == nil {
		t.Fatal("missing cycle accepted")
	}
	csvText := "cycle,time,ETH,USDC\n1,100,3000,0.9999\n2,200,1800,1\n"
	cs, err := ParseSnapshotsCSV(strings.NewReader(csvText))
	if err != nil || len(cs) != 2 || cs[1].Prices["ETH"] != 180000000000 {
		t.Fatalf("csv %+v %v", cs, err)
	}
	if _, err := ParseSnapshotsCSV(strings.NewReader("cycle,time,ETH\n1,100,3000\n2,50,1\n")); err == nil {
		t.Fatal("out of order times accepted")
	}
	if _, err := ParseSnapshotsJSON([]byte(`{"snapshots":[{"cycle":1,"time":1,"prices":{"ETH":"1.123456789"}}]}`)); err == nil {
		t.Fatal("9 decimals accepted")
	}
}

// fakeFeeds answers AggregatorV3Interface calls from a table, as an RPC node would.
type fakeFeeds struct {
	abi    abi.ABI
	rounds map[common.Address][5]*big.Int
	dec    map[common.Address]uint8
}

func (f *fakeFeeds) CallContract(_ context.Context, msg ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	m, err := f.abi.MethodById(msg.Data[:4])
	if err != nil {
		return nil, err
	}
	switch m.Name {
	case "decimals":
		return m.Outputs.Pack(f.dec[*msg.To])
	default:
		r := f.rounds[*msg.To]
		return m.Outputs.Pack(r[0], r[1], r[2], r[3], r[4])
	}
}

func TestChainlinkChecks(t *testing.T) {
	a, err := AggregatorABI()
	if err != nil {
		t.Fatal(err)
	}
	eth, usdc := common.HexToAddress("0x01"), common.HexToAddress("0x02")
	now := time.Unix(1_700_000_000, 0)
	round := func(id int64, ans string, updated int64) [5]*big.Int {
		v, _ := new(big.Int).SetString(ans, 10)
		return [5]*big.Int{big.NewInt(id), v, big.NewInt(updated), big.NewInt(updated), big.NewInt(id)}
	}
	fake := &fakeFeeds{abi: a,
		rounds: map[common.Address][5]*big.Int{eth: round(7, "301234567890", now.Unix()-60), usdc: round(9, "99990000", now.Unix()-600)},
		dec:    map[common.Address]uint8{eth: 8, usdc: 8}}
	feeds := []Feed{{Asset: "ETH", Address: eth, Heartbeat: time.Hour}, {Asset: "USDC", Address: usdc, Heartbeat: 24 * time.Hour}}
	src, err := NewChainlinkSource(fake, feeds)
	if err != nil {
		t.Fatal(err)
	}
	src.Now = func() time.Time { return now }
	s, err := src.Snapshot(context.Background(), 1)
	if err != nil || s.Prices["ETH"] != 301234567890 || s.Rounds["USDC"].Int64() != 9 || s.Time != now.Unix()-600 {
		t.Fatalf("snapshot %+v, %v", s, err)
	}
	rd, err := src.Round(context.Background(), "ETH", big.NewInt(7))
	if err != nil || rd.Answer.Int64() != 301234567890 {
		t.Fatalf("getRoundData %+v %v", rd, err)
	}

	expect := func(asset, check string) {
		t.Helper()
		_, err := src.Snapshot(context.Background(), 2)
		var ce *CheckError
		if !errors.As(err, &ce) || ce.Asset != asset || ce.Check != check {
			t.Fatalf("want %s failing %s, got %v", asset, check, err)
		}
		if !strings.Contains(err.Error(), asset) || !strings.Contains(err.Error(), check) {
			t.Fatalf("error %q does not name the asset and check", err)
		}
	}
	fake.rounds[eth] = round(8, "301234567890", now.Unix()-7200)
	expect("ETH", FailStaleness)
	fake.rounds[eth] = round(8, "0", now.Unix())
	expect("ETH", FailNonPositive)
	fake.rounds[eth] = round(8, "-5", now.Unix())
	expect("ETH", FailNonPositive)
	fake.rounds[eth] = round(8, "150000000000", now.Unix())
	src.Previous, src.MaxDeviationBps = &s, 2000
	expect("ETH", FailDeviation)
	src.MaxDeviationBps = 6000
	if _, err := src.Snapshot(context.Background(), 2); err != nil {
		t.Fatalf("within the deviation bound: %v", err)
	}
}

func TestHistoryReturns(t *testing.T) {
	h := NewHistory([]string{"A"})
	for i, p := range []uint64{100, 110, 99} {
		if err := h.Append(Snapshot{Time: int64(i + 1), Prices: map[string]uint64{"A": p}}); err != nil {
			t.Fatal(err)
		}
	}
	r := h.LogReturns()
	if math.Abs(r[0][0]-math.Log(1.1)) > 1e-12 || math.Abs(r[1][0]-math.Log(0.9)) > 1e-12 {
		t.Fatalf("returns %v", r)
	}
	if err := h.Append(Snapshot{Time: 2, Prices: map[string]uint64{"A": 1}}); err == nil {
		t.Fatal("non-increasing time accepted")
	}
	var buf bytes.Buffer
	buf.WriteString(FormatUSD(big.NewInt(-123456789)))
	if buf.String() != "-1.23" {
		t.Fatalf("FormatUSD %s", buf.String())
	}
}

func TestSyntheticWarmup(t *testing.T) {
	s, err := NewSynthetic(SynthConfig{Seed: 3, Steps: 5, WarmupSteps: 300, StartTime: 1_000_000,
		Assets: []SynthAsset{{Symbol: "ETH", Start: 300000000000, DailyVol: 0.04}},
		Shocks: []Shock{{Step: 1, Asset: "ETH", Bps: -4000}}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.History()
	if h.Len() != 306 {
		t.Fatalf("history length %d", h.Len())
	}
	s0, err := s.At(0, 0)
	if err != nil || s0.Prices["ETH"] != 300000000000 || s0.Time != 1_000_000 {
		t.Fatalf("step 0 is not the start: %+v %v", s0, err)
	}
	warm, err := s.HistoryUpTo(0)
	if err != nil || warm.Len() != 301 || warm.Times[0] != 1_000_000-300*86400 {
		t.Fatalf("warm-up history %d %v", warm.Len(), err)
	}
	// The warm-up's realised daily vol is close to the configured 4%.
	var ss float64
	r := warm.LogReturns()
	for _, x := range r {
		ss += x[0] * x[0]
	}
	if v := math.Sqrt(ss / float64(len(r))); math.Abs(v-0.04) > 0.006 {
		t.Fatalf("warm-up vol %g", v)
	}
	if _, err := s.At(-301, 0); err == nil {
		t.Fatal("a step before the warm-up was served")
	}
	s1, _ := s.At(1, 1)
	if ratio := float64(s1.Prices["ETH"]) / 300000000000; ratio > 0.75 || ratio < 0.5 {
		t.Fatalf("crash day ratio %g", ratio)
	}
}
