//go:build windows

package fsutil

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// SyncDir is a no-op on Windows, where folders cannot be opened for fsync and
// MoveFileEx already makes the rename durable enough.
func SyncDir(string) error { return nil }

// RestrictToAdmins replaces the ACL of path (a folder, inherited by what is in it) with
// full control for SYSTEM and Administrators only: the agent's config and state hold
// the credential and repository passwords.
func RestrictToAdmins(path string) error {
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)")
	if err != nil {
		return fmt.Errorf("build ACL: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("build ACL: %w", err)
	}
	err = windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	return nil
}
