package restic

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Version is a restic release as reported by `restic version`.
type Version struct {
	Major, Minor, Patch int
	// Raw is the first line restic printed, e.g. "restic 0.14.0 compiled with go1.19.8 on linux/amd64".
	Raw string
}

// String returns "major.minor.patch".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is the release major.minor.patch or newer.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

var versionRE = regexp.MustCompile(`restic\s+v?(\d+)\.(\d+)\.(\d+)`)

// ParseVersion reads the output of `restic version` (every release prints
// "restic X.Y.Z compiled with …"; development builds add a suffix such as "-dev").
func ParseVersion(out string) (Version, error) {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return Version{}, fmt.Errorf("unrecognised restic version output %q", firstLine(out))
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Patch, _ = strconv.Atoi(m[3])
	v.Raw = firstLine(out)
	return v, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// features is the one switch over restic releases: every behaviour that differs between
// the versions the agent supports (0.14 on Debian 12 up to current) is decided here.
type features struct {
	initJSON     bool // init --json prints {"message_type":"initialized"} (0.15.0)
	restEnvCreds bool // RESTIC_REST_USERNAME / RESTIC_REST_PASSWORD (0.16.1); older: in the URL
	checkJSON    bool // check --json prints a summary and error messages (0.18.0)
	compression  bool // repository format v2, stats raw-data reports compression (0.15.0)
	restoreJSON  bool // restore --json prints status and summary lines (0.16.0); older: text
	overwrite    bool // restore --overwrite (0.17.0); older restic always overwrites
}

func featuresFor(v Version) features {
	return features{
		initJSON:     v.AtLeast(0, 15, 0),
		restEnvCreds: v.AtLeast(0, 16, 1),
		checkJSON:    v.AtLeast(0, 18, 0),
		compression:  v.AtLeast(0, 15, 0),
		restoreJSON:  v.AtLeast(0, 16, 0),
		overwrite:    v.AtLeast(0, 17, 0),
	}
}

// binaryStamp identifies one build of the binary on disk so that the cached version is
// probed again after an upgrade replaced the file.
type binaryStamp struct {
	path    string
	size    int64
	modTime time.Time
}

type cachedVersion struct {
	stamp   binaryStamp
	version Version
}

// resolve finds the restic binary (a bare name is looked up in PATH).
func (r *Runner) resolve() (string, binaryStamp, error) {
	path, err := exec.LookPath(r.binary)
	if err != nil {
		return "", binaryStamp{}, fmt.Errorf("restic binary %q: %w", r.binary, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", binaryStamp{}, fmt.Errorf("restic binary %q: %w", r.binary, err)
	}
	return path, binaryStamp{path: path, size: fi.Size(), modTime: fi.ModTime()}, nil
}

// Version runs `restic version` once per binary build and caches the answer.
func (r *Runner) Version(ctx context.Context) (Version, error) {
	v, _, err := r.probe(ctx)
	return v, err
}

// probe returns the version and the resolved path of the binary.
func (r *Runner) probe(ctx context.Context) (Version, string, error) {
	path, stamp, err := r.resolve()
	if err != nil {
		return Version{}, "", err
	}
	r.mu.Lock()
	cached := r.version
	r.mu.Unlock()
	if cached != nil && cached.stamp == stamp {
		return cached.version, path, nil
	}

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = baseEnv(nil)
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return Version{}, "", fmt.Errorf("restic version: %w", err)
	}
	v, err := ParseVersion(string(out))
	if err != nil {
		return Version{}, "", fmt.Errorf("restic version: %w", err)
	}
	r.mu.Lock()
	r.version = &cachedVersion{stamp: stamp, version: v}
	r.mu.Unlock()
	return v, path, nil
}
