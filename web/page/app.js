// The users' page: collects the user's file and typed id, hands them to the verifier in a Web
// Worker (off the main thread), relays the worker's chain reads to the user's wallet when asked,
// and shows the verdict. Nothing the user gives is sent anywhere: the worker reads the chain
// (about the registry only) and fetches the public bundle.
"use strict";
const $ = (id) => document.getElementById(id);
let proofBytes = null, pinsText = null, pinsTrust = "";

async function loadConfig() {
  try {
    const r = await fetch(new URL("../config.json", location.href));
    if (!r.ok) return;
    const c = await r.json();
    if (c.rpc) $("rpc").value = new URL(c.rpc, location.href).href;
    if (c.registry) $("registry").value = c.registry;
    if (c.chainId) $("chain").value = c.chainId;
    if (c.pins && !pinsText) {
      const p = await fetch(new URL(c.pins, location.href));
      if (p.ok) {
        pinsText = await p.text();
        pinsTrust = "pins from the server this page came from (the operator's word" + (c.trust ? ", keys " + c.trust : "") + "); load an auditor's pins file to check independently";
        $("pins-source").textContent = pinsTrust;
      }
    }
  } catch (e) { /* a page opened without `solvency serve`: the user fills the fields */ }
  if (!window.ethereum) $("use-wallet").disabled = true;
}

function readFile(file) {
  return new Promise((res, rej) => { const fr = new FileReader(); fr.onload = () => res(new Uint8Array(fr.result)); fr.onerror = () => rej(fr.error); fr.readAsArrayBuffer(file); });
}

async function takeProof(file) {
  proofBytes = await readFile(file);
  $("proof-name").textContent = file.name + " (" + proofBytes.length + " bytes, read locally)";
}

$("proof").addEventListener("change", (e) => { if (e.target.files[0]) takeProof(e.target.files[0]); });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) takeProof(e.dataTransfer.files[0]); });
$("pins-file").addEventListener("change", async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  pinsText = new TextDecoder().decode(await readFile(f));
  pinsTrust = "pins from your file " + f.name + " (setup not re-verified here)";
  $("pins-source").textContent = pinsTrust;
});

let worker = null;
function getWorker() {
  if (worker) return worker;
  worker = new Worker("worker.js");
  return worker;
}

function show(res, ms) {
  const v = $("verdict");
  v.hidden = false;
  v.dataset.verdict = res.verdict;
  v.dataset.ms = String(Math.round(ms));
  $("verdict-title").textContent = res.verdict === "counted" ? "COUNTED: your balance is in the attested liabilities"
    : res.verdict === "not-counted" ? "NOT COUNTED" : "Could not check";
  $("verdict-reason").textContent = res.verdict === "counted"
    ? "The bundle the registry names verified in full, its statement matches the chain, and your balances are a leaf of its tree."
    : (res.step ? "Failed while " + res.step + ": " : "") + (res.reason || "");
  const facts = $("facts");
  facts.replaceChildren();
  const row = (k, val) => { if (val === undefined || val === "" || val === null) return null; const tr = facts.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = val; return tr; };
  row("account", res.account);
  for (const b of res.balances || []) row("balance " + b.symbol, b.amount);
  row("cycle", res.cycle);
  if (res.snapshotTime) row("snapshot taken", new Date(res.snapshotTime * 1000).toISOString() + (res.snapshotAge ? " (" + res.snapshotAge + " ago)" : ""));
  row("policy hash", res.policyHash);
  row("transaction", res.tx);
  row("bundle", res.bundleUrl);
  row("bundle digest (on chain)", res.bundleDigest);
  row("batch proofs verified", res.batches);
  // Whether an auditor found the committed reserves on chain (read from the registry once the
  // bundle matched it); absent when the check stopped before.
  if (res.countersigned === true || res.countersigned === false) {
    const by = (res.countersignedBy || []).map((c) => c.auditor + " (block " + c.block + (c.stillAuditor ? "" : ", no longer an auditor") + ")");
    const tr = row("reserves countersigned", res.countersigned
      ? "countersigned by " + by.join(", ")
      : "not countersigned: no auditor has confirmed on chain that the treasury held these reserves (they are the operator's claim); your balance is counted either way");
    tr.id = "countersign";
    tr.dataset.countersigned = String(res.countersigned);
  }
  row("keys", res.keys);
  row("time to verdict", (ms / 1000).toFixed(2) + " s");
  const ol = $("checks");
  ol.replaceChildren();
  for (const c of res.checks || []) { const li = document.createElement("li"); li.textContent = c; ol.appendChild(li); }
}

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const t0 = performance.now();
  const fail = (reason) => show({ verdict: "error", reason }, performance.now() - t0);
  if (!proofBytes) return fail("choose your inclusion-proof file first");
  if (!pinsText) return fail("no verifying-key pins: open the chain and keys settings and give a pins file");
  $("check").disabled = true;
  $("verdict").hidden = true;
  $("verdict").dataset.verdict = "";
  $("progress-box").hidden = false;
  $("progress").value = 0;
  const w = getWorker();
  const useWallet = $("use-wallet").checked && window.ethereum;
  w.onmessage = async (m) => {
    const d = m.data;
    if (d.type === "progress") { $("progress").value = d.frac; $("step").textContent = d.step; if (d.frac > 0) window.__sawProgress = true; }
    else if (d.type === "rpc") {
      try {
        const result = await window.ethereum.request({ method: d.method, params: JSON.parse(d.params) });
        w.postMessage({ type: "rpc-result", id: d.id, result: JSON.stringify(result) });
      } catch (err) { w.postMessage({ type: "rpc-result", id: d.id, error: String(err && err.message || err) }); }
    } else if (d.type === "result") {
      $("check").disabled = false;
      $("progress-box").hidden = true;
      show(d.result, performance.now() - t0);
    }
  };
  w.onerror = (ev) => { $("check").disabled = false; fail("the verifier stopped: " + ev.message); };
  w.postMessage({
    type: "check", proof: proofBytes, account: $("account").value, registry: $("registry").value.trim(),
    chainId: $("chain").value.trim(), rpcUrl: $("rpc").value.trim(), useWallet: !!useWallet, pins: pinsText, trust: pinsTrust,
  });
});

loadConfig();
