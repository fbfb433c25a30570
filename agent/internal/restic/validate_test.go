package restic

import (
	"slices"
	"strings"
	"testing"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func validSpec(kind string) protocol.RunSpec {
	return protocol.RunSpec{
		JobID: "j1", Kind: kind,
		Repository: protocol.Repository{URL: "/srv/repo", Password: "pw"},
		Paths:      []string{"/data"},
		Retention:  &protocol.Retention{KeepLast: 3},
		Restore:    &protocol.RestoreSpec{Snapshot: "0123abcd", Target: "/restore"},
	}
}

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*protocol.RunSpec)
		kind    string
		wantErr string // "" = valid
	}{
		{"backup ok", func(*protocol.RunSpec) {}, protocol.KindBackup, ""},
		{"dash path is fine", func(s *protocol.RunSpec) { s.Paths = []string{"-rf", "--password-command=x"} }, protocol.KindBackup, ""},
		{"unknown kind", func(s *protocol.RunSpec) { s.Kind = "rm" }, protocol.KindBackup, "unknown job kind"},
		{"restore without spec", func(s *protocol.RunSpec) { s.Restore = nil }, protocol.KindRestore, "no restore spec"},
		{"restore relative target", func(s *protocol.RunSpec) { s.Restore.Target = "srv" }, protocol.KindRestore, "absolute path"},
		{"restore latest", func(s *protocol.RunSpec) { s.Restore.Snapshot = "latest" }, protocol.KindRestore, "hex digits"},
		{"restore bad overwrite", func(s *protocol.RunSpec) { s.Restore.Overwrite = "sometimes" }, protocol.KindRestore, "restore.overwrite"},
		{"restore dash include", func(s *protocol.RunSpec) { s.Restore.Includes = []string{"--password-command=x"} }, protocol.KindRestore, ""},
		{"no paths", func(s *protocol.RunSpec) { s.Paths = nil }, protocol.KindBackup, "at least one path"},
		{"empty path", func(s *protocol.RunSpec) { s.Paths = []string{""} }, protocol.KindBackup, "paths[0]: empty"},
		{"NUL path", func(s *protocol.RunSpec) { s.Paths = []string{"/a\x00b"} }, protocol.KindBackup, "control characters"},
		{"newline exclude", func(s *protocol.RunSpec) { s.Excludes = []string{"a\nb"} }, protocol.KindBackup, "control characters"},
		{"comma tag", func(s *protocol.RunSpec) { s.Tags = []string{"a,b"} }, protocol.KindBackup, "cannot contain ','"},
		{"host with space", func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{Host: "a b"} }, protocol.KindBackup, "options.host"},
		{"no password", func(s *protocol.RunSpec) { s.Repository.Password = "" }, protocol.KindSnapshots, "password: empty"},
		{"relative repo", func(s *protocol.RunSpec) { s.Repository.URL = "repo" }, protocol.KindSnapshots, "absolute path"},
		{"windows repo", func(s *protocol.RunSpec) { s.Repository.URL = `C:\backup\repo` }, protocol.KindSnapshots, ""},
		{"path with colon", func(s *protocol.RunSpec) { s.Repository.URL = "/srv/a:b" }, protocol.KindSnapshots, ""},
		{"rclone", func(s *protocol.RunSpec) { s.Repository.URL = "rclone:remote:bucket" }, protocol.KindSnapshots, "rclone backend is refused"},
		{"sftp dash host", func(s *protocol.RunSpec) { s.Repository.URL = "sftp:-oProxyCommand=evil:/repo" }, protocol.KindSnapshots, "must not start with '-'"},
		{"sftp dash user", func(s *protocol.RunSpec) { s.Repository.URL = "sftp:-x@host:/repo" }, protocol.KindSnapshots, "must not start with '-'"},
		{"sftp url dash host", func(s *protocol.RunSpec) { s.Repository.URL = "sftp://-oProxyCommand=x/repo" }, protocol.KindSnapshots, "must not start with '-'"},
		{"sftp ok", func(s *protocol.RunSpec) { s.Repository.URL = "sftp:backup@host.example:/srv/repo" }, protocol.KindSnapshots, ""},
		{"sftp url ok", func(s *protocol.RunSpec) { s.Repository.URL = "sftp://backup@host.example:2222//srv/repo" }, protocol.KindSnapshots, ""},
		{"rest ok", func(s *protocol.RunSpec) {
			s.Repository.URL, s.Repository.RestUsername, s.Repository.RestPassword = "rest:https://h:8000/r/", "u", "p"
		}, protocol.KindSnapshots, ""},
		{"rest creds on s3", func(s *protocol.RunSpec) { s.Repository.URL, s.Repository.RestUsername = "s3:s3.amazonaws.com/b", "u" }, protocol.KindSnapshots, "not a rest: URL"},
		{"unknown backend", func(s *protocol.RunSpec) { s.Repository.URL = "ftp:host/x" }, protocol.KindSnapshots, "unknown backend"},
		{"dash url", func(s *protocol.RunSpec) { s.Repository.URL = "--password-command=x" }, protocol.KindSnapshots, "must not start with '-'"},
		{"cloud env ok", func(s *protocol.RunSpec) {
			s.Repository.Env = map[string]string{"AWS_ACCESS_KEY_ID": "a", "B2_ACCOUNT_KEY": "b", "RESTIC_COMPRESSION": "max", "OS_PASSWORD": "x"}
		}, protocol.KindSnapshots, ""},
		{"password command env", func(s *protocol.RunSpec) { s.Repository.Env = map[string]string{"RESTIC_PASSWORD_COMMAND": "sh"} }, protocol.KindSnapshots, "could run a program"},
		{"password file env", func(s *protocol.RunSpec) { s.Repository.Env = map[string]string{"RESTIC_PASSWORD_FILE": "/etc/shadow"} }, protocol.KindSnapshots, "RESTIC_PASSWORD_FILE"},
		{"from password command", func(s *protocol.RunSpec) { s.Repository.Env = map[string]string{"RESTIC_FROM_PASSWORD_COMMAND": "x"} }, protocol.KindSnapshots, "could run a program"},
		{"aws command env", func(s *protocol.RunSpec) { s.Repository.Env = map[string]string{"AWS_CREDENTIAL_PROCESS": "x"} }, protocol.KindSnapshots, "could run a program"},
		{"other env", func(s *protocol.RunSpec) { s.Repository.Env = map[string]string{"LD_PRELOAD": "/tmp/x.so"} }, protocol.KindSnapshots, "not a known cloud credential"},
		{"lower-case env", func(s *protocol.RunSpec) { s.Repository.Env = map[string]string{"aws_x": "1"} }, protocol.KindSnapshots, "upper-case"},
		{"forget ok", func(*protocol.RunSpec) {}, protocol.KindForget, ""},
		{"forget empty policy", func(s *protocol.RunSpec) { s.Retention = &protocol.Retention{} }, protocol.KindForget, "retention policy is empty"},
		{"forget nil policy", func(s *protocol.RunSpec) { s.Retention = nil }, protocol.KindForget, "retention policy is empty"},
		{"forget negative", func(s *protocol.RunSpec) { s.Retention = &protocol.Retention{KeepDaily: -1, KeepLast: 1} }, protocol.KindForget, "negative"},
		{"forget within", func(s *protocol.RunSpec) { s.Retention = &protocol.Retention{KeepWithin: "1y2m3d4h"} }, protocol.KindForget, ""},
		{"forget bad within", func(s *protocol.RunSpec) { s.Retention = &protocol.Retention{KeepWithin: "2 weeks"} }, protocol.KindForget, "keep_within"},
		{"forget prune bad max unused", func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{Prune: true, MaxUnused: "lots"} }, protocol.KindForget, "max_unused"},
		{"prune max unused", func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{MaxUnused: "10%"} }, protocol.KindPrune, ""},
		{"prune max unused size", func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{MaxUnused: "2G"} }, protocol.KindPrune, ""},
		{"prune unlimited", func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{MaxUnused: "unlimited"} }, protocol.KindPrune, ""},
		{"prune bad", func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{MaxUnused: "--dry-run"} }, protocol.KindPrune, "max_unused"},
	}
	for _, subset := range []string{"10%", "2.5%", "1/5", "5/5", "500M", "1G", "1024"} {
		tests = append(tests, struct {
			name    string
			mutate  func(*protocol.RunSpec)
			kind    string
			wantErr string
		}{"subset " + subset, func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{ReadDataSubset: subset} }, protocol.KindCheck, ""})
	}
	for _, subset := range []string{"0%", "101%", "-5%", "0/5", "6/5", "1/0", "x", "5MB", "1e2%", "--read-data"} {
		tests = append(tests, struct {
			name    string
			mutate  func(*protocol.RunSpec)
			kind    string
			wantErr string
		}{"bad subset " + subset, func(s *protocol.RunSpec) { s.Options = &protocol.JobOptions{ReadDataSubset: subset} }, protocol.KindCheck, "read_data_subset"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec(tt.kind)
			tt.mutate(&spec)
			err := ValidateSpec(spec)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func envValue(env []string, name string) (string, bool) {
	var val string
	found := false
	for _, kv := range env { // the last one wins, as in os/exec
		if k, v, _ := strings.Cut(kv, "="); k == name {
			val, found = v, true
		}
	}
	return val, found
}

func TestChildEnv(t *testing.T) {
	base := []string{
		"PATH=/usr/bin", "HOME=/root",
		"RESTIC_PASSWORD_FILE=/etc/shadow", "RESTIC_PASSWORD_COMMAND=evil", "RESTIC_FROM_PASSWORD_COMMAND=evil",
		"RESTIC_REPOSITORY=/wrong", "RESTIC_CACHE_DIR=/var/cache/restic", "restic_password_command=evil",
	}
	repo := protocol.Repository{URL: "rest:https://h:8000/r/", Password: "pw", RestUsername: "u", RestPassword: "p@ss:/x",
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "k"}}

	env := childEnv(base, repo, featuresFor(Version{Minor: 18}), 1)
	for _, gone := range []string{"RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_FROM_PASSWORD_COMMAND", "restic_password_command"} {
		if _, ok := envValue(env, gone); ok {
			t.Errorf("%s inherited", gone)
		}
	}
	for name, want := range map[string]string{
		"PATH": "/usr/bin", "RESTIC_CACHE_DIR": "/var/cache/restic", "RESTIC_REPOSITORY": "rest:https://h:8000/r/",
		"RESTIC_PASSWORD": "pw", "RESTIC_REST_USERNAME": "u", "RESTIC_REST_PASSWORD": "p@ss:/x",
		"RESTIC_PROGRESS_FPS": "1", "AWS_ACCESS_KEY_ID": "k",
	} {
		if got, _ := envValue(env, name); got != want {
			t.Errorf("0.18 %s = %q, want %q", name, got, want)
		}
	}

	// restic 0.14 has no RESTIC_REST_*: the credentials go into the URL, escaped.
	env = childEnv(base, repo, featuresFor(Version{Minor: 14}), 2.5)
	if got, _ := envValue(env, "RESTIC_REPOSITORY"); got != "rest:https://u:p%40ss%3A%2Fx@h:8000/r/" {
		t.Errorf("0.14 RESTIC_REPOSITORY = %q", got)
	}
	if _, ok := envValue(env, "RESTIC_REST_PASSWORD"); ok {
		t.Error("0.14 got RESTIC_REST_PASSWORD")
	}
	if got, _ := envValue(env, "RESTIC_PROGRESS_FPS"); got != "2.5" {
		t.Errorf("fps = %q", got)
	}
	if got := displayURL("rest:https://u:p%40ss@h:8000/r/"); got != "rest:https://h:8000/r/" {
		t.Errorf("displayURL = %q", got)
	}
}

func TestArgs(t *testing.T) {
	spec := validSpec(protocol.KindBackup)
	spec.Paths = []string{"-dash", "/data"}
	spec.Excludes = []string{"-x", "*.tmp"}
	spec.Tags = []string{"daily"}
	spec.Options = &protocol.JobOptions{Host: "web1"}
	got := backupArgs(spec)
	want := []string{"backup", "--json", "--host=web1", "--tag=daily", "--exclude=-x", "--exclude=*.tmp", "--", "-dash", "/data"}
	if !slices.Equal(got, want) {
		t.Errorf("backup args = %q, want %q", got, want)
	}

	spec = validSpec(protocol.KindForget)
	spec.Retention = &protocol.Retention{KeepLast: 2, KeepDaily: 7, KeepWithin: "1m", KeepTags: []string{"keep"}}
	spec.Tags = []string{"a", "b"}
	spec.Options = &protocol.JobOptions{Prune: true}
	got = forgetArgs(spec)
	want = []string{"forget", "--json", "--keep-last=2", "--keep-daily=7", "--keep-within=1m", "--keep-tag=keep", "--tag=a,b"}
	if !slices.Equal(got, want) {
		t.Errorf("forget args = %q, want %q", got, want)
	}
	if slices.Contains(got, "--prune") {
		t.Error("forget with --prune")
	}
	if got := checkArgs(featuresFor(Version{Minor: 14}), protocol.JobOptions{ReadDataSubset: "10%"}); !slices.Equal(got, []string{"check", "--read-data-subset=10%"}) {
		t.Errorf("0.14 check args = %q", got)
	}
	if got := checkArgs(featuresFor(Version{Minor: 18}), protocol.JobOptions{}); !slices.Equal(got, []string{"check", "--json"}) {
		t.Errorf("0.18 check args = %q", got)
	}
	if got := unlockArgs(); slices.Contains(got, "--remove-all") {
		t.Errorf("unlock args = %q", got)
	}
}
