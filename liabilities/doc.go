// Package liabilities turns a snapshot of users' balances into the liabilities tree and serves
// users' inclusion proofs. It parses the accounts CSV, generates realistic test snapshots,
// assigns salts and a secret leaf order, builds the 8-ary Poseidon2 tree and the salted
// running-sum chain, writes the public summary and the private store, and produces and checks
// inclusion proofs. Every hashed record (idHash, leaf, node, EMPTY_l, running-sum commitment,
// batch digest, LC) comes from circuits/batch's native twin; this package defines none, so the
// tree it builds is by construction the one the batch circuit proves.
//
// # Flow
//
//	accounts, err := liabilities.ReadAccounts("accounts.csv", table)    // *ParseError: file:line:column
//	snap, err := liabilities.Build(ctx, table, accounts, liabilities.BuildOptions{Epoch: 1, SnapshotTime: t})
//	err = snap.WriteDir("snap", false, nil)                              // complete or absent
//	st, err := liabilities.Open("snap")
//	in, err := st.Batch(i)                                               // the prover's input for batch i
//	proof, err := st.Proof("user-0000123")                               // one user's inclusion proof
//	err = liabilities.VerifyInclusion(proof, trustedRoot)                // or VerifyInclusionLC(proof, trustedLC)
//
// # Tree
//
// Accounts and padding fill n*B leaf slots (B = 8^h, n = ceil(N/B)) in an order drawn from a
// crypto/rand-keyed ChaCha8 shuffle of all slots (L9); padding slots are zero-balance accounts
// with random ids and salts (L5). Each batch is hashed with batch.Compute, which also advances
// the running-sum chain from ACC0 with a fresh salt per batch (L1, L3). Above the batches, slots
// at or past n hold EMPTY_h (L4). LC = batch.LCPreimage{...}.Hash.
//
// # Public file: public/liabilities.json (type Public)
//
//	{ "version": 1, "kind": "solvency/liabilities-public",
//	  "epoch": 7, "snapshot_time": 1764000000,
//	  "assets": [{"symbol": "ETH", "decimals": 18, "precision": 8}, ...], "assets_hash": "0x..",
//	  "batch_height": 3, "batch_size": 512, "batches": 1954, "top_height": 4, "depth": 7,
//	  "root": "0x..", "acc_final": "0x..", "lc": "0x..",
//	  "top_tree": [["0x.." x n batch roots], [level 1], ..., ["0x.." root]] }
//
// top_tree level l lists the nodes at height h+l that cover at least one real batch; every node
// after them is EMPTY_{h+l}. Public.Check recomputes it all from the batch roots. The file holds
// no account id, salt, balance, leaf, or per-batch sum (V4); the real account count is not in it
// either (only n, from which N is known to within B).
//
// # Private store: private/ (see store.go for the byte layout)
//
// store.json (manifest), accounts.bin (fixed-size records in leaf order: flags, id, salt,
// idHash, balances), leaves.bin (leaf hashes), index.bin (sorted SHA-256(id)[:8] -> leaf index,
// binary-searched), batches.bin (per batch: root, accBefore, accAfter, digest, before/after salts
// and running sums). A proof reads one index path, one record and one batch's leaves.
//
// # Inclusion proof file (type InclusionProof)
//
//	{ "version": 1, "kind": "solvency/inclusion-proof",
//	  "account_id": "user-0000123", "salt": "0x..",
//	  "balances": [{"symbol": "ETH", "amount": "1.50000000", "units": "150000000"}, ...],
//	  "leaf_index": 123456,
//	  "path": [["0x.." x 7], ... exactly depth levels, leaf level first],
//	  "snapshot": { "epoch", "snapshot_time", "assets", "assets_hash", "batch_height",
//	                "batch_size", "batches", "depth", "root", "acc_final", "lc" } }
//
// At level l the path's node sits at child position digit_l(leaf_index) (base 8, least
// significant first); the seven siblings are the other children in order. Field elements are
// always 0x + 64 lowercase hex digits, parsed canonically (V3); units are decimal strings.
package liabilities
