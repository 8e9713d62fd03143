package devnet

import (
	"fmt"

	"github.com/solvency-dev/solvency/internal/atomicfile"
)

// WriteKeyFile writes a copy of the developer key to path (hex, mode 0600, atomically), in the
// format of the key file the chain keeps, for tools that expect the key elsewhere.
func (d *Devnet) WriteKeyFile(path string) error {
	raw := fmt.Sprintf("%x\n", d.Key.D.FillBytes(make([]byte, 32)))
	if err := atomicfile.WriteFile(path, []byte(raw), 0o600); err != nil {
		return fmt.Errorf("write the developer key: %w", err)
	}
	return nil
}
