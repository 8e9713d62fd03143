#!/usr/bin/env node
// compile.js compiles Solidity sources with the pinned solc from package-lock.json, using standard
// JSON input with fixed settings, so the same sources always give the same bytecode.
//
// usage: node tools/compile.js OUT_DIR FILE.sol [FILE.sol ...]
//        node tools/compile.js --stdin            (reads {"sources": {name: content}} from stdin,
//                                                   writes {"contracts": {...}} to stdout)
//
// For every contract C defined in the given files it writes OUT_DIR/C.json:
//   {"contractName": C, "sourceName": FILE, "compiler": "0.8.37+commit...", "settings": {...},
//    "abi": [...], "bytecode": "0x...", "deployedBytecode": "0x...",
//    "immutableReferences": {"<AST id>": [{"start": N, "length": 32}, ...]},
//    "immutableNames": {"<AST id>": "variableName"}}
// immutableReferences is solc's evm.deployedBytecode.immutableReferences: where the constructor
// writes each immutable into the runtime code (zero in deployedBytecode). immutableNames names
// each id from the AST, so an auditor can mask the immutables, compare the rest of the deployed
// code byte for byte, and check each immutable's value (V2).
// Errors from the compiler are printed to stderr and the exit status is 1.
'use strict';

const fs = require('fs');
const path = require('path');

let solc;
try {
  solc = require('solc');
} catch (e) {
  process.stderr.write('compile.js: the Solidity compiler is not installed; run scripts/setup.sh ' +
    '(it runs npm ci in contracts/)\n');
  process.exit(3);
}

// SETTINGS are part of the artifact's identity: changing any of them changes the bytecode, so the
// committed artifacts and the auditors' re-compilation must use exactly these.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: {
    '*': {
      '': ['ast'],
      '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'],
    },
  },
};

function compile(sources) {
  const input = { language: 'Solidity', sources: {}, settings: SETTINGS };
  for (const [name, content] of Object.entries(sources)) {
    input.sources[name] = { content };
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) {
    if (e.severity !== 'error' && !/SPDX|pragma|Warning: This declaration shadows/.test(e.formattedMessage)) {
      process.stderr.write(e.formattedMessage + '\n');
    }
  }
  if (errors.length > 0) {
    for (const e of errors) process.stderr.write(e.formattedMessage + '\n');
    process.exit(1);
  }
  // Every immutable state variable's AST id and name.
  const names = {};
  const walk = (node) => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== 'object') return;
    if (node.nodeType === 'VariableDeclaration' && node.mutability === 'immutable') {
      names[String(node.id)] = node.name;
    }
    for (const v of Object.values(node)) {
      if (v && typeof v === 'object') walk(v);
    }
  };
  for (const src of Object.values(output.sources || {})) walk(src.ast);
  const out = {};
  for (const [sourceName, contracts] of Object.entries(output.contracts || {})) {
    for (const [contractName, c] of Object.entries(contracts)) {
      const refs = c.evm.deployedBytecode.immutableReferences || {};
      const refNames = {};
      for (const id of Object.keys(refs)) {
        if (!(id in names)) throw new Error(`${contractName}: immutable reference ${id} has no declaration`);
        refNames[id] = names[id];
      }
      out[sourceName + ':' + contractName] = {
        contractName,
        sourceName,
        compiler: solc.version(),
        settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion, metadata: SETTINGS.metadata },
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        immutableReferences: refs,
        immutableNames: refNames,
      };
    }
  }
  return out;
}

function main(argv) {
  if (argv[0] === '--stdin') {
    const req = JSON.parse(fs.readFileSync(0, 'utf8'));
    process.stdout.write(JSON.stringify({ contracts: compile(req.sources) }));
    return;
  }
  if (argv.length < 2) {
    process.stderr.write('usage: node tools/compile.js OUT_DIR FILE.sol [FILE.sol ...]\n');
    process.exit(2);
  }
  const outDir = argv[0];
  const sources = {};
  for (const f of argv.slice(1)) {
    sources[path.basename(f)] = fs.readFileSync(f, 'utf8');
  }
  const out = compile(sources);
  fs.mkdirSync(outDir, { recursive: true });
  for (const c of Object.values(out)) {
    if (c.bytecode === '0x') continue; // interfaces and abstract contracts have no artifact
    const file = path.join(outDir, c.contractName + '.json');
    const tmp = file + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n');
    fs.renameSync(tmp, file);
  }
}

main(process.argv.slice(2));
