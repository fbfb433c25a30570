package restic

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// inheritedResticVar reports whether a RESTIC_* variable of the agent's own environment
// may pass to the child. Everything else named RESTIC_* is dropped: the repository, the
// password and above all RESTIC_PASSWORD_FILE, RESTIC_PASSWORD_COMMAND and the
// RESTIC_FROM_* family must come from the job, never from the agent's environment.
func inheritedResticVar(name string) bool {
	switch name {
	case "RESTIC_CACHE_DIR", "RESTIC_COMPRESSION", "RESTIC_PACK_SIZE", "RESTIC_READ_CONCURRENCY":
		return true
	}
	return false
}

// baseEnv filters the agent's environment (os.Environ when env is nil) for a restic child.
func baseEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+8)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name) // Windows names are case-insensitive
		if strings.HasPrefix(upper, "RESTIC_") && !inheritedResticVar(upper) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// allowedRepoEnv reports whether Repository.Env may set the variable name: cloud
// credentials and a few harmless restic tunables. Anything that could make restic (or a
// library it uses) run a program or read an arbitrary secret file is refused.
func allowedRepoEnv(name string) error {
	if name == "" {
		return fmt.Errorf("empty variable name")
	}
	for i, c := range name {
		if !(c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return fmt.Errorf("variable %q: a name is upper-case letters, digits and '_', not starting with a digit", name)
		}
	}
	for _, bad := range []string{"COMMAND", "PROGRAM", "PROCESS", "EXEC"} {
		if strings.Contains(name, bad) {
			return fmt.Errorf("variable %q is refused: it could run a program", name)
		}
	}
	switch name {
	case "RESTIC_COMPRESSION", "RESTIC_PACK_SIZE", "RESTIC_READ_CONCURRENCY",
		"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY":
		return nil
	}
	if strings.HasPrefix(name, "RESTIC_") {
		return fmt.Errorf("variable %q is refused: the agent sets the repository, password and options itself", name)
	}
	for _, prefix := range []string{"AWS_", "B2_", "AZURE_", "GOOGLE_", "OS_", "ST_"} {
		if strings.HasPrefix(name, prefix) {
			return nil
		}
	}
	return fmt.Errorf("variable %q is not a known cloud credential (allowed: AWS_*, B2_*, AZURE_*, GOOGLE_*, OS_*, ST_*, RESTIC_COMPRESSION, RESTIC_PACK_SIZE, RESTIC_READ_CONCURRENCY, HTTP(S)_PROXY, NO_PROXY)", name)
}

// childEnv is the complete environment of one restic run: the filtered agent
// environment, then the repository's variables, then the repository and its secrets.
// Later entries win (os/exec keeps the last of duplicate keys).
func childEnv(base []string, repo protocol.Repository, feat features, fps float64) []string {
	env := baseEnv(base)
	for k, v := range repo.Env {
		env = append(env, k+"="+v)
	}
	repoURL := repo.URL
	if repo.RestUsername != "" || repo.RestPassword != "" {
		if feat.restEnvCreds {
			env = append(env, "RESTIC_REST_USERNAME="+repo.RestUsername, "RESTIC_REST_PASSWORD="+repo.RestPassword)
		} else {
			repoURL = restURLWithCredentials(repo.URL, repo.RestUsername, repo.RestPassword)
		}
	}
	env = append(env,
		"RESTIC_REPOSITORY="+repoURL,
		"RESTIC_PASSWORD="+repo.Password,
		"RESTIC_PROGRESS_FPS="+strconv.FormatFloat(fps, 'f', -1, 64),
	)
	return env
}

// restURLWithCredentials embeds REST credentials into a rest: URL, for restic before
// 0.16.1 which has no RESTIC_REST_USERNAME/PASSWORD.
func restURLWithCredentials(repoURL, user, pass string) string {
	u, err := url.Parse(strings.TrimPrefix(repoURL, "rest:"))
	if err != nil || !strings.HasPrefix(repoURL, "rest:") {
		return repoURL // ValidateSpec refuses this before it gets here
	}
	u.User = url.UserPassword(user, pass)
	return "rest:" + u.String()
}

// displayURL is the repository URL without any credentials, for messages.
func displayURL(repoURL string) string {
	for _, scheme := range []string{"rest:", "s3:", "swift:", ""} {
		if !strings.HasPrefix(repoURL, scheme) {
			continue
		}
		rest := strings.TrimPrefix(repoURL, scheme)
		if !strings.Contains(rest, "://") {
			break
		}
		u, err := url.Parse(rest)
		if err != nil || u.User == nil {
			break
		}
		u.User = nil
		return scheme + u.String()
	}
	return repoURL
}
