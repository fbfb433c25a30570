package operatorapi_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/health"
	"github.com/restic-manager/restic-manager/server/internal/notifications"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// The fleet-health tests drive the evaluator and the notifier with a clock of their own
// (no sleeps for time logic): the server under test runs neither loop (servertest leaves
// -health-interval at 0), and each test builds both over the server's store exactly as
// the server does, with the test's clock injected.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const publicURL = "https://rm.example.test"

func (f *fx) healthParts(clk *clock, hc health.Config, nc notifications.Config) (*health.Evaluator, *notifications.Notifier) {
	f.t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	hc.Now, nc.Now, nc.PublicURL = clk.Now, clk.Now, publicURL
	ev, err := health.New(hc, f.env.Store, logger, health.Hooks{})
	if err != nil {
		f.t.Fatal(err)
	}
	return ev, notifications.New(nc, f.env.Store, logger, notifications.Hooks{})
}

func (f *fx) round(ev *health.Evaluator) store.HealthOutcome {
	f.t.Helper()
	out, err := ev.RunOnce(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fx) deliver(nt *notifications.Notifier) int {
	f.t.Helper()
	n, err := nt.RunOnce(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func hello(t *testing.T, a *servertest.Agent, resticVersion string) {
	t.Helper()
	if st := a.JSON(t, http.MethodPost, protocol.PathHello, protocol.HelloRequest{ProtocolVersion: protocol.Version, MinProtocolVersion: protocol.MinVersion,
		Hostname: "x", OS: "linux", Arch: "amd64", AgentVersion: "1.0", ResticVersion: resticVersion}, nil); st != 200 {
		t.Fatalf("hello: %d", st)
	}
}

// runJob runs a job the way an agent does: the operator queues it, the agent starts
// and finishes it, reporting its own times.
func (f *fx) runJob(a *servertest.Agent, repo apiclient.Repository, kind, status string, started, finished time.Time) string {
	f.t.Helper()
	req := apiclient.RunRequest{Kind: apiclient.RunRequestKind(kind), RepositoryId: repo.Id}
	if kind == protocol.KindBackup {
		req.Paths = &[]string{"/srv"}
	}
	j := call(f.admin.PostHostsIdJobsWithResponse(ctx, a.HostID, req)).want(f.t, 202).JSON202
	id := j.Id.String()
	if st := a.JSON(f.t, http.MethodPost, servertest.Path(protocol.PathJobStart, id), protocol.JobStart{StartedAt: started}, nil); st != 200 {
		f.t.Fatalf("start: %d", st)
	}
	if st := a.JSON(f.t, http.MethodPost, servertest.Path(protocol.PathJobFinish, id),
		protocol.JobFinish{Status: status, FinishedAt: finished, StartedAt: &started}, nil); st != 200 {
		f.t.Fatalf("finish: %d", st)
	}
	return id
}

// receiver is an HTTP endpoint on loopback that records what it is sent and fails the
// first `fail` requests with 500.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []receivedReq
	fail int
}

type receivedReq struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{fail: fail}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, receivedReq{path: req.URL.Path, header: req.Header.Clone(), body: b})
		failing := len(r.reqs) <= r.fail
		r.mu.Unlock()
		if failing {
			http.Error(w, "receiver is down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []receivedReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedReq(nil), r.reqs...)
}

// validSignature checks X-RM-Signature-256 independently of the server's code.
func validSignature(secret string, rq receivedReq) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(rq.body)
	return hmac.Equal([]byte(rq.header.Get("X-RM-Signature-256")), []byte("sha256="+hex.EncodeToString(m.Sum(nil))))
}

type hookBody struct {
	DeliveryID int64  `json:"delivery_id"`
	Event      string `json:"event"`
	Title      string `json:"title"`
	Text       string `json:"text"`
	URL        string `json:"url"`
	Host       struct {
		ID     string            `json:"id"`
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"host"`
	Alert struct {
		ID         string     `json:"id"`
		Condition  string     `json:"condition"`
		Severity   string     `json:"severity"`
		Message    string     `json:"message"`
		ResolvedAt *time.Time `json:"resolved_at"`
	} `json:"alert"`
}

func decodeHook(t *testing.T, rq receivedReq) hookBody {
	t.Helper()
	var b hookBody
	if err := json.Unmarshal(rq.body, &b); err != nil {
		t.Fatalf("webhook body %s: %v", rq.body, err)
	}
	return b
}

func (f *fx) webhookChannel(name, url, secret string) apiclient.NotificationChannel {
	f.t.Helper()
	return *call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: name, Type: "webhook",
		Webhook: &apiclient.WebhookSettings{Url: ptr(url), Secret: ptr(secret)}})).want(f.t, 201).JSON201
}

// TestObjectiveAlertNotifiedAndResolved: a host misses its backup objective → one alert
// opens and one signed notification reaches a real HTTP receiver; its next successful
// backup resolves the alert and sends a resolve notification.
func TestObjectiveAlertNotifiedAndResolved(t *testing.T) {
	t.Parallel()
	f := start(t)
	recv := newReceiver(t, 0)
	clk := &clock{}
	ev, nt := f.healthParts(clk, health.Config{}, notifications.Config{})

	a := f.enroll("web-1")
	hello(t, a, "0.18.0")
	call(f.admin.PatchHostsIdWithResponse(ctx, a.HostID, apiclient.HostUpdate{Labels: &map[string]string{"env": "prod"}})).want(t, 200)
	repo := f.repo(a.HostID, "main")
	call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, apiclient.ScheduleInput{RepositoryId: repo.Id, Name: "nightly",
		Kind: "backup", Cron: "0 3 * * *", Paths: &[]string{"/srv"}})).want(t, 201)
	created := call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "ops hook", Type: "webhook",
		Webhook: &apiclient.WebhookSettings{Url: ptr(recv.srv.URL + "/hooks/tok-3141"), Secret: ptr("hook-secret")}})).want(t, 201)
	if strings.Contains(string(created.Body), "tok-3141") || strings.Contains(string(created.Body), "hook-secret") || !created.JSON201.Webhook.SecretSet {
		t.Fatalf("the channel's secrets are shown: %s", created.Body)
	}
	ch := created.JSON201
	call(f.admin.PostNotificationRulesWithResponse(ctx, apiclient.NotificationRuleInput{Name: "prod alerts", ChannelId: ch.Id,
		Labels: &map[string]string{"env": "prod"}})).want(t, 201)

	t0 := time.Now().UTC().Truncate(time.Second)
	f.runJob(a, repo, protocol.KindBackup, protocol.JobSucceeded, t0.Add(-60*time.Hour-2*time.Minute), t0.Add(-60*time.Hour))

	// An hour after that backup: ok.
	clk.Set(t0.Add(-59 * time.Hour))
	if out := f.round(ev); len(out.Opened) != 0 || out.Deliveries != 0 {
		t.Fatalf("fresh backup: %+v", out)
	}
	hh := call(f.admin.GetHostsIdHealthWithResponse(ctx, a.HostID)).want(t, 200).JSON200
	if hh.ObjectiveState != "ok" || hh.ObjectiveSeconds != 49*3600 || hh.ObjectiveSource == nil || *hh.ObjectiveSource != "schedules" ||
		hh.LastBackupAt == nil || !hh.LastBackupAt.Equal(t0.Add(-60*time.Hour)) || len(hh.OpenAlerts) != 0 {
		t.Fatalf("host health: %+v", hh)
	}

	// 52 hours after it: the 49 h objective (daily schedule: 2 × 24 h + 1 h) is violated.
	clk.Set(t0.Add(-8 * time.Hour))
	out := f.round(ev)
	if len(out.Opened) != 1 || out.Opened[0].Condition != store.ConditionBackupObjective || out.Opened[0].Severity != store.SeverityCritical || out.Deliveries != 1 {
		t.Fatalf("violation: %+v", out)
	}
	clk.Set(t0.Add(-7 * time.Hour))
	if out := f.round(ev); len(out.Opened) != 0 || out.Deliveries != 0 {
		t.Fatalf("the next round opened or notified again: %+v", out)
	}
	if n := f.deliver(nt); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	if n := f.deliver(nt); n != 0 {
		t.Fatalf("delivered again: %d", n)
	}
	got := recv.got()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests", len(got))
	}
	if !validSignature("hook-secret", got[0]) || got[0].path != "/hooks/tok-3141" || got[0].header.Get("X-RM-Event") != "alert.opened" ||
		got[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("request: %s %v", got[0].path, got[0].header)
	}
	if validSignature("other-secret", got[0]) {
		t.Fatal("the signature does not depend on the secret")
	}
	b := decodeHook(t, got[0])
	if b.Event != "alert.opened" || b.Host.ID != a.HostID || b.Host.Name != "web-1" || b.Host.Labels["env"] != "prod" ||
		b.Alert.Condition != "backup_objective" || b.Alert.Severity != "critical" || b.URL != publicURL+"/hosts/"+a.HostID ||
		!strings.Contains(b.Alert.Message, "2d 4h ago (objective 2d 1h)") || !strings.HasPrefix(b.Title, "[CRITICAL] web-1: backup objective") ||
		fmt.Sprint(b.DeliveryID) != got[0].header.Get("X-RM-Delivery") {
		t.Fatalf("webhook body: %s", got[0].body)
	}

	open := call(f.admin.GetAlertsWithResponse(ctx, &apiclient.GetAlertsParams{State: ptr(apiclient.GetAlertsParamsStateOpen)})).want(t, 200).JSON200
	if len(open.Items) != 1 || open.Items[0].HostName != "web-1" || open.Items[0].Id.String() != b.Alert.ID || open.Items[0].State != "open" {
		t.Fatalf("open alerts: %+v", open.Items)
	}
	sum := call(f.admin.GetHealthSummaryWithResponse(ctx)).want(t, 200).JSON200
	if sum.Hosts["violated"] != 1 || sum.OpenAlerts != 1 || sum.OpenAlertsByCondition["backup_objective"] != 1 || sum.EvaluatedAt == nil {
		t.Fatalf("summary: %+v", sum)
	}
	list := call(f.admin.GetHealthHostsWithResponse(ctx, &apiclient.GetHealthHostsParams{State: ptr(apiclient.GetHealthHostsParamsStateViolated)})).want(t, 200).JSON200
	if len(list.Items) != 1 || list.Items[0].HostId.String() != a.HostID || len(list.Items[0].OpenAlerts) != 1 {
		t.Fatalf("violated hosts: %+v", list.Items)
	}

	// The next backup succeeds: the alert resolves and the resolve is sent.
	now := time.Now().UTC()
	f.runJob(a, repo, protocol.KindBackup, protocol.JobSucceeded, now.Add(-time.Minute), now)
	clk.Set(now.Add(time.Minute))
	out = f.round(ev)
	if len(out.Resolved) != 1 || out.Resolved[0].ID != b.Alert.ID || out.Deliveries != 1 || len(out.Opened) != 0 {
		t.Fatalf("after the backup: %+v", out)
	}
	if n := f.deliver(nt); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	got = recv.got()
	if len(got) != 2 || !validSignature("hook-secret", got[1]) {
		t.Fatalf("receiver got %d requests", len(got))
	}
	r := decodeHook(t, got[1])
	if r.Event != "alert.resolved" || r.Alert.ID != b.Alert.ID || r.Alert.ResolvedAt == nil || !strings.HasPrefix(r.Title, "[RESOLVED] web-1") {
		t.Fatalf("resolve body: %s", got[1].body)
	}
	if out := f.round(ev); len(out.Opened)+len(out.Resolved) != 0 || out.Deliveries != 0 {
		t.Fatalf("round after resolve: %+v", out)
	}
	hist := call(f.admin.GetAlertsWithResponse(ctx, &apiclient.GetAlertsParams{HostId: &a.HostID})).want(t, 200).JSON200
	if len(hist.Items) != 1 || hist.Items[0].State != "resolved" || hist.Items[0].ResolvedAt == nil || hist.Items[0].Resolution == nil {
		t.Fatalf("history: %+v", hist.Items)
	}
	if hh := call(f.admin.GetHostsIdHealthWithResponse(ctx, a.HostID)).want(t, 200).JSON200; hh.ObjectiveState != "ok" || len(hh.OpenAlerts) != 0 {
		t.Fatalf("host health after the backup: %+v", hh)
	}
	log := call(f.admin.GetNotificationDeliveriesWithResponse(ctx, &apiclient.GetNotificationDeliveriesParams{ChannelId: ptr(ch.Id.String())})).want(t, 200).JSON200
	if len(log.Items) != 2 || log.Items[0].EventType != "alert.resolved" || log.Items[1].EventType != "alert.opened" {
		t.Fatalf("delivery log: %+v", log.Items)
	}
	for _, d := range log.Items {
		if d.Status != "delivered" || d.Attempts != 1 || d.DeliveredAt == nil || d.TargetName != "ops hook" {
			t.Fatalf("delivery: %+v", d)
		}
	}
}

// TestFailingReceiverIsRetried: a receiver that fails is retried with backoff until it
// answers; one that keeps failing is given up after the last attempt; both are visible
// in the delivery log with every attempt.
func TestFailingReceiverIsRetried(t *testing.T) {
	t.Parallel()
	f := start(t)
	flaky, dead := newReceiver(t, 2), newReceiver(t, 1000)
	clk := &clock{}
	ev, nt := f.healthParts(clk, health.Config{}, notifications.Config{MaxAttempts: 3, BackoffBase: time.Minute})

	a := f.enroll("db-1")
	call(f.admin.PutHostsIdObjectiveWithResponse(ctx, a.HostID, apiclient.ObjectiveInput{MaxAgeSeconds: 3600})).want(t, 200)
	var chans []apiclient.NotificationChannel
	for _, c := range []struct{ name, url string }{{"flaky", flaky.srv.URL}, {"dead", dead.srv.URL}} {
		ch := f.webhookChannel(c.name, c.url, "s")
		call(f.admin.PostNotificationRulesWithResponse(ctx, apiclient.NotificationRuleInput{Name: c.name, ChannelId: ch.Id,
			Conditions: &[]string{"backup_objective"}, Events: &[]string{"alert.opened"}})).want(t, 201)
		chans = append(chans, ch)
	}

	// Never backed up, objective 1 h set now: two hours later it is violated.
	clk.Set(time.Now().Add(2 * time.Hour))
	if out := f.round(ev); len(out.Opened) != 1 || out.Deliveries != 2 { // agent_offline waits for the grace period after start
		t.Fatalf("round: %+v", out)
	}
	deliveryOf := func(ch apiclient.NotificationChannel) apiclient.NotificationDelivery {
		t.Helper()
		l := call(f.admin.GetNotificationDeliveriesWithResponse(ctx, &apiclient.GetNotificationDeliveriesParams{ChannelId: ptr(ch.Id.String())})).want(t, 200).JSON200
		if len(l.Items) != 1 {
			t.Fatalf("deliveries of %s: %+v", ch.Name, l.Items)
		}
		return l.Items[0]
	}
	if n := f.deliver(nt); n != 2 {
		t.Fatalf("first attempts: %d", n)
	}
	d := deliveryOf(chans[0])
	if d.Status != "pending" || d.Attempts != 1 || d.LastError == nil || !strings.Contains(*d.LastError, "HTTP 500: receiver is down") ||
		d.NextAttemptAt == nil || d.NextAttemptAt.Before(clk.Now().Add(time.Minute-time.Second)) || d.NextAttemptAt.After(clk.Now().Add(73*time.Second)) {
		t.Fatalf("after the first failure: %+v", d)
	}
	if n := f.deliver(nt); n != 0 {
		t.Fatalf("retried before the backoff: %d", n)
	}
	clk.Add(2 * time.Minute)
	if n := f.deliver(nt); n != 2 {
		t.Fatalf("second attempts: %d", n)
	}
	clk.Add(5 * time.Minute)
	if n := f.deliver(nt); n != 2 {
		t.Fatalf("third attempts: %d", n)
	}
	clk.Add(24 * time.Hour)
	if n := f.deliver(nt); n != 0 {
		t.Fatalf("attempts after the last: %d", n)
	}

	ok := deliveryOf(chans[0])
	detail := call(f.admin.GetNotificationDeliveriesIdWithResponse(ctx, ok.Id)).want(t, 200).JSON200
	if detail.Status != "delivered" || detail.Attempts != 3 || len(detail.AttemptsLog) != 3 || detail.Event["type"] != "alert.opened" {
		t.Fatalf("flaky delivery: %+v", detail)
	}
	for i, at := range detail.AttemptsLog {
		wantOK := i == 2
		if at.Attempt != i+1 || at.Ok != wantOK || (wantOK && *at.StatusCode != 204) || (!wantOK && (*at.StatusCode != 500 || at.Error == nil)) {
			t.Fatalf("attempt %d: %+v", i+1, at)
		}
	}
	reqs := flaky.got()
	if len(reqs) != 3 || reqs[0].header.Get("X-RM-Delivery") != reqs[2].header.Get("X-RM-Delivery") || string(reqs[0].body) != string(reqs[2].body) {
		t.Fatalf("retries are not the same delivery: %d requests", len(reqs))
	}
	failed := call(f.admin.GetNotificationDeliveriesWithResponse(ctx, &apiclient.GetNotificationDeliveriesParams{
		Status: ptr(apiclient.GetNotificationDeliveriesParamsStatusFailed)})).want(t, 200).JSON200
	if len(failed.Items) != 1 || failed.Items[0].TargetId != chans[1].Id.String() || failed.Items[0].Attempts != 3 ||
		failed.Items[0].NextAttemptAt != nil || !strings.Contains(*failed.Items[0].LastError, "HTTP 500") || len(dead.got()) != 3 {
		t.Fatalf("given up: %+v", failed.Items)
	}
}

// smtpServer is a small SMTP server on loopback: EHLO, AUTH PLAIN, MAIL, RCPT, DATA.
// Recipients in reject are refused with 550.
type smtpServer struct {
	addr   *net.TCPAddr
	reject string
	mu     sync.Mutex
	mails  []mailMsg
}

type mailMsg struct {
	auth string
	from string
	to   []string
	data string
}

func newSMTPServer(t *testing.T, reject string) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().(*net.TCPAddr), reject: reject}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	say("220 test.local ESMTP")
	var m mailMsg
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			say("250-test.local")
			say("250-AUTH PLAIN")
			say("250 8BITMIME")
		case "AUTH":
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "AUTH PLAIN "))
			m.auth = strings.ReplaceAll(string(raw), "\x00", "|")
			say("235 ok")
		case "MAIL":
			m.from = line
			say("250 ok")
		case "RCPT":
			if s.reject != "" && strings.Contains(line, s.reject) {
				say("550 no such user")
				continue
			}
			m.to = append(m.to, line)
			say("250 ok")
		case "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			m = mailMsg{auth: m.auth}
			say("250 queued")
		case "RSET":
			m = mailMsg{auth: m.auth}
			say("250 ok")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpServer) got() []mailMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailMsg(nil), s.mails...)
}

// TestEmailChannel sends a test message and an alert through a real SMTP conversation
// with a server on loopback.
func TestEmailChannel(t *testing.T) {
	t.Parallel()
	f := start(t)
	smtpd := newSMTPServer(t, "nobody@")
	in := apiclient.NotificationChannelInput{Name: "ops mail", Type: "email", Email: &apiclient.EmailSettings{
		Host: "127.0.0.1", Port: ptr(smtpd.addr.Port), Security: ptr(apiclient.EmailSettingsSecurityNone),
		Username: ptr("mailer"), Password: ptr("smtp-Secret-9"), From: "Restic Manager <rm@example.test>", To: []string{"ops@example.test"}}}
	created := call(f.admin.PostNotificationChannelsWithResponse(ctx, in)).want(t, 201)
	ch := created.JSON201
	if strings.Contains(string(created.Body), "smtp-Secret-9") || ch.Email == nil || !ch.Email.PasswordSet || ch.Email.Port != smtpd.addr.Port ||
		ch.Summary != fmt.Sprintf("127.0.0.1:%d → ops@example.test", smtpd.addr.Port) {
		t.Fatalf("created: %s", created.Body)
	}

	d := call(f.admin.PostNotificationChannelsIdTestWithResponse(ctx, ch.Id.String())).want(t, 200).JSON200
	if d.Status != "delivered" || d.EventType != "test" || d.Attempts != 1 {
		t.Fatalf("test delivery: %+v", d)
	}
	mails := smtpd.got()
	if len(mails) != 1 {
		t.Fatalf("mails: %d", len(mails))
	}
	m := mails[0]
	if m.auth != "|mailer|smtp-Secret-9" || m.from != "MAIL FROM:<rm@example.test> BODY=8BITMIME" && m.from != "MAIL FROM:<rm@example.test>" ||
		len(m.to) != 1 || m.to[0] != "RCPT TO:<ops@example.test>" {
		t.Fatalf("envelope: %+v", m)
	}
	for _, want := range []string{"Subject: [TEST] Restic Manager notification test\r\n", "From: \"Restic Manager\" <rm@example.test>\r\n",
		"To: ops@example.test\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "X-RM-Event: test\r\n", "If you can read it, this channel works."} {
		if !strings.Contains(m.data, want) {
			t.Fatalf("message lacks %q:\n%s", want, m.data)
		}
	}

	// Replace without the password (same username): it is kept.
	in.Email.Password = nil
	in.Email.To = []string{"ops@example.test", "oncall@example.test"}
	call(f.admin.PutNotificationChannelsIdWithResponse(ctx, ch.Id.String(), in)).want(t, 200)
	call(f.admin.PostNotificationChannelsIdTestWithResponse(ctx, ch.Id.String())).want(t, 200)
	if mails = smtpd.got(); len(mails) != 2 || mails[1].auth != "|mailer|smtp-Secret-9" || len(mails[1].to) != 2 {
		t.Fatalf("after replace: %+v", mails)
	}

	// An alert routed to the channel arrives as mail too.
	clk := &clock{}
	ev, nt := f.healthParts(clk, health.Config{OfflineAfter: time.Hour}, notifications.Config{})
	a := f.enroll("mail-host")
	call(f.admin.PutHostsIdObjectiveWithResponse(ctx, a.HostID, apiclient.ObjectiveInput{MaxAgeSeconds: 7200})).want(t, 200)
	call(f.admin.PostNotificationRulesWithResponse(ctx, apiclient.NotificationRuleInput{Name: "mail", ChannelId: ch.Id,
		MinSeverity: ptr(apiclient.NotificationRuleInputMinSeverityCritical)})).want(t, 201)
	clk.Set(time.Now().Add(30 * time.Minute))
	if out := f.round(ev); out.Deliveries != 0 || len(out.Opened) != 0 {
		t.Fatalf("early round: %+v", out)
	}
	clk.Set(time.Now().Add(3 * time.Hour))
	if out := f.round(ev); out.Deliveries != 1 || len(out.Opened) != 2 { // objective (critical, routed) and offline (warning)
		t.Fatalf("round: %+v", out)
	}
	if n := f.deliver(nt); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	mails = smtpd.got()
	if len(mails) != 3 || !strings.Contains(mails[2].data, "Subject: [CRITICAL] mail-host: backup objective\r\n") ||
		!strings.Contains(mails[2].data, publicURL+"/hosts/"+a.HostID) {
		t.Fatalf("alert mail: %+v", mails)
	}

	// A recipient the server refuses: the test delivery fails with the SMTP code.
	bad := call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "bad mail", Type: "email",
		Email: &apiclient.EmailSettings{Host: "127.0.0.1", Port: ptr(smtpd.addr.Port), Security: ptr(apiclient.EmailSettingsSecurityNone),
			From: "rm@example.test", To: []string{"nobody@example.test"}}})).want(t, 201).JSON201
	d = call(f.admin.PostNotificationChannelsIdTestWithResponse(ctx, bad.Id.String())).want(t, 200).JSON200
	if d.Status != "failed" || d.LastError == nil || !strings.Contains(*d.LastError, "550") {
		t.Fatalf("refused recipient: %+v", d)
	}
	detail := call(f.admin.GetNotificationDeliveriesIdWithResponse(ctx, d.Id)).want(t, 200).JSON200
	if len(detail.AttemptsLog) != 1 || detail.AttemptsLog[0].StatusCode == nil || *detail.AttemptsLog[0].StatusCode != 550 {
		t.Fatalf("refused attempt: %+v", detail.AttemptsLog)
	}
	// STARTTLS is required by default: a server without it is refused rather than
	// sent a password in the clear.
	plain := call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "starttls", Type: "email",
		Email: &apiclient.EmailSettings{Host: "127.0.0.1", Port: ptr(smtpd.addr.Port), Username: ptr("u"), Password: ptr("p"),
			From: "rm@example.test", To: []string{"ops@example.test"}}})).want(t, 201).JSON201
	d = call(f.admin.PostNotificationChannelsIdTestWithResponse(ctx, plain.Id.String())).want(t, 200).JSON200
	if d.Status != "failed" || !strings.Contains(*d.LastError, "does not offer STARTTLS") || len(smtpd.got()) != 3 {
		t.Fatalf("no STARTTLS: %+v", d)
	}
}

// TestChatChannel sends through shoutrrr's generic webhook service to a receiver on
// loopback (the same code path as Slack, Discord, ntfy, …).
func TestChatChannel(t *testing.T) {
	t.Parallel()
	f := start(t)
	recv := newReceiver(t, 0)
	u := strings.Replace(recv.srv.URL, "http://", "generic://", 1) + "/chat/tok-2718?disabletls=yes&template=json"
	created := call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "chat", Type: "chat",
		Chat: &apiclient.ChatSettings{Url: ptr(u)}})).want(t, 201)
	if strings.Contains(string(created.Body), "tok-2718") || created.JSON201.Chat == nil || created.JSON201.Chat.Service != "generic" {
		t.Fatalf("created: %s", created.Body)
	}
	d := call(f.admin.PostNotificationChannelsIdTestWithResponse(ctx, created.JSON201.Id.String())).want(t, 200).JSON200
	got := recv.got()
	if d.Status != "delivered" || len(got) != 1 || got[0].path != "/chat/tok-2718" || !strings.Contains(string(got[0].body), "Restic Manager notification test") {
		t.Fatalf("chat: %+v %+v", d, got)
	}
	call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "bad chat", Type: "chat",
		Chat: &apiclient.ChatSettings{Url: ptr("nosuchservice://token@x")}})).wantErr(t, 400, protocol.CodeValidation)
}

// TestHealthValidationAndPings: write-only settings, validation errors, objective
// overrides, and a schedule's Healthchecks-style pings end to end.
func TestHealthValidationAndPings(t *testing.T) {
	t.Parallel()
	f := start(t)
	cases := []apiclient.NotificationChannelInput{
		{Name: "no url", Type: "webhook", Webhook: &apiclient.WebhookSettings{}},
		{Name: "ftp", Type: "webhook", Webhook: &apiclient.WebhookSettings{Url: ptr("ftp://x")}},
		{Name: "reserved header", Type: "webhook", Webhook: &apiclient.WebhookSettings{Url: ptr("https://x"), Headers: &map[string]string{"Content-Type": "x"}}},
		{Name: "no email settings", Type: "email"},
		{Name: "no recipients", Type: "email", Email: &apiclient.EmailSettings{Host: "smtp.x", From: "a@x", To: []string{}}},
		{Name: "bad from", Type: "email", Email: &apiclient.EmailSettings{Host: "smtp.x", From: "nope", To: []string{"a@x"}}},
		{Name: "user without password", Type: "email", Email: &apiclient.EmailSettings{Host: "smtp.x", From: "a@x", To: []string{"a@x"}, Username: ptr("u")}},
		{Name: "two settings", Type: "webhook", Webhook: &apiclient.WebhookSettings{Url: ptr("https://x")}, Chat: &apiclient.ChatSettings{Url: ptr("ntfy://x/y")}},
		{Name: "pager", Type: "pager"},
		{Name: "", Type: "webhook", Webhook: &apiclient.WebhookSettings{Url: ptr("https://x")}},
	}
	for _, in := range cases {
		call(f.admin.PostNotificationChannelsWithResponse(ctx, in)).wantErr(t, 400, protocol.CodeValidation)
	}
	hook := newReceiver(t, 0)
	ch := f.webhookChannel("hook", hook.srv.URL+"/h", "sec")
	f.webhookChannel("hook-2", hook.srv.URL, "")
	call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "hook", Type: "webhook",
		Webhook: &apiclient.WebhookSettings{Url: ptr("https://x")}})).wantErr(t, 409, protocol.CodeConflict)
	// Replace: the URL and secret are kept when left out; the type cannot change.
	upd := call(f.admin.PutNotificationChannelsIdWithResponse(ctx, ch.Id.String(), apiclient.NotificationChannelInput{Name: "hook renamed", Type: "webhook",
		Enabled: ptr(false), Webhook: &apiclient.WebhookSettings{Headers: &map[string]string{"X-Team": "ops"}}})).want(t, 200).JSON200
	if upd.Name != "hook renamed" || upd.Enabled || !upd.Webhook.SecretSet || upd.Webhook.UrlHost != hook.srv.URL || len(upd.Webhook.HeaderNames) != 1 {
		t.Fatalf("replaced: %+v", upd.Webhook)
	}
	call(f.admin.PutNotificationChannelsIdWithResponse(ctx, ch.Id.String(), apiclient.NotificationChannelInput{Name: "x", Type: "chat"})).
		wantErr(t, 400, protocol.CodeValidation)
	// A disabled channel can still be tested; the header and signature are sent.
	if d := call(f.admin.PostNotificationChannelsIdTestWithResponse(ctx, ch.Id.String())).want(t, 200).JSON200; d.Status != "delivered" {
		t.Fatalf("test of a disabled channel: %+v", d)
	}
	if got := hook.got(); len(got) != 1 || got[0].path != "/h" || got[0].header.Get("X-Team") != "ops" || !validSignature("sec", got[0]) {
		t.Fatalf("test request: %+v", got)
	}

	for _, in := range []apiclient.NotificationRuleInput{
		{Name: "bad event", ChannelId: ch.Id, Events: &[]string{"alert.exploded"}},
		{Name: "bad condition", ChannelId: ch.Id, Conditions: &[]string{"sad"}},
		{Name: "bad kind", ChannelId: ch.Id, JobKinds: &[]string{"dance"}},
		{Name: "bad severity", ChannelId: ch.Id, MinSeverity: ptr(apiclient.NotificationRuleInputMinSeverity("fatal"))},
		{Name: "bad host", ChannelId: ch.Id, HostIds: &[]string{"web-1"}},
		{Name: "bad label", ChannelId: ch.Id, Labels: &map[string]string{"bad key": "x"}},
		{Name: "no channel", ChannelId: mustUUID("00000000-0000-0000-0000-000000000001")},
	} {
		call(f.admin.PostNotificationRulesWithResponse(ctx, in)).wantErr(t, 400, protocol.CodeValidation)
	}
	rule := call(f.admin.PostNotificationRulesWithResponse(ctx, apiclient.NotificationRuleInput{Name: "r", ChannelId: ch.Id})).want(t, 201).JSON201
	if rule.Events == nil || len(rule.Events) != 0 || !rule.Enabled {
		t.Fatalf("rule: %+v", rule)
	}
	rule = call(f.admin.PutNotificationRulesIdWithResponse(ctx, rule.Id.String(), apiclient.NotificationRuleInput{Name: "r2", ChannelId: ch.Id,
		Events: &[]string{"job.failed"}, Enabled: ptr(false)})).want(t, 200).JSON200
	if rule.Name != "r2" || rule.Enabled || len(rule.Events) != 1 {
		t.Fatalf("replaced rule: %+v", rule)
	}
	if l := call(f.admin.GetNotificationRulesWithResponse(ctx)).want(t, 200).JSON200; len(l.Items) != 1 {
		t.Fatalf("rules: %+v", l.Items)
	}
	call(f.admin.DeleteNotificationChannelsIdWithResponse(ctx, ch.Id.String())).want(t, 200)
	call(f.admin.GetNotificationRulesIdWithResponse(ctx, rule.Id.String())).wantErr(t, 404, protocol.CodeNotFound) // went with its channel
	if l := call(f.admin.GetNotificationDeliveriesWithResponse(ctx, nil)).want(t, 200).JSON200; len(l.Items) != 1 {
		t.Fatalf("the log of a deleted channel stays: %+v", l.Items)
	}

	// Objective overrides.
	a := f.enroll("pinged")
	call(f.admin.PutHostsIdObjectiveWithResponse(ctx, a.HostID, apiclient.ObjectiveInput{MaxAgeSeconds: 59})).wantErr(t, 400, protocol.CodeValidation)
	hh := call(f.admin.PutHostsIdObjectiveWithResponse(ctx, a.HostID, apiclient.ObjectiveInput{MaxAgeSeconds: 7200})).want(t, 200).JSON200
	if hh.OverrideSeconds == nil || *hh.OverrideSeconds != 7200 || hh.ObjectiveState != "unknown" {
		t.Fatalf("override: %+v", hh)
	}
	if hh = call(f.admin.DeleteHostsIdObjectiveWithResponse(ctx, a.HostID)).want(t, 200).JSON200; hh.OverrideSeconds != nil {
		t.Fatalf("cleared: %+v", hh)
	}
	call(f.admin.DeleteHostsIdObjectiveWithResponse(ctx, a.HostID)).wantErr(t, 404, protocol.CodeNotFound)

	// Pings: /start when the scheduled job runs, /fail when it fails.
	ping := newReceiver(t, 0)
	repo := f.repo(a.HostID, "main")
	sc := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, apiclient.ScheduleInput{RepositoryId: repo.Id, Name: "nightly",
		Kind: "backup", Cron: "0 3 * * *", Paths: &[]string{"/srv"}})).want(t, 201).JSON201
	sid := sc.Id.String()
	if p := call(f.admin.GetHostsIdSchedulesSidPingWithResponse(ctx, a.HostID, sid)).want(t, 200).JSON200; p.Configured {
		t.Fatalf("ping before set: %+v", p)
	}
	call(f.admin.PutHostsIdSchedulesSidPingWithResponse(ctx, a.HostID, sid, apiclient.SchedulePingInput{Url: "ftp://x"})).wantErr(t, 400, protocol.CodeValidation)
	set := call(f.admin.PutHostsIdSchedulesSidPingWithResponse(ctx, a.HostID, sid, apiclient.SchedulePingInput{Url: ping.srv.URL + "/ping/uuid-1"})).want(t, 200)
	if strings.Contains(string(set.Body), "uuid-1") || !set.JSON200.Configured || *set.JSON200.UrlHost != ping.srv.URL {
		t.Fatalf("ping set: %s", set.Body)
	}
	clk := &clock{}
	ev, nt := f.healthParts(clk, health.Config{}, notifications.Config{})
	clk.Set(time.Now().Add(-time.Minute))
	f.round(ev) // the job watermark starts here
	var fire protocol.ScheduleFireResponse
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathScheduleFire, sid), protocol.ScheduleFire{JobID: "9d2c1a52-6e0c-4c55-8f0b-3a4b5c6d7e8f",
		ScheduledFor: time.Now().UTC().Truncate(time.Second)}, &fire); st != 200 {
		t.Fatalf("fire: %d", st)
	}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobStart, fire.Job.JobID), protocol.JobStart{StartedAt: time.Now()}, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	clk.Set(time.Now())
	if out := f.round(ev); out.Deliveries != 1 {
		t.Fatalf("start ping queued: %+v", out)
	}
	if st := a.JSON(t, http.MethodPost, servertest.Path(protocol.PathJobFinish, fire.Job.JobID), protocol.JobFinish{Status: protocol.JobFailed,
		ExitCode: 1, Error: "Fatal: unable to open repository", FinishedAt: time.Now()}, nil); st != 200 {
		t.Fatalf("finish: %d", st)
	}
	clk.Set(time.Now())
	if out := f.round(ev); out.Deliveries != 1 {
		t.Fatalf("fail ping queued: %+v", out)
	}
	if n := f.deliver(nt); n != 2 {
		t.Fatalf("pings sent: %d", n)
	}
	got := ping.got()
	if len(got) != 2 || got[0].path != "/ping/uuid-1/start" || got[1].path != "/ping/uuid-1/fail" ||
		!strings.Contains(string(got[1].body), "backup failed: Fatal: unable to open repository") {
		t.Fatalf("pings: %+v", got)
	}
	pl := call(f.admin.GetNotificationDeliveriesWithResponse(ctx, &apiclient.GetNotificationDeliveriesParams{ScheduleId: &sid})).want(t, 200).JSON200
	if len(pl.Items) != 2 || pl.Items[0].TargetType != "ping" || pl.Items[0].Status != "delivered" {
		t.Fatalf("ping log: %+v", pl.Items)
	}
	call(f.admin.DeleteHostsIdSchedulesSidPingWithResponse(ctx, a.HostID, sid)).want(t, 200)
	call(f.admin.DeleteHostsIdSchedulesSidPingWithResponse(ctx, a.HostID, sid)).wantErr(t, 404, protocol.CodeNotFound)

	// /readyz checks that every migration is applied.
	resp, err := http.Get(f.env.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz: %d", resp.StatusCode)
	}
}

func mustUUID(s string) uuid.UUID { return uuid.MustParse(s) }
