package workqueue

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/solvency-dev/solvency/bundle"
	"github.com/solvency-dev/solvency/internal/atomicfile"
	"github.com/solvency-dev/solvency/prover/keys"
)

// Circuit is a batch circuit with its keys, as a worker proves with it.
type Circuit struct {
	Ref KeyRef
	*keys.Circuit
}

// encode writes one part of a circuit to a temporary file in dir, returning its path and sha256.
func encode(dir string, fill func(io.Writer) error) (string, string, error) {
	f, err := os.CreateTemp(dir, "part-*")
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// circuitParts are the three encodings a KeyRef names, in order r1cs, pk, vk.
func circuitParts(c *keys.Circuit) ([3]func(io.Writer) error, error) {
	bpk, ok := c.PK.(*groth16bn254.ProvingKey)
	if !ok {
		return [3]func(io.Writer) error{}, fmt.Errorf("proving key is %T, not a BN254 key", c.PK)
	}
	return [3]func(io.Writer) error{
		func(w io.Writer) error { _, err := c.CCS.WriteTo(w); return err },
		bpk.WriteDump,
		func(w io.Writer) error { _, err := c.VK.WriteTo(w); return err },
	}, nil
}

var partNames = [3]string{"r1cs", "pk", "vk"}

// KeyRefFor is the reference tasks name for c: the digests its metadata records where they are
// of the encodings stored (loaded keys), or else the sha256 of each encoding (keys in memory).
func KeyRefFor(c *keys.Circuit) (KeyRef, error) {
	ref := KeyRef{R1CS: c.Info.R1CSDigest, PK: pkWant(c.Info), PKFormat: keys.PKDump, PKArch: runtime.GOARCH, VK: c.Info.VKDigest}
	parts, err := circuitParts(c)
	if err != nil {
		return KeyRef{}, err
	}
	for i, d := range []*string{&ref.R1CS, &ref.PK, &ref.VK} {
		if *d != "" {
			continue
		}
		h := sha256.New()
		bw := bufio.NewWriterSize(h, 1<<20)
		if err := parts[i](bw); err != nil {
			return KeyRef{}, fmt.Errorf("encode the batch %s: %w", partNames[i], err)
		}
		if err := bw.Flush(); err != nil {
			return KeyRef{}, err
		}
		*d = hex.EncodeToString(h.Sum(nil))
	}
	return ref, nil
}

// PublishKeys puts c's constraint system, proving key (gnark's dump, this architecture) and
// verifying key into the keys bucket under their digests, unless already there, and returns the
// reference tasks name. Each encoding is checked against ref before upload.
func PublishKeys(ctx context.Context, js jetstream.JetStream, c *keys.Circuit, tmpDir string) (KeyRef, error) {
	ref, err := KeyRefFor(c)
	if err != nil {
		return KeyRef{}, err
	}
	obs, err := keyStore(ctx, js)
	if err != nil {
		return KeyRef{}, err
	}
	parts, err := circuitParts(c)
	if err != nil {
		return KeyRef{}, err
	}
	for i, want := range []string{ref.R1CS, ref.PK, ref.VK} {
		name := partNames[i] + "-" + want
		if info, err := obs.GetInfo(ctx, name); err == nil && !info.Deleted {
			continue // content-addressed: present means the same bytes (workers re-check)
		} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return KeyRef{}, fmt.Errorf("keys bucket: %w", err)
		}
		path, digest, err := encode(tmpDir, parts[i])
		if err != nil {
			return KeyRef{}, fmt.Errorf("encode the batch %s: %w", partNames[i], err)
		}
		if digest != want {
			os.Remove(path)
			return KeyRef{}, fmt.Errorf("the batch %s encodes to %s, the keys' metadata says %s", partNames[i], digest, want)
		}
		f, err := os.Open(path)
		if err != nil {
			os.Remove(path)
			return KeyRef{}, err
		}
		_, err = obs.Put(ctx, jetstream.ObjectMeta{Name: name, Description: "solvency batch circuit " + partNames[i]}, f)
		f.Close()
		os.Remove(path)
		if err != nil {
			return KeyRef{}, fmt.Errorf("upload the batch %s: %w", partNames[i], err)
		}
	}
	return ref, nil
}

// pkWant is the proving key digest the metadata records, when it is of the dump this
// architecture writes.
func pkWant(info keys.CircuitInfo) string {
	if info.PKFormat == keys.PKDump && info.PKArch == runtime.GOARCH {
		return info.PKDigest
	}
	return ""
}

func keyStore(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: KeysBucket, Description: "solvency batch circuits and proving keys, by sha256",
	})
	if err != nil {
		return nil, fmt.Errorf("keys bucket: %w", err)
	}
	return obs, nil
}

// KeyRefOf is the reference for keys a worker holds locally (from a keys directory): the digests
// its metadata records.
func KeyRefOf(c *keys.Circuit) KeyRef {
	return KeyRef{R1CS: c.Info.R1CSDigest, PK: c.Info.PKDigest, PKFormat: c.Info.PKFormat, PKArch: c.Info.PKArch, VK: c.Info.VKDigest}
}

// ErrKeyRefused is wrapped by every refusal to prove with the keys a task names.
var ErrKeyRefused = errors.New("refused the task's keys")

// fetchCircuit downloads the parts ref names into cacheDir (kept by digest across tasks), checks
// each against its digest, and parses them. A part whose bytes do not hash to the digest the task
// names is refused and not kept.
func fetchCircuit(ctx context.Context, js jetstream.JetStream, ref KeyRef, cacheDir string) (*Circuit, error) {
	if ref.PKFormat != keys.PKDump && ref.PKFormat != keys.PKRaw {
		return nil, fmt.Errorf("%w: unknown proving key format %q", ErrKeyRefused, ref.PKFormat)
	}
	if ref.PKFormat == keys.PKDump && ref.PKArch != runtime.GOARCH {
		return nil, fmt.Errorf("%w: the proving key is a %s dump; this worker runs on %s", ErrKeyRefused, ref.PKArch, runtime.GOARCH)
	}
	for _, d := range []string{ref.R1CS, ref.PK, ref.VK} {
		if b, err := hex.DecodeString(d); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("%w: %q is not a sha256 digest", ErrKeyRefused, d)
		}
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("worker key cache: %w", err)
	}
	obs, err := js.ObjectStore(ctx, KeysBucket)
	if err != nil {
		return nil, fmt.Errorf("keys bucket: %w", err)
	}
	rn, pn, vn := ref.objectNames()
	paths := make([]string, 3)
	for i, pair := range [][2]string{{rn, ref.R1CS}, {pn, ref.PK}, {vn, ref.VK}} {
		if paths[i], err = cachedObject(ctx, obs, pair[0], pair[1], cacheDir); err != nil {
			return nil, err
		}
	}
	c := &keys.Circuit{Info: keys.CircuitInfo{R1CSDigest: ref.R1CS, PKDigest: ref.PK, PKFormat: ref.PKFormat, PKArch: ref.PKArch, VKDigest: ref.VK}}
	c.CCS = groth16.NewCS(ecc.BN254)
	if err := parseFile(paths[0], func(r io.Reader) error { _, err := c.CCS.ReadFrom(r); return err }); err != nil {
		return nil, fmt.Errorf("batch constraint system: %w", err)
	}
	pk := groth16.NewProvingKey(ecc.BN254)
	read := func(r io.Reader) error { _, err := pk.UnsafeReadFrom(r); return err }
	if ref.PKFormat == keys.PKDump {
		bpk, ok := pk.(*groth16bn254.ProvingKey)
		if !ok {
			return nil, fmt.Errorf("proving key is %T, not a BN254 key", pk)
		}
		read = bpk.ReadDump
	}
	if err := parseFile(paths[1], read); err != nil {
		return nil, fmt.Errorf("batch proving key: %w", err)
	}
	c.PK = pk
	vkBytes, err := os.ReadFile(paths[2])
	if err != nil {
		return nil, err
	}
	vk, digest, err := bundle.ParseVerifyingKey(vkBytes)
	if err != nil {
		return nil, fmt.Errorf("batch verifying key: %w", err)
	}
	if digest != ref.VK {
		return nil, fmt.Errorf("%w: the verifying key parses to digest %s, the task names %s", ErrKeyRefused, digest, ref.VK)
	}
	c.VK = vk
	return &Circuit{Ref: ref, Circuit: c}, nil
}

// cachedObject returns the path of object name in cacheDir, downloading it if absent; the file's
// sha256 must be digest, whether cached or fresh.
func cachedObject(ctx context.Context, obs jetstream.ObjectStore, name, digest, cacheDir string) (string, error) {
	path := filepath.Join(cacheDir, name)
	if got, err := fileDigest(path); err == nil && got == digest {
		return path, nil
	}
	r, err := obs.Get(ctx, name)
	if err != nil {
		return "", fmt.Errorf("%w: fetch %s from the keys bucket: %v", ErrKeyRefused, name, err)
	}
	defer r.Close()
	h := sha256.New()
	err = atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != digest {
			return fmt.Errorf("%w: %s holds bytes with sha256 %s, not the %s the task names", ErrKeyRefused, name, got, digest)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func parseFile(path string, parse func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return parse(bufio.NewReaderSize(f, 1<<20))
}
