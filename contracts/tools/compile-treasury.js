#!/usr/bin/env node
// compile-treasury.js compiles the treasury contracts the dev chain holds (tokens, ERC-4626
// vaults, a Safe with its proxy factory and MultiSend, a Uniswap V2 pool, a read aggregator) from
// the pinned npm packages in package-lock.json, each with the compiler its sources pin:
//
//   solc 0.8.37  (the project's compiler)  OpenZeppelin 5.4.0 tokens and vaults, Safe 1.4.1
//   solc 0.5.16  (npm alias solc-0.5.16)   @uniswap/v2-core 1.0.1 (its pragma is exactly =0.5.16)
//
// The aggregator, UniswapInterfaceMulticall, is taken as built: @uniswap/v3-periphery 1.4.4 ships
// Uniswap's compiled artifact of contracts/lens/UniswapInterfaceMulticall.sol (solc 0.7.6) but
// not that source file (its package.json publishes only contracts/base, interfaces and
// libraries), so there is nothing here to compile; the ABI and bytecode are read from the
// package and the compiler version from the bytecode's CBOR trailer.
//
// usage: node tools/compile-treasury.js OUT_DIR
//
// It writes OUT_DIR/<Contract>.json in the format of tools/compile.js (contractName, sourceName,
// compiler, settings, abi, bytecode, deployedBytecode, immutableReferences, immutableNames).
// Settings are fixed per group so the same sources always give the same bytecode; a Go test
// recompiles and compares with the committed artifacts.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..'); // contracts/

// GROUPS: which compiler builds which sources, with which settings, and which contracts are kept.
// Source unit names are package paths ("@openzeppelin/contracts/...") for npm sources and paths
// relative to contracts/ for the project's own files.
const GROUPS = [
  {
    compiler: 'solc',
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun', metadata: { bytecodeHash: 'none', appendCBOR: false } },
    sources: [
      'treasurychain/sol/DevToken.sol',
      'treasurychain/sol/DevVault.sol',
      '@safe-global/safe-contracts/contracts/Safe.sol',
      '@safe-global/safe-contracts/contracts/proxies/SafeProxyFactory.sol',
      '@safe-global/safe-contracts/contracts/libraries/MultiSend.sol',
      '@safe-global/safe-contracts/contracts/libraries/MultiSendCallOnly.sol',
    ],
    keep: ['DevToken', 'DevVault', 'Safe', 'SafeProxyFactory', 'SafeProxy', 'MultiSend', 'MultiSendCallOnly'],
  },
  {
    compiler: 'solc-0.5.16',
    // 0.5.16 predates metadata.bytecodeHash; its metadata hash is a function of the sources and
    // these settings, so the output is still reproducible.
    settings: { optimizer: { enabled: true, runs: 999999 }, evmVersion: 'istanbul' },
    sources: ['@uniswap/v2-core/contracts/UniswapV2Factory.sol'],
    keep: ['UniswapV2Factory', 'UniswapV2Pair'],
  },
];

// PREBUILT: contracts a pinned package ships compiled (Hardhat artifacts) but not as source.
const PREBUILT = [
  {
    pkg: '@uniswap/v3-periphery',
    artifact: 'artifacts/contracts/lens/UniswapInterfaceMulticall.sol/UniswapInterfaceMulticall.json',
    contractName: 'UniswapInterfaceMulticall',
  },
];

function resolveFile(unit) {
  if (unit.startsWith('@')) return path.join(ROOT, 'node_modules', unit);
  return path.join(ROOT, unit);
}

// collect reads unit and, recursively, every file it imports, keyed by source unit name.
function collect(unit, out) {
  if (out[unit] !== undefined) return;
  const file = resolveFile(unit);
  let content;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`source ${unit} not found at ${file}: run scripts/setup.sh (npm ci in contracts/)`);
  }
  out[unit] = content;
  const re = /^\s*import\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm;
  let m;
  while ((m = re.exec(content)) !== null) {
    let dep = m[1];
    if (dep.startsWith('.')) dep = path.posix.normalize(path.posix.join(path.posix.dirname(unit), dep));
    collect(dep, out);
  }
}

function loadCompiler(name) {
  try {
    return require(name);
  } catch (e) {
    process.stderr.write(`compile-treasury.js: compiler ${name} is not installed; run scripts/setup.sh ` +
      '(it runs npm ci in contracts/)\n');
    process.exit(3);
  }
}

function compileGroup(g) {
  const solc = loadCompiler(g.compiler);
  const units = {};
  for (const s of g.sources) collect(s, units);
  const modern = !solc.version().startsWith('0.5.');
  const selection = ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'];
  if (modern) selection.push('evm.deployedBytecode.immutableReferences');
  const input = {
    language: 'Solidity',
    sources: {},
    settings: Object.assign({}, g.settings, { outputSelection: { '*': { '': ['ast'], '*': selection } } }),
  };
  for (const [name, content] of Object.entries(units)) input.sources[name] = { content };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    for (const e of errors) process.stderr.write(e.formattedMessage + '\n');
    process.exit(1);
  }
  const names = {};
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    if (node.nodeType === 'VariableDeclaration' && node.mutability === 'immutable') names[String(node.id)] = node.name;
    for (const v of Object.values(node)) if (v && typeof v === 'object') walk(v);
  };
  for (const src of Object.values(output.sources || {})) walk(src.ast);
  const out = {};
  for (const [sourceName, contracts] of Object.entries(output.contracts || {})) {
    for (const [contractName, c] of Object.entries(contracts)) {
      if (!g.keep.includes(contractName)) continue;
      if (out[contractName]) throw new Error(`two contracts named ${contractName}`);
      const refs = (c.evm.deployedBytecode && c.evm.deployedBytecode.immutableReferences) || {};
      const refNames = {};
      for (const id of Object.keys(refs)) refNames[id] = names[id];
      out[contractName] = {
        contractName,
        sourceName,
        compiler: solc.version(),
        settings: g.settings,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        immutableReferences: refs,
        immutableNames: refNames,
      };
    }
  }
  for (const k of g.keep) if (!out[k]) throw new Error(`contract ${k} was not produced by ${g.compiler}`);
  return out;
}

// prebuilt converts a package's Hardhat artifact to this tool's format. It refuses link
// references (the runtime code must be complete) and bytecode without a solc CBOR trailer.
function prebuilt(p) {
  const dir = path.join(ROOT, 'node_modules', p.pkg);
  let pkg, art;
  try {
    pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    art = JSON.parse(fs.readFileSync(path.join(dir, p.artifact), 'utf8'));
  } catch (e) {
    throw new Error(`${p.pkg}/${p.artifact}: ${e.message}: run scripts/setup.sh (npm ci in contracts/)`);
  }
  if (art._format !== 'hh-sol-artifact-1' || art.contractName !== p.contractName) {
    throw new Error(`${p.pkg}/${p.artifact} is not the Hardhat artifact of ${p.contractName}`);
  }
  if (Object.keys(art.linkReferences || {}).length || Object.keys(art.deployedLinkReferences || {}).length) {
    throw new Error(`${p.contractName} needs libraries linked`);
  }
  // solc appends CBOR {"solc": <3 version bytes>} (a1 64 'solc' 43 ...) and its length (000a)
  // when the metadata hash is off, as Uniswap built the periphery.
  const m = /a164736f6c6343([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})000a$/.exec(art.deployedBytecode);
  if (!m) throw new Error(`${p.contractName}: runtime code has no solc version trailer`);
  const compiler = [m[1], m[2], m[3]].map((h) => parseInt(h, 16)).join('.');
  return {
    contractName: art.contractName,
    sourceName: `${p.pkg}/${art.sourceName}`,
    compiler,
    settings: { prebuilt: `${p.pkg}@${pkg.version}/${p.artifact}` },
    abi: art.abi,
    bytecode: art.bytecode,
    deployedBytecode: art.deployedBytecode,
    immutableReferences: {},
    immutableNames: {},
  };
}

function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/compile-treasury.js OUT_DIR\n');
    process.exit(2);
  }
  const outDir = argv[0];
  fs.mkdirSync(outDir, { recursive: true });
  const write = (c) => {
    const file = path.join(outDir, c.contractName + '.json');
    fs.writeFileSync(file + '.tmp', JSON.stringify(c, null, 2) + '\n');
    fs.renameSync(file + '.tmp', file);
  };
  for (const g of GROUPS) Object.values(compileGroup(g)).forEach(write);
  PREBUILT.map(prebuilt).forEach(write);
}

main(process.argv.slice(2));
