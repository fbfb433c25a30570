// Package buildinfo reports the version of the running binary.
package buildinfo

import "runtime/debug"

// version is set at link time: -ldflags "-X .../common/buildinfo.version=v1.2.3".
var version = ""

// Version returns the linked version, else the module version, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}
