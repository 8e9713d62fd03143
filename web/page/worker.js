// Runs the verifier (Go compiled to WebAssembly) off the page's main thread. The bundle it
// fetches is kept in this worker's memory (memfs.js).
"use strict";
importScripts("memfs.js", "wasm_exec.js");

let ready = null;
function load() {
  if (!ready) {
    ready = (async () => {
      const go = new Go();
      const resp = await fetch("verifier.wasm");
      if (!resp.ok) throw new Error("verifier.wasm: " + resp.status + " (build it with: go generate ./web)");
      const { instance } = await WebAssembly.instantiateStreaming(resp, go.importObject);
      go.run(instance);
      for (let i = 0; i < 200 && typeof globalThis.solvencyCheck !== "function"; i++) await new Promise((r) => setTimeout(r, 10));
      if (typeof globalThis.solvencyCheck !== "function") throw new Error("the verifier did not start");
    })();
  }
  return ready;
}

const pending = new Map();
let rpcId = 0;
function walletRPC(method, params) {
  return new Promise((resolve, reject) => {
    const id = ++rpcId;
    pending.set(id, { resolve, reject });
    postMessage({ type: "rpc", id, method, params });
  });
}

onmessage = async (m) => {
  const d = m.data;
  if (d.type === "rpc-result") {
    const p = pending.get(d.id);
    pending.delete(d.id);
    if (p) { if (d.error) p.reject(new Error(d.error)); else p.resolve(d.result); }
    return;
  }
  if (d.type !== "check") return;
  try {
    postMessage({ type: "progress", step: "loading the verifier", frac: 0 });
    await load();
    const args = {
      proof: d.proof, account: d.account, registry: d.registry, chainId: d.chainId, pins: d.pins, trust: d.trust,
      rpcUrl: d.rpcUrl, progress: (step, frac) => postMessage({ type: "progress", step, frac }),
    };
    if (d.useWallet) args.rpc = walletRPC;
    const out = await globalThis.solvencyCheck(args);
    postMessage({ type: "result", result: JSON.parse(out) });
  } catch (e) {
    postMessage({ type: "result", result: { verdict: "error", reason: String(e && e.message || e) } });
  }
};
