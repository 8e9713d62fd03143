// Package workqueue spreads batch proving over workers through NATS JetStream: a work-queue
// stream of batch tasks (one per batch, idempotent by snapshot, batch index and batch digest), a
// stream of returned proofs (at most one stored per batch), and an object store that holds the
// compiled batch circuit and its proving key by digest.
//
// The coordinator (Coordinator, a prover.BatchBackend) publishes tasks, checks every returned
// proof against the batch digest it expects before accepting it (a worker is not trusted), and
// resumes from what JetStream and the proofs directory already hold. A worker (Worker) takes one
// task at a time, fetches the circuit and key named by digest (refusing any other), proves with
// in-progress heartbeats so that a long batch is not redelivered, and returns the proof. A worker
// killed mid-task leaves its task unacknowledged: JetStream redelivers it after the ack deadline.
//
// Witnesses hold account balances and salts: workers are the operator's own machines, and
// connections off loopback use TLS and credentials (see Connect and docs/scale-out.md).
package workqueue

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// JetStream names. One server can serve many snapshots: subjects carry the job id.
const (
	TaskStream     = "SOLVENCY_TASKS"
	ResultStream   = "SOLVENCY_RESULTS"
	KeysBucket     = "SOLVENCY_KEYS"
	WorkerConsumer = "solvency-workers"

	taskPrefix   = "solvency.task."
	resultPrefix = "solvency.result."
	eventPrefix  = "solvency.event."
)

// ProtocolVersion is carried by every task and result; a reader refuses any other.
const ProtocolVersion = 1

// Size limits for what crosses the wire: a task holds one batch's full witness (about 32 bytes
// per input; the production batch of 512 accounts at 8 assets is well under 1 MiB), a result one
// Groth16 proof.
const (
	MaxTaskBytes   = 16 << 20
	MaxResultBytes = 64 << 10
)

// Defaults for the worker consumer.
const (
	DefaultAckWait = 60 * time.Second
	DefaultWindow  = 64
)

// KeyRef names the batch circuit a task must be proved with, by the sha256 of each part's
// encoding as stored in the object store.
type KeyRef struct {
	R1CS     string `json:"r1cs_sha256"`
	PK       string `json:"pk_sha256"`
	PKFormat string `json:"pk_format"` // keys.PKDump or keys.PKRaw
	PKArch   string `json:"pk_arch,omitempty"`
	VK       string `json:"vk_sha256"`
}

func (k KeyRef) objectNames() (r1cs, pk, vk string) {
	return "r1cs-" + k.R1CS, "pk-" + k.PK, "vk-" + k.VK
}

// Task is one batch to prove. Job, Index and Digest make it idempotent: the same batch of the
// same snapshot is one task however often it is published.
type Task struct {
	Version int    `json:"version"`
	Job     string `json:"job"`
	Index   int    `json:"index"`
	Digest  string `json:"digest"` // the batch's public digest, 0x-hex
	Keys    KeyRef `json:"keys"`
	// Witness is the batch's full witness, gnark's binary encoding. It is private: account
	// balances and salts.
	Witness []byte `json:"witness"`
}

// Result is a worker's answer to a task.
type Result struct {
	Version int    `json:"version"`
	Job     string `json:"job"`
	Index   int    `json:"index"`
	Digest  string `json:"digest"`
	Worker  string `json:"worker"`
	Proof   []byte `json:"proof"` // gnark binary encoding
}

// Event reports what a worker or the coordinator does, for progress displays and logs.
type Event struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"` // started, proved, skipped, refused, failed, accepted, rejected, published, resumed
	Job     string    `json:"job"`
	Index   int       `json:"index"`
	Worker  string    `json:"worker,omitempty"`
	Seconds float64   `json:"seconds,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// JobID names a snapshot's proving job: a digest of every batch digest in order (each binds the
// snapshot's epoch, its index, its subtree root and its running sums) and of the keys, so two
// snapshots, or one snapshot under two sets of keys, never share tasks.
func JobID(digests []fr.Element, keys KeyRef) string {
	h := sha256.New()
	fmt.Fprintf(h, "solvency-workqueue-job/v1\n%s\n%s\n%s\n", keys.R1CS, keys.PK, keys.VK)
	for i := range digests {
		b := digests[i].Bytes()
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func taskSubject(job string, i int) string   { return fmt.Sprintf("%s%s.%d", taskPrefix, job, i) }
func resultSubject(job string, i int) string { return fmt.Sprintf("%s%s.%d", resultPrefix, job, i) }
func eventSubject(job string) string         { return eventPrefix + job }

// taskMsgID is JetStream's de-duplication id for a task: a republish of the same batch is dropped
// by the server. attempt > 0 marks a deliberate republish after a rejected proof.
func taskMsgID(job string, i int, digest string, attempt int) string {
	return fmt.Sprintf("%s.%d.%s.%d", job, i, digest, attempt)
}

func hexFr(e fr.Element) string {
	b := e.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}
