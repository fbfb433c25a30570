package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/client"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// minPollGap spaces polls that come back at once, so a misbehaving server or proxy
// cannot make the agent spin.
const minPollGap = time.Second

// pollLoop says hello, then long-polls; after a failure it backs off with full jitter
// and says hello again before the next poll.
func (d *Daemon) pollLoop(ctx context.Context) {
	if !sleep(ctx, jitter(d.cfg.StartupJitter)) {
		return
	}
	connected := false
	failures := 0
	fastPolls := 0
	for ctx.Err() == nil {
		if !connected {
			d.status.set(func(s *state.Status) {
				if s.State == state.StateStarting {
					s.State = state.StateConnecting
				}
			})
			if err := d.hello(ctx); err != nil {
				if d.handleFatal(err) || ctx.Err() != nil {
					return
				}
				failures++
				d.noteFailure("hello", err)
				sleep(ctx, client.FullJitter(time.Second, d.cfg.ReconnectMax, failures))
				continue
			}
			connected, failures = true, 0
		}
		wait := d.pacing.pollWait()
		started := time.Now()
		resp, err := d.api.Poll(ctx, client.PollQuery{
			Cursor:          d.commands.Cursor(),
			Wait:            wait,
			ScheduleVersion: d.scheduleVersion(),
			ConfigVersion:   d.configVersion(),
		})
		if err != nil {
			if d.handleFatal(err) || ctx.Err() != nil {
				return
			}
			connected = false
			failures++
			d.noteFailure("poll", err)
			sleep(ctx, client.FullJitter(time.Second, d.cfg.ReconnectMax, failures))
			continue
		}
		d.noteContact()
		news := d.handlePoll(ctx, resp)
		if !news && time.Since(started) < minPollGap {
			fastPolls++
			d.log.Debug("poll returned at once with nothing new", "count", fastPolls)
			sleep(ctx, minPollGap+jitter(minPollGap))
		} else {
			fastPolls = 0
		}
	}
}

// hello announces the agent and takes the server's pacing.
func (d *Daemon) hello(ctx context.Context) error {
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	v, err := d.runner.Version(vctx)
	cancel()
	resticVersion := ""
	if err != nil {
		d.log.Warn("restic version unknown", "error", err)
	} else {
		resticVersion = v.String()
		d.status.set(func(s *state.Status) { s.ResticVersion = resticVersion })
	}
	hctx, cancel := context.WithTimeout(ctx, d.cfg.ReportBudget)
	defer cancel()
	resp, err := d.api.Hello(hctx, protocol.HelloRequest{
		ProtocolVersion:    protocol.Version,
		MinProtocolVersion: protocol.MinVersion,
		Hostname:           d.cfg.Hostname,
		OS:                 d.cfg.OS,
		Arch:               d.cfg.Arch,
		AgentVersion:       d.cfg.AgentVersion,
		ResticVersion:      resticVersion,
	})
	if err != nil {
		return err
	}
	d.pacing.apply(resp.Pacing)
	d.noteContact()
	d.log.Info("connected to server", "server_version", resp.ServerVersion, "protocol_version", resp.ProtocolVersion,
		"poll_wait", d.pacing.pollWait())
	return nil
}

// handleFatal stops the daemon on a rejected credential or protocol.
func (d *Daemon) handleFatal(err error) bool {
	switch {
	case client.IsUnauthorized(err):
		d.setFatal(ErrRevoked)
		return true
	case client.HasCode(err, protocol.CodeProtocolTooOld), client.HasCode(err, protocol.CodeProtocolTooNew),
		client.HasStatus(err, 426):
		d.setFatal(errors.Join(ErrProtocol, err))
		return true
	}
	return false
}

// handlePoll applies one poll answer; it reports whether anything was new.
func (d *Daemon) handlePoll(ctx context.Context, resp protocol.PollResponse) bool {
	d.pacing.apply(resp.Pacing)
	news := false
	if resp.Config != nil && resp.Config.Version > d.configVersion() {
		news = true
		if err := d.store.SaveAgentConfig(resp.Config); err != nil {
			d.log.Warn("cannot cache agent config", "error", err)
		}
		d.applyAgentConfig(resp.Config)
	}
	if resp.ScheduleSet != nil && resp.ScheduleSet.Version > d.scheduleVersion() {
		news = true
		d.applyScheduleSet(ctx, resp.ScheduleSet)
	}
	if resp.Update != nil && resp.Update.LatestVersion != "" && resp.Update.LatestVersion != d.cfg.AgentVersion {
		d.log.Info("a newer agent is available", "latest_version", resp.Update.LatestVersion,
			"package_source", resp.Update.PackageSource)
	}
	for _, cmd := range resp.Commands {
		news = true
		d.handleCommand(ctx, cmd)
	}
	if err := d.commands.SetCursor(resp.Cursor); err != nil {
		d.log.Warn("cannot save poll cursor", "error", err)
	}
	return news
}

func (d *Daemon) applyAgentConfig(c *protocol.AgentConfig) {
	d.mu.Lock()
	d.cfgVersion = c.Version
	d.mu.Unlock()
	d.pacing.applyConfig(c)
	if d.level != nil && c.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err == nil {
			d.level.Set(l)
		}
	}
}

func (d *Daemon) scheduleVersion() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.schedSet == nil {
		return 0
	}
	return d.schedSet.Version
}

func (d *Daemon) configVersion() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfgVersion
}

// noteContact records a successful exchange with the server.
func (d *Daemon) noteContact() {
	d.mu.Lock()
	wasOnline := d.online
	d.online = true
	d.mu.Unlock()
	now := time.Now().UTC()
	d.status.set(func(s *state.Status) {
		s.LastContact = &now
		if s.State != state.StateRevoked && s.State != state.StateMismatch {
			s.State = state.StateOnline
		}
	})
	if !wasOnline {
		d.log.Info("server reachable again")
	}
	d.kickFlush()
}

// noteFailure records that the server could not be reached.
func (d *Daemon) noteFailure(op string, err error) {
	d.mu.Lock()
	wasOnline := d.online
	d.online = false
	d.mu.Unlock()
	now := time.Now().UTC()
	d.status.set(func(s *state.Status) {
		s.State = state.StateOffline
		s.LastError = op + ": " + err.Error()
		s.LastErrorAt = &now
	})
	if wasOnline {
		d.log.Warn("server unreachable", "op", op, "error", err)
	} else {
		d.log.Debug("server still unreachable", "op", op, "error", err)
	}
}

func (d *Daemon) isOnline() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.online
}
