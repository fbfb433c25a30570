// Package hooks runs the local hooks named in the agent's config file. The server can
// only name a hook; the program, its arguments and its timeout come from the local
// file, so the server can never make the agent run an unconfigured program.
package hooks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrUnknown is returned for a hook name the local config does not define.
var ErrUnknown = errors.New("hook is not defined in the agent's local config")

// Hook is one configured program: an argv list run without a shell.
type Hook struct {
	Command []string
	Timeout time.Duration
}

// Output receives the hook's output a line at a time; stream is "stdout" or "stderr".
type Output func(stream, line string)

// Runner runs hooks by name.
type Runner struct {
	hooks map[string]Hook
	// grace is how long a hook gets between the polite stop signal and the kill.
	grace time.Duration
}

// New returns a Runner over the configured hooks.
func New(hooks map[string]Hook) *Runner {
	cp := make(map[string]Hook, len(hooks))
	for k, v := range hooks {
		cp[k] = v
	}
	return &Runner{hooks: cp, grace: 10 * time.Second}
}

// Names lists the configured hook names.
func (r *Runner) Names() []string {
	out := make([]string, 0, len(r.hooks))
	for k := range r.hooks {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has reports whether a hook is configured.
func (r *Runner) Has(name string) bool {
	_, ok := r.hooks[name]
	return ok
}

// Run runs the named hook with extra environment variables (KEY=value) added to the
// agent's own, sending its output to out. It fails for an unknown name, a start
// failure, a non-zero exit or the timeout.
func (r *Runner) Run(ctx context.Context, name string, env []string, out Output) error {
	h, ok := r.hooks[name]
	if !ok {
		return fmt.Errorf("hook %q: %w", name, ErrUnknown)
	}
	if len(h.Command) == 0 {
		return fmt.Errorf("hook %q: empty command", name)
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, h.Command[0], h.Command[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return interrupt(cmd) }
	cmd.WaitDelay = r.grace

	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("hook %q: %w", name, err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("hook %q: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("hook %q: start %s: %w", name, h.Command[0], err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go pump(&wg, stdout, "stdout", out)
	go pump(&wg, stderr, "stderr", out)
	wg.Wait()
	err = cmd.Wait()
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("hook %q: timed out after %s", name, timeout)
	case ctx.Err() != nil:
		return fmt.Errorf("hook %q: cancelled: %w", name, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("hook %q: exited with code %d", name, ee.ExitCode())
	}
	return fmt.Errorf("hook %q: %w", name, err)
}

func pump(wg *sync.WaitGroup, r io.Reader, stream string, out Output) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if out != nil {
			out(stream, strings.TrimRight(sc.Text(), "\r"))
		}
	}
	_, _ = io.Copy(io.Discard, r)
}
