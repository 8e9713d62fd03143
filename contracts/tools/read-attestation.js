#!/usr/bin/env node
// read-attestation.js reads a cycle's attestation from a SolvencyRegistry with ethers.js, an
// Ethereum client independent of this project's Go code, to show ordinary tooling sees it.
//
// usage: node tools/read-attestation.js RPC_URL REGISTRY_ADDRESS CYCLE
//
// It prints one JSON document: the registry's latest summary, the stored hash for CYCLE, and the
// record decoded from the AttestationPublished event, with `hashMatches` true when
// keccak256(event data) equals the stored hash.
'use strict';

const path = require('path');
const { ethers } = require('ethers');

async function main([url, address, cycleArg]) {
  if (!url || !address || !cycleArg) {
    process.stderr.write('usage: node tools/read-attestation.js RPC_URL REGISTRY_ADDRESS CYCLE\n');
    process.exit(2);
  }
  const artifact = require(path.join(__dirname, '..', 'artifacts', 'SolvencyRegistry.json'));
  const provider = new ethers.JsonRpcProvider(url, undefined, { staticNetwork: true });
  const registry = new ethers.Contract(address, artifact.abi, provider);
  const cycle = BigInt(cycleArg);

  const latest = await registry.latestAttestation();
  const stored = await registry.attestationHash(cycle);
  const logs = await registry.queryFilter(registry.filters.AttestationPublished(cycle), 0, 'latest');
  if (logs.length === 0) throw new Error(`no AttestationPublished event for cycle ${cycle}`);
  const log = logs[logs.length - 1];
  const r = log.args.record;
  const out = {
    chainId: (await provider.getNetwork()).chainId.toString(),
    latest: { cycle: latest.cycle.toString(), hash: latest.hash, count: latest.count.toString() },
    storedHash: stored,
    eventHash: log.args.attestationHash,
    hashMatches: ethers.keccak256(log.data) === stored,
    record: {
      cycle: r.cycle.toString(),
      reservesBlock: r.reservesBlock.toString(),
      snapshotEpoch: r.snapshotEpoch.toString(),
      snapshotTime: r.snapshotTime.toString(),
      publishedAt: r.publishedAt.toString(),
      publishedBlock: r.publishedBlock.toString(),
      policyHash: r.policyHash,
      lc: ethers.toBeHex(r.lc, 32),
      rc: ethers.toBeHex(r.rc, 32),
      prices: r.prices.map((p) => p.toString()),
      roundIds: r.roundIds.map((x) => x.toString()),
      bundleDigest: r.bundleDigest,
      bundleUri: r.bundleUri,
    },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write('read-attestation.js: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
});
