package restic

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// fakeRestic writes a shell script that answers `restic version` like 0.18 and runs body
// for every other command.
func fakeRestic(t *testing.T, body string) string {
	return fakeResticVersion(t, "0.18.0", body)
}

func fakeResticVersion(t *testing.T, version, body string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake restic is a shell script")
	}
	path := filepath.Join(t.TempDir(), "restic")
	script := "#!/bin/sh\nif [ \"$1\" = version ]; then echo 'restic " + version + " compiled with go1.24.4 on linux/amd64'; exit 0; fi\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOutputHandling(t *testing.T) {
	// 11 MB of 'a' on one line, between JSON lines of both versions' shapes.
	body := fmt.Sprintf(`echo 'some text before'
echo '%s'
echo '%s'
head -c 11000000 /dev/zero | tr '\0' a; echo
echo '%s'
echo '%s' >&2
echo '%s' >&2
echo '%s'
echo 'Warning: at least one source file could not be read' >&2
exit 3`, scanFinished014, statusStart014, status014, error014, error018, summary018)
	r := New(fakeRestic(t, body), nil)
	ev := &recorder{}
	spec := validSpec(protocol.KindBackup)
	res, err := r.Run(context.Background(), spec, ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != protocol.JobWarning || res.ExitCode != 3 || !strings.Contains(res.Error, "(2 errors)") {
		t.Errorf("result %+v", res)
	}
	if string(res.Summary) != summary018 {
		t.Errorf("summary %s", res.Summary)
	}
	progress, _, logs := ev.snapshot()
	// Two status lines within a second: the first is sent at once, the second on flush.
	if len(progress) != 2 || progress[1].BytesDone != 96885382 {
		t.Errorf("progress %+v", progress)
	}
	all := strings.Join(logs, "\n")
	for _, want := range []string{
		"stdout: some text before",
		"agent: the next stdout line was longer than 10485760 bytes and is cut",
		"stderr: error during archival: read /proc/self/mem",
		"stderr: error during archival: failed to save /proc/self/mem",
		`stdout: {"message_type":"summary"`,
		"stderr: Warning: at least one source file could not be read",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("log misses %q", want)
		}
	}
	if strings.Contains(all, `"message_type":"status"`) {
		t.Error("a status line was logged")
	}
	for _, l := range logs {
		if len(l) > maxLineBytes+100 {
			t.Errorf("a log line of %d bytes", len(l))
		}
	}
}

func TestCancelKillsAfterGrace(t *testing.T) {
	// A restic that ignores SIGINT is killed once the grace period is over.
	r := New(fakeRestic(t, "trap '' INT\necho started\nexec sleep 20"), nil)
	r.GracePeriod = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ev := &recorder{}
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	res, err := r.Run(ctx, validSpec(protocol.KindBackup), ev)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	if res.Status != protocol.JobCancelled || res.ExitCode != -1 {
		t.Errorf("result %+v", res)
	}
	_, _, logs := ev.snapshot()
	if all := strings.Join(logs, "\n"); !strings.Contains(all, "was killed: it may have left a lock") {
		t.Errorf("no kill note:\n%s", all)
	}
}

func TestSecretsStayOutOfArgvAndLogs(t *testing.T) {
	// A restic that prints everything it was given: argv, the password, the repository.
	body := `echo "argv: $*"
echo "password: $RESTIC_PASSWORD" >&2
echo "repository: $RESTIC_REPOSITORY" >&2
echo "rest: $RESTIC_REST_USERNAME $RESTIC_REST_PASSWORD" >&2
echo '{"message_type":"exit_error","code":12,"message":"Fatal: wrong password or no key found"}' >&2
exit 12`
	const password, restPassword = "correct horse battery", "rest s3cret/:@"
	for _, version := range []string{"0.14.0", "0.18.0"} {
		t.Run(version, func(t *testing.T) {
			r := New(fakeResticVersion(t, version, body), nil)
			for _, kind := range protocol.JobKinds {
				spec := validSpec(kind)
				spec.Repository = protocol.Repository{URL: "rest:https://backup.example:8000/host1/", Password: password,
					RestUsername: "host1", RestPassword: restPassword}
				ev := &recorder{}
				res, err := r.Run(context.Background(), spec, ev)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if res.Status != protocol.JobFailed || res.Error != "wrong repository password" {
					t.Errorf("%s: %+v", kind, res)
				}
				_, _, logs := ev.snapshot()
				all := strings.Join(logs, "\n")
				if !strings.Contains(all, "argv: ") || !strings.Contains(all, "password: [redacted]") {
					t.Errorf("%s: the fake's output is missing:\n%s", kind, all)
				}
				for _, secret := range append(secretsOf(spec.Repository), password, restPassword) {
					if strings.Contains(all, secret) || strings.Contains(res.Error, secret) {
						t.Errorf("%s: a secret (%q) reached the log:\n%s", kind, secret, all)
					}
				}
				for _, l := range logs {
					if strings.HasPrefix(l, "stdout: argv: ") && (strings.Contains(l, "[redacted]") || strings.Contains(l, "s3cret")) {
						t.Errorf("%s: a secret was in argv: %s", kind, l)
					}
				}
			}
		})
	}
}
