#!/usr/bin/env node
// compile-treasury.js compiles the treasury contracts the dev chain holds (tokens, ERC-4626
// vaults, a Safe with its proxy factory and MultiSend, a Uniswap V2 pool, Multicall3) from the
// pinned npm packages in package-lock.json, each with the compiler its sources pin:
//
//   solc 0.8.37  (the project's compiler)  OpenZeppelin 5.4.0 tokens and vaults, Safe 1.4.1
//   solc 0.5.16  (npm alias solc-0.5.16)   @uniswap/v2-core 1.0.1 (its pragma is exactly =0.5.16)
//   solc 0.8.12  (npm alias solc-0.8.12)   Multicall3 (pragma exactly 0.8.12; vendored source)
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
// relative to contracts/ for the project's own and vendored files.
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
  {
    compiler: 'solc-0.8.12',
    settings: { optimizer: { enabled: true, runs: 10000000 }, evmVersion: 'london', metadata: { bytecodeHash: 'none' } },
    sources: ['vendor/multicall3/Multicall3.sol'],
    keep: ['Multicall3'],
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

function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node tools/compile-treasury.js OUT_DIR\n');
    process.exit(2);
  }
  const outDir = argv[0];
  fs.mkdirSync(outDir, { recursive: true });
  for (const g of GROUPS) {
    for (const c of Object.values(compileGroup(g))) {
      const file = path.join(outDir, c.contractName + '.json');
      fs.writeFileSync(file + '.tmp', JSON.stringify(c, null, 2) + '\n');
      fs.renameSync(file + '.tmp', file);
    }
  }
}

main(process.argv.slice(2));
