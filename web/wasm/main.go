//go:build js && wasm

// Command wasm is the users' page's verifier: the project's own Go checks (usercheck, and through
// it the offline verifier) compiled to WebAssembly. It registers one function,
// solvencyCheck(args) -> Promise<result JSON>, that the page's Web Worker calls. The user's file
// and id stay in this worker; requests go only to the chain (about the registry) and to the
// bundle's URL.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/web/chainread"
	"github.com/solvency-dev/solvency/web/usercheck"
)

// jsCaller sends JSON-RPC through a JS function (the user's wallet, EIP-1193, relayed by the
// page): fn(method, paramsJSON) -> Promise<resultJSON>.
type jsCaller struct{ fn js.Value }

func (c jsCaller) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	v, err := await(ctx, c.fn.Invoke(method, string(p)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return json.RawMessage(v.String()), nil
}

func await(ctx context.Context, promise js.Value) (js.Value, error) {
	type res struct {
		v   js.Value
		err error
	}
	ch := make(chan res, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- res{v: a[0]}; return nil })
	bad := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- res{err: errors.New(js.Global().Get("String").Invoke(a[0]).String())}
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	promise.Call("then", ok, bad)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

var runs atomic.Int64

func check(args js.Value) string {
	get := func(k string) string {
		v := args.Get(k)
		if v.IsUndefined() || v.IsNull() {
			return ""
		}
		return v.String()
	}
	proofJS := args.Get("proof")
	proof := make([]byte, proofJS.Get("length").Int())
	js.CopyBytesToGo(proof, proofJS)
	errResult := func(err error) string {
		b, _ := json.Marshal(&usercheck.Result{Verdict: usercheck.Error, Reason: err.Error(), Step: "reading the page's settings"})
		return string(b)
	}
	reg := get("registry")
	if !common.IsHexAddress(reg) {
		return errResult(fmt.Errorf("registry address %q is not an address", reg))
	}
	// The pins file format of `solvency verify --keys-from` (prover/keys.Pins), read here without
	// linking the prover into the page.
	var pins struct {
		TranscriptDigest string            `json:"transcript_digest"`
		VerifyingKeys    map[string]string `json:"verifying_keys"`
	}
	if err := json.Unmarshal([]byte(get("pins")), &pins); err != nil || len(pins.VerifyingKeys) == 0 {
		return errResult(fmt.Errorf("the pins file cannot be read: %v", err))
	}
	var chainID uint64
	if s := get("chainId"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return errResult(fmt.Errorf("chain id %q: %w", s, err))
		}
		chainID = v
	}
	in := usercheck.Input{
		Proof: proof, Account: get("account"), Registry: common.HexToAddress(reg), ChainID: chainID,
		Pins: bundle.Pins(pins.VerifyingKeys), Trust: get("trust"), Transcript: pins.TranscriptDigest,
		Now: time.Now(), WorkDir: fmt.Sprintf("/bundle-%d", runs.Add(1)),
	}
	if pf := args.Get("progress"); pf.Type() == js.TypeFunction {
		in.Progress = func(step string, f float64) { pf.Invoke(step, f) }
	}
	var c chainread.Caller
	if fn := args.Get("rpc"); fn.Type() == js.TypeFunction {
		c = jsCaller{fn: fn}
	} else {
		c = &chainread.HTTP{URL: get("rpcUrl")}
	}
	r := usercheck.Check(context.Background(), in, c)
	b, err := json.Marshal(r)
	if err != nil {
		return errResult(err)
	}
	return string(b)
}

func main() {
	js.Global().Set("solvencyCheck", js.FuncOf(func(_ js.Value, a []js.Value) any {
		if len(a) != 1 {
			return js.Global().Get("Promise").Call("reject", "solvencyCheck(args)")
		}
		args := a[0]
		handler := js.FuncOf(func(_ js.Value, pa []js.Value) any {
			resolve := pa[0]
			go func() { resolve.Invoke(check(args)) }()
			return nil
		})
		return js.Global().Get("Promise").New(handler)
	}))
	select {}
}
