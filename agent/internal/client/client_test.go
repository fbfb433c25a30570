package client

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func newTestClient(t *testing.T, url string, opts ...func(*Options)) *Client {
	t.Helper()
	o := Options{BaseURL: url, Credential: "cred-123", RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestRetriesTransientAnswers(t *testing.T) {
	tests := []struct {
		name  string
		first func(w http.ResponseWriter)
	}{
		{"503", func(w http.ResponseWriter) { writeJSON(w, 503, protocol.Error{Code: "internal_error"}) }},
		{"502 html", func(w http.ResponseWriter) { w.WriteHeader(502); _, _ = w.Write([]byte("<html>bad gateway</html>")) }},
		{"429 retry-after", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "0"); w.WriteHeader(429) }},
		{"408", func(w http.ResponseWriter) { w.WriteHeader(408) }},
		{"200 html from a proxy", func(w http.ResponseWriter) { w.WriteHeader(200); _, _ = w.Write([]byte("<html>login</html>")) }},
		{"connection dropped", func(w http.ResponseWriter) {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer cred-123" {
					t.Errorf("authorization header %q", r.Header.Get("Authorization"))
				}
				if n.Add(1) <= 2 {
					tt.first(w)
					return
				}
				writeJSON(w, 200, protocol.JobState{JobID: "j1", Status: "running"})
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL)
			st, err := c.JobStart(context.Background(), "j1", protocol.JobStart{StartedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if st.JobID != "j1" || n.Load() != 3 {
				t.Fatalf("state %+v after %d requests", st, n.Load())
			}
		})
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		status int
		code   string
		check  func(error) bool
	}{
		{401, protocol.CodeUnauthorized, IsUnauthorized},
		{409, protocol.CodeJobFinished, IsJobFinished},
		{404, protocol.CodeNotFound, func(err error) bool { return HasStatus(err, 404) && !IsTransient(err) }},
		{426, protocol.CodeProtocolTooOld, func(err error) bool { return HasCode(err, protocol.CodeProtocolTooOld) }},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				writeJSON(w, tt.status, protocol.Error{Code: tt.code, Message: "no"})
			}))
			defer srv.Close()
			_, err := newTestClient(t, srv.URL).JobStart(context.Background(), "j", protocol.JobStart{})
			if err == nil || !tt.check(err) {
				t.Fatalf("error %v", err)
			}
			if n.Load() != 1 {
				t.Fatalf("%d requests, want 1", n.Load())
			}
		})
	}
}

func TestBudgetExhaustedIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.JobFinish(ctx, "j", protocol.JobFinish{})
	if !IsTransient(err) {
		t.Fatalf("want transient, got %v", err)
	}
}

func TestMaxRetriesGivesLastStatus(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(500)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 3 })
	err := c.ScheduleAck(context.Background(), protocol.ScheduleAck{Version: 1})
	if !HasStatus(err, 500) || !IsTransient(err) || n.Load() != 4 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
}

func TestUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newTestClient(t, url, func(o *Options) { o.MaxRetries = 2 })
	err := c.ScheduleAck(context.Background(), protocol.ScheduleAck{Version: 1})
	if !IsTransient(err) {
		t.Fatalf("want transient, got %v", err)
	}
}

func TestPollSendsQueryAndOutlivesWait(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != protocol.PathPoll || q.Get("cursor") != "7" || q.Get("wait") != "1" ||
			q.Get("schedule_version") != "3" || q.Get("config_version") != "4" {
			t.Errorf("bad poll %s", r.URL)
		}
		time.Sleep(1200 * time.Millisecond) // longer than Timeout, shorter than wait+margin
		writeJSON(w, 200, protocol.PollResponse{Cursor: 9})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(o *Options) { o.Timeout = 100 * time.Millisecond; o.PollMargin = time.Second })
	resp, err := c.Poll(context.Background(), PollQuery{Cursor: 7, Wait: time.Second, ScheduleVersion: 3, ConfigVersion: 4})
	if err != nil || resp.Cursor != 9 {
		t.Fatalf("poll: %+v %v", resp, err)
	}
}

func TestEnrollSendsNoCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("enroll sent a credential")
		}
		var req protocol.EnrollRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Token != "tok" {
			writeJSON(w, 401, protocol.Error{Code: protocol.CodeEnrollmentToken})
			return
		}
		writeJSON(w, 200, protocol.EnrollResponse{HostID: "h", Credential: "c"})
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	if _, err := c.Enroll(context.Background(), protocol.EnrollRequest{Token: "bad"}); !HasCode(err, protocol.CodeEnrollmentToken) {
		t.Fatalf("bad token: %v", err)
	}
	resp, err := c.Enroll(context.Background(), protocol.EnrollRequest{Token: "tok"})
	if err != nil || resp.Credential != "c" {
		t.Fatalf("enroll: %+v %v", resp, err)
	}
}

func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, protocol.Empty{OK: true})
	}))
	defer srv.Close()
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}
	if err := os.WriteFile(caPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the CA the certificate is rejected at once, without retries.
	c := newTestClient(t, srv.URL)
	start := time.Now()
	err := c.ScheduleAck(context.Background(), protocol.ScheduleAck{})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("untrusted server accepted or retried: %v", err)
	}
	c = newTestClient(t, srv.URL, func(o *Options) { o.CAFile = caPath })
	if err := c.ScheduleAck(context.Background(), protocol.ScheduleAck{}); err != nil {
		t.Fatalf("with CA file: %v", err)
	}
	if _, err := New(Options{BaseURL: srv.URL, CAFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("missing CA file accepted")
	}
}

func TestErrorsNeverContainCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, protocol.Error{Code: "bad_request", Message: "nope"})
	}))
	defer srv.Close()
	err := newTestClient(t, srv.URL).ScheduleAck(context.Background(), protocol.ScheduleAck{})
	if err == nil || strings.Contains(err.Error(), "cred-123") {
		t.Fatalf("error: %v", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "bad_request" {
		t.Fatalf("error: %#v", err)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 20 {
		d := FullJitter(time.Second, 60*time.Second, attempt)
		if d < 0 || d > 60*time.Second {
			t.Fatalf("attempt %d: %v", attempt, d)
		}
		if attempt == 0 && d > time.Second {
			t.Fatalf("attempt 0: %v", d)
		}
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": []string{"7"}}}
	if d := Backoff(time.Second, time.Minute, 0, resp); d != 7*time.Second {
		t.Fatalf("Retry-After: %v", d)
	}
	resp.Header.Set("Retry-After", "99999")
	if d := Backoff(time.Second, time.Minute, 0, resp); d != maxRetryAfter {
		t.Fatalf("Retry-After cap: %v", d)
	}
}
