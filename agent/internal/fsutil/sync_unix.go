//go:build !windows

package fsutil

import (
	"fmt"
	"os"
)

// SyncDir fsyncs a folder so that a rename inside it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// RestrictToAdmins makes a folder mode 0700 (owner only: root for the service).
func RestrictToAdmins(path string) error {
	if err := os.Chmod(path, 0o700); err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	return nil
}
