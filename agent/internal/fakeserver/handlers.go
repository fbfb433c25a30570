package fakeserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, protocol.Error{Code: code, Message: msg})
}

// route matches "/api/v1/agent/jobs/{id}/start" style paths.
func route(pattern, path string) (string, bool) {
	pre, post, _ := strings.Cut(pattern, "{id}")
	if !strings.HasPrefix(path, pre) || !strings.HasSuffix(path, post) || len(path) <= len(pre)+len(post) {
		return "", false
	}
	id := path[len(pre) : len(path)-len(post)]
	if strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	cred := s.Credential
	s.mu.Unlock()
	if down {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		return
	}
	p := r.URL.Path
	if p == protocol.PathEnroll {
		s.enroll(w, r)
		return
	}
	if p == protocol.PathHello {
		s.mu.Lock()
		s.hellos++
		s.mu.Unlock()
	}
	if r.Header.Get("Authorization") != "Bearer "+cred {
		writeErr(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "bad credential")
		return
	}
	ok := true
	switch {
	case p == protocol.PathHello:
		writeJSON(w, 200, protocol.HelloResponse{HostID: s.HostID, ProtocolVersion: protocol.Version,
			ServerVersion: "fake", ServerTime: time.Now().UTC(), Pacing: s.getPacing()})
	case p == protocol.PathPoll:
		s.poll(w, r)
		return // records its own call
	case p == protocol.PathScheduleAck:
		var a protocol.ScheduleAck
		if !decode(w, r, &a) {
			return
		}
		s.mu.Lock()
		s.acks = append(s.acks, a)
		s.mu.Unlock()
		writeJSON(w, 200, protocol.Empty{OK: true})
	default:
		ok = s.serveID(w, r)
	}
	if ok {
		s.record(r)
	}
}

func (s *Server) record(r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
}

func (s *Server) getPacing() protocol.Pacing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pacing
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeErr(w, 400, protocol.CodeInvalidJSON, err.Error())
		return false
	}
	return true
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	var req protocol.EnrollRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Token != s.Token || req.Hostname == "" {
		writeErr(w, 401, protocol.CodeEnrollmentToken, "invalid enrollment token")
		return
	}
	s.Token = "" // one-time
	writeJSON(w, 200, protocol.EnrollResponse{HostID: s.HostID, Credential: s.Credential, ProtocolVersion: protocol.Version})
}

// pending returns commands to deliver: after the cursor, or unacknowledged with an
// expired lease. It marks them delivered.
func (s *Server) pending(cursor int64, now time.Time) ([]protocol.Command, int64) {
	var out []protocol.Command
	max := cursor
	for _, d := range s.commands {
		if !d.viaPoll || d.acked {
			continue
		}
		fresh := d.cmd.ID > cursor
		expired := !d.deliveredAt.IsZero() && now.Sub(d.deliveredAt) >= s.lease
		if fresh || expired {
			out = append(out, d.cmd)
			d.deliveredAt = now
		}
		if d.cmd.ID > max {
			max = d.cmd.ID
		}
	}
	if len(out) == 0 {
		return nil, cursor
	}
	return out, max
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cursor, _ := strconv.ParseInt(q.Get(protocol.QueryCursor), 10, 64)
	wait, _ := strconv.Atoi(q.Get(protocol.QueryWait))
	sv, _ := strconv.ParseInt(q.Get(protocol.QueryScheduleVersion), 10, 64)
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if limit := time.Duration(wait)*time.Second - 5*time.Second; limit < hold {
		hold = max(limit, 0)
	}
	deadline := time.Now().Add(hold)
	for {
		s.mu.Lock()
		if s.down {
			s.mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.Credential {
			s.mu.Unlock()
			writeErr(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "bad credential")
			return
		}
		cmds, newCursor := s.pending(cursor, time.Now())
		resp := protocol.PollResponse{Cursor: newCursor, Commands: cmds, Pacing: s.pacing}
		if newCursor < cursor {
			resp.Cursor = cursor
		}
		if s.set != nil && s.set.Version > sv {
			set := *s.set
			resp.ScheduleSet = &set
		}
		wake := s.wake
		if len(cmds) > 0 || resp.ScheduleSet != nil || !time.Now().Before(deadline) {
			s.calls = append(s.calls, r.Method+" "+r.URL.Path)
			s.mu.Unlock()
			writeJSON(w, 200, resp)
			return
		}
		s.mu.Unlock()
		t := time.NewTimer(min(time.Until(deadline), 200*time.Millisecond)) // leases expire without a wake-up
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Server) serveID(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	if id, ok := route(protocol.PathCommandResult, p); ok {
		return s.commandResult(w, r, id)
	}
	if id, ok := route(protocol.PathScheduleFire, p); ok {
		return s.fire(w, r, id)
	}
	if id, ok := route(protocol.PathRepoSnapshots, p); ok {
		var rep protocol.SnapshotReport
		if !decode(w, r, &rep) {
			return false
		}
		s.mu.Lock()
		s.snaps[id] = append(s.snaps[id], rep)
		s.mu.Unlock()
		writeJSON(w, 200, protocol.Empty{OK: true})
		return true
	}
	if id, ok := route(protocol.PathRepoStats, p); ok {
		var st protocol.RepoStats
		if !decode(w, r, &st) {
			return false
		}
		s.mu.Lock()
		s.stats[id] = append(s.stats[id], st)
		s.mu.Unlock()
		writeJSON(w, 200, protocol.Empty{OK: true})
		return true
	}
	for _, pat := range []string{protocol.PathJobStart, protocol.PathJobProgress, protocol.PathJobLogs, protocol.PathJobFinish} {
		if id, ok := route(pat, p); ok {
			return s.jobReport(w, r, pat, id)
		}
	}
	writeErr(w, 404, protocol.CodeNotFound, "no route "+p)
	return false
}

func (s *Server) commandResult(w http.ResponseWriter, r *http.Request, idText string) bool {
	id, _ := strconv.ParseInt(idText, 10, 64)
	var res protocol.CommandResult
	if !decode(w, r, &res) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAcks {
		writeErr(w, 503, protocol.CodeInternal, "acks failing")
		return false
	}
	for _, d := range s.commands {
		if d.cmd.ID == id {
			d.acked = true
			s.results[id] = append(s.results[id], res)
			if res.Status == protocol.CommandRejected && d.cmd.Type == protocol.CommandRun {
				if j, ok := s.jobs[d.cmd.JobID]; ok && !protocol.IsTerminal(j.Status) {
					j.Status = protocol.JobFailed
				}
			}
			writeJSON(w, 200, protocol.Empty{OK: true})
			return true
		}
	}
	writeErr(w, 404, protocol.CodeNotFound, "unknown command")
	return false
}

func (s *Server) fire(w http.ResponseWriter, r *http.Request, scheduleID string) bool {
	var f protocol.ScheduleFire
	if !decode(w, r, &f) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.fireLocked(scheduleID, f)
	if err != nil {
		writeErr(w, 404, protocol.CodeNotFound, err.Error())
		return false
	}
	writeJSON(w, 200, resp)
	return true
}

// fireLocked is the fire logic, idempotent on (schedule, scheduled_for). As on the real
// server, the command.run it answers with has id 0: it is not queued.
func (s *Server) fireLocked(scheduleID string, f protocol.ScheduleFire) (protocol.ScheduleFireResponse, error) {
	if s.set == nil {
		return protocol.ScheduleFireResponse{}, fmt.Errorf("no schedules")
	}
	var sc *protocol.Schedule
	for i := range s.set.Schedules {
		if s.set.Schedules[i].ID == scheduleID {
			sc = &s.set.Schedules[i]
		}
	}
	if sc == nil {
		return protocol.ScheduleFireResponse{}, fmt.Errorf("unknown schedule %s", scheduleID)
	}
	key := scheduleID + "|" + f.ScheduledFor.UTC().Format(time.RFC3339Nano)
	if jobID, ok := s.fires[key]; ok {
		j := s.jobs[jobID]
		if f.RanOffline {
			j.RanOffline = true
		}
		return protocol.ScheduleFireResponse{Job: s.state(j), Command: j.fireCmd, Created: false}, nil
	}
	var repo protocol.Repository
	for _, rp := range s.set.Repositories {
		if rp.ID == sc.RepositoryID {
			repo = rp
		}
	}
	at := f.ScheduledFor
	spec := protocol.RunSpec{JobID: f.JobID, Kind: sc.Kind, ScheduleID: sc.ID, Repository: repo, Paths: sc.Paths,
		Excludes: sc.Excludes, Tags: sc.Tags, Retention: sc.Retention, Options: sc.Options, PreHook: sc.PreHook,
		PostHook: sc.PostHook, ScheduledFor: &at}
	j := &Job{ID: f.JobID, Spec: spec, Status: protocol.JobQueued, Logs: map[int64]protocol.LogLine{},
		ScheduleID: scheduleID, ScheduledFor: f.ScheduledFor, RanOffline: f.RanOffline}
	j.fireCmd = protocol.Command{Type: protocol.CommandRun, JobID: j.ID, CreatedAt: time.Now().UTC(), Run: &spec}
	s.jobs[j.ID] = j
	s.fires[key] = j.ID
	return protocol.ScheduleFireResponse{Job: s.state(j), Command: j.fireCmd, Created: true}, nil
}

func (s *Server) state(j *Job) protocol.JobState {
	return protocol.JobState{JobID: j.ID, Status: j.Status, CancelRequested: j.CancelRequested}
}

func (s *Server) jobReport(w http.ResponseWriter, r *http.Request, pattern, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		writeErr(w, 404, protocol.CodeNotFound, "unknown job "+id)
		return false
	}
	switch pattern {
	case protocol.PathJobStart:
		var st protocol.JobStart
		if !decode(w, r, &st) {
			return false
		}
		if protocol.IsTerminal(j.Status) {
			writeErr(w, 409, protocol.CodeJobFinished, "job is "+j.Status)
			return false
		}
		j.Status, j.StartedAt = protocol.JobRunning, st.StartedAt
		j.Starts++
		writeJSON(w, 200, s.state(j))
	case protocol.PathJobProgress:
		var p protocol.Progress
		if !decode(w, r, &p) {
			return false
		}
		j.Progress = append(j.Progress, p)
		writeJSON(w, 200, s.state(j))
	case protocol.PathJobLogs:
		var b protocol.LogBatch
		if !decode(w, r, &b) {
			return false
		}
		res := protocol.LogBatchResult{}
		for _, l := range b.Lines {
			if _, dup := j.Logs[l.Seq]; dup {
				res.Duplicates++
				continue
			}
			j.Logs[l.Seq] = l
			res.Accepted++
		}
		res.JobState = s.state(j)
		writeJSON(w, 200, res)
	case protocol.PathJobFinish:
		var f protocol.JobFinish
		if !decode(w, r, &f) {
			return false
		}
		j.Finishes++
		if j.Finish == nil {
			if !protocol.IsTerminal(f.Status) {
				writeErr(w, 400, protocol.CodeValidation, fmt.Sprintf("status %q is not terminal", f.Status))
				return false
			}
			j.Finish = &f
			j.Status = f.Status
		}
		writeJSON(w, 200, s.state(j))
	}
	return true
}
