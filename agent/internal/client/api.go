package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func withID(path, id string) string {
	return strings.Replace(path, "{id}", url.PathEscape(id), 1)
}

// Enroll exchanges a one-time enrollment token for a host credential. It is sent
// without a bearer credential and retried a few times only.
func (c *Client) Enroll(ctx context.Context, req protocol.EnrollRequest) (protocol.EnrollResponse, error) {
	var out protocol.EnrollResponse
	err := c.do(ctx, call{method: http.MethodPost, path: protocol.PathEnroll, in: req, out: &out, noAuth: true, retries: 4})
	return out, err
}

// Hello announces the agent and returns the server's pacing.
func (c *Client) Hello(ctx context.Context, req protocol.HelloRequest) (protocol.HelloResponse, error) {
	var out protocol.HelloResponse
	err := c.do(ctx, call{method: http.MethodPost, path: protocol.PathHello, in: req, out: &out})
	return out, err
}

// PollQuery is the agent's side of a long poll.
type PollQuery struct {
	Cursor          int64
	Wait            time.Duration
	ScheduleVersion int64
	ConfigVersion   int64
}

// Poll long-polls for commands and desired state. The attempt timeout is the wait plus
// a margin, and only a couple of quick retries are made: the caller's loop backs off.
func (c *Client) Poll(ctx context.Context, q PollQuery) (protocol.PollResponse, error) {
	wait := q.Wait.Round(time.Second)
	v := url.Values{}
	v.Set(protocol.QueryCursor, strconv.FormatInt(q.Cursor, 10))
	v.Set(protocol.QueryWait, strconv.Itoa(int(wait/time.Second)))
	v.Set(protocol.QueryScheduleVersion, strconv.FormatInt(q.ScheduleVersion, 10))
	v.Set(protocol.QueryConfigVersion, strconv.FormatInt(q.ConfigVersion, 10))
	var out protocol.PollResponse
	err := c.do(ctx, call{method: http.MethodGet, path: protocol.PathPoll, query: v, out: &out,
		timeout: wait + c.pollMargin, retries: 2})
	return out, err
}

// CommandResult acknowledges a delivered command.
func (c *Client) CommandResult(ctx context.Context, commandID int64, r protocol.CommandResult) error {
	return c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathCommandResult, strconv.FormatInt(commandID, 10)), in: r})
}

// JobStart claims a job. A 409 (IsJobFinished) means: do not run it.
func (c *Client) JobStart(ctx context.Context, jobID string, r protocol.JobStart) (protocol.JobState, error) {
	var out protocol.JobState
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathJobStart, jobID), in: r, out: &out})
	return out, err
}

// JobProgress reports progress; the answer may ask for cancellation.
func (c *Client) JobProgress(ctx context.Context, jobID string, p protocol.Progress) (protocol.JobState, error) {
	var out protocol.JobState
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathJobProgress, jobID), in: p, out: &out})
	return out, err
}

// JobLogs sends a batch of log lines; repeats are harmless.
func (c *Client) JobLogs(ctx context.Context, jobID string, b protocol.LogBatch) (protocol.LogBatchResult, error) {
	var out protocol.LogBatchResult
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathJobLogs, jobID), in: b, out: &out})
	return out, err
}

// JobFinish ends a job; a repeat answers with the recorded state.
func (c *Client) JobFinish(ctx context.Context, jobID string, f protocol.JobFinish) (protocol.JobState, error) {
	var out protocol.JobState
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathJobFinish, jobID), in: f, out: &out})
	return out, err
}

// ScheduleFire turns a local cron tick into a job.
func (c *Client) ScheduleFire(ctx context.Context, scheduleID string, f protocol.ScheduleFire) (protocol.ScheduleFireResponse, error) {
	var out protocol.ScheduleFireResponse
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathScheduleFire, scheduleID), in: f, out: &out})
	return out, err
}

// ScheduleAck records the schedule set version the agent applied.
func (c *Client) ScheduleAck(ctx context.Context, a protocol.ScheduleAck) error {
	return c.do(ctx, call{method: http.MethodPost, path: protocol.PathScheduleAck, in: a})
}

// RepoSnapshots replaces the server's list of snapshots of a repository.
func (c *Client) RepoSnapshots(ctx context.Context, repoID string, r protocol.SnapshotReport) error {
	return c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathRepoSnapshots, repoID), in: r})
}

// RepoStats records one statistics sample of a repository.
func (c *Client) RepoStats(ctx context.Context, repoID string, s protocol.RepoStats) error {
	return c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathRepoStats, repoID), in: s})
}
