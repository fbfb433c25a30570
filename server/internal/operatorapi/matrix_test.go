package operatorapi_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// Minimum roles of the matrix; public routes need nothing, "any" needs a login.
const (
	rolePublic = iota
	roleAny
	roleViewer
	roleOperator
	roleAdmin
)

type principalCase struct {
	name    string
	rank    int // what it may do: 0 nothing, then viewer, operator, admin
	hc      *http.Client
	headers map[string]string
}

type routeCase struct {
	method, pattern, path string
	body                  string
	min                   int
}

// TestAuthorizationMatrix walks every operator route with anonymous, an agent
// credential, an expired and a revoked token, a viewer session, an operator token and an
// admin token, and checks each answer: 401 without valid credentials, 403 forbidden
// below the route's role, and anything but those at or above it.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := start(t)
	_, viewer, _ := f.user("viewer@example.test", apiclient.UserCreateRoleViewer)
	_, _, opTok := f.user("op@example.test", apiclient.UserCreateRoleOperator)
	target, _, _ := f.user("target@example.test", apiclient.UserCreateRoleViewer)

	agent := f.enroll("matrix-1")
	spare := f.enroll("matrix-2")
	repo := f.repo(agent.HostID, "main")
	spareRepo := f.repo(agent.HostID, "spare")
	sched := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, agent.HostID, apiclient.ScheduleInput{RepositoryId: repo.Id, Name: "s",
		Kind: "check", Cron: "@daily"})).want(t, 201).JSON201
	spareSched := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, agent.HostID, apiclient.ScheduleInput{RepositoryId: repo.Id, Name: "s2",
		Kind: "check", Cron: "@daily"})).want(t, 201).JSON201
	job := call(f.admin.PostHostsIdJobsWithResponse(ctx, agent.HostID, apiclient.RunRequest{Kind: "check", RepositoryId: repo.Id})).want(t, 202).JSON202
	done := call(f.admin.PostHostsIdJobsWithResponse(ctx, agent.HostID, apiclient.RunRequest{Kind: "check", RepositoryId: repo.Id})).want(t, 202).JSON202
	call(f.admin.PostJobsIdCancelWithResponse(ctx, done.Id.String(), apiclient.CancelRequest{})).want(t, 200)
	victimTok := call(f.admin.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "victim", Role: "viewer"})).want(t, 201).JSON201
	enrolTok := call(f.admin.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).want(t, 201).JSON201
	expiring := call(f.admin.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "expiring", Role: "admin", ExpiresAt: ptr(time.Now().Add(time.Second))})).want(t, 201).JSON201
	revoked := call(f.admin.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "revoked", Role: "admin"})).want(t, 201).JSON201
	call(f.admin.DeleteApiTokensIdWithResponse(ctx, revoked.Id.String())).want(t, 200)
	channel := call(f.admin.PostNotificationChannelsWithResponse(ctx, apiclient.NotificationChannelInput{Name: "matrix", Type: "webhook",
		Webhook: &apiclient.WebhookSettings{Url: ptr("http://127.0.0.1:1/hook")}})).want(t, 201).JSON201
	rule := call(f.admin.PostNotificationRulesWithResponse(ctx, apiclient.NotificationRuleInput{Name: "matrix", ChannelId: channel.Id})).want(t, 201).JSON201
	time.Sleep(1100 * time.Millisecond)

	h, r, sr := agent.HostID, repo.Id.String(), spareRepo.Id.String()
	s, ss, j, dj := sched.Id.String(), spareSched.Id.String(), job.Id.String(), done.Id.String()
	nobody := uuid.NewString()
	nc, nr := channel.Id.String(), rule.Id.String()
	schedBody := `{"repository_id":"` + r + `","name":"m","kind":"backup","cron":"0 1 * * *","paths":["/srv"]}`
	routes := []routeCase{
		{"GET", "/info", "/info", "", rolePublic},
		{"POST", "/auth/login", "/auth/login", `{"email":"x@example.test","password":"nope"}`, rolePublic},
		{"POST", "/auth/setup", "/auth/setup", `{"token":"rmsetup_x","email":"a@b.c","name":"","password":"long-enough-pw"}`, rolePublic},
		{"GET", "/auth/me", "/auth/me", "", roleAny},
		{"POST", "/auth/password", "/auth/password", `{"current_password":"x","new_password":"short"}`, roleAny},
		{"GET", "/auth/sessions", "/auth/sessions", "", roleAny},
		{"DELETE", "/auth/sessions/:id", "/auth/sessions/" + nobody, "", roleAny},
		{"GET", "/hosts", "/hosts", "", roleViewer},
		{"GET", "/hosts/summary", "/hosts/summary", "", roleViewer},
		{"GET", "/hosts/:id", "/hosts/" + h, "", roleViewer},
		{"GET", "/hosts/:id/repositories", "/hosts/" + h + "/repositories", "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid", "/hosts/" + h + "/repositories/" + r, "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid/snapshots", "/hosts/" + h + "/repositories/" + r + "/snapshots", "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid/stats", "/hosts/" + h + "/repositories/" + r + "/stats", "", roleViewer},
		{"GET", "/hosts/:id/schedules", "/hosts/" + h + "/schedules", "", roleViewer},
		{"GET", "/hosts/:id/schedules/:sid", "/hosts/" + h + "/schedules/" + s, "", roleViewer},
		{"GET", "/schedules/preview", "/schedules/preview?cron=@hourly", "", roleViewer},
		{"GET", "/jobs", "/jobs", "", roleViewer},
		{"GET", "/jobs/:id", "/jobs/" + j, "", roleViewer},
		{"GET", "/jobs/:id/logs", "/jobs/" + j + "/logs", "", roleViewer},
		{"GET", "/jobs/:id/events", "/jobs/" + dj + "/events", "", roleViewer},
		{"GET", "/api-tokens", "/api-tokens", "", roleViewer},
		{"PATCH", "/hosts/:id", "/hosts/" + h, `{"name":"renamed"}`, roleOperator},
		{"POST", "/hosts/:id/repositories", "/hosts/" + h + "/repositories", `{"name":"m","url":"/srv/m","password":"pw"}`, roleOperator},
		{"PATCH", "/hosts/:id/repositories/:rid", "/hosts/" + h + "/repositories/" + r, `{"name":"main-2"}`, roleOperator},
		{"POST", "/hosts/:id/repositories/:rid/test", "/hosts/" + h + "/repositories/" + r + "/test", "", roleOperator},
		{"POST", "/hosts/:id/schedules", "/hosts/" + h + "/schedules", schedBody, roleOperator},
		{"PUT", "/hosts/:id/schedules/:sid", "/hosts/" + h + "/schedules/" + s, schedBody, roleOperator},
		{"POST", "/hosts/:id/schedules/:sid/disable", "/hosts/" + h + "/schedules/" + s + "/disable", "", roleOperator},
		{"POST", "/hosts/:id/schedules/:sid/enable", "/hosts/" + h + "/schedules/" + s + "/enable", "", roleOperator},
		{"POST", "/hosts/:id/schedules/:sid/run", "/hosts/" + h + "/schedules/" + s + "/run", "", roleOperator},
		{"POST", "/hosts/:id/jobs", "/hosts/" + h + "/jobs", `{"kind":"check","repository_id":"` + r + `"}`, roleOperator},
		{"POST", "/jobs/:id/cancel", "/jobs/" + j + "/cancel", "", roleOperator},
		{"GET", "/enrollment-tokens", "/enrollment-tokens", "", roleOperator},
		{"POST", "/enrollment-tokens", "/enrollment-tokens", `{}`, roleOperator},
		{"DELETE", "/enrollment-tokens/:id", "/enrollment-tokens/" + enrolTok.Id.String(), "", roleOperator},
		{"POST", "/api-tokens", "/api-tokens", `{"name":"m","role":"viewer"}`, roleOperator},
		{"DELETE", "/api-tokens/:id", "/api-tokens/" + victimTok.Id.String(), "", roleOperator},
		{"DELETE", "/hosts/:id/schedules/:sid", "/hosts/" + h + "/schedules/" + ss, "", roleOperator},
		{"DELETE", "/hosts/:id/repositories/:rid", "/hosts/" + h + "/repositories/" + sr, "", roleOperator},
		{"POST", "/hosts/:id/decommission", "/hosts/" + spare.HostID + "/decommission", "", roleOperator},
		// browse_routes.go: a made-up snapshot is not found (404 is access); wait=0 never holds.
		{"GET", "/hosts/:id/repositories/:rid/snapshots/:sid/tree", "/hosts/" + h + "/repositories/" + r + "/snapshots/deadbeef/tree?wait=0", "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid/snapshots/:sid/index", "/hosts/" + h + "/repositories/" + r + "/snapshots/deadbeef/index", "", roleViewer},
		{"POST", "/hosts/:id/repositories/:rid/snapshots/:sid/index", "/hosts/" + h + "/repositories/" + r + "/snapshots/deadbeef/index?wait=0", "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid/snapshots/:sid/search", "/hosts/" + h + "/repositories/" + r + "/snapshots/deadbeef/search?q=x", "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid/find", "/hosts/" + h + "/repositories/" + r + "/find?pattern=x&wait=0", "", roleViewer},
		{"GET", "/hosts/:id/repositories/:rid/diff", "/hosts/" + h + "/repositories/" + r + "/diff?from=deadbeef&to=deadbeef&wait=0", "", roleViewer},
		{"POST", "/hosts/:id/repositories/:rid/snapshots/:sid/restore", "/hosts/" + h + "/repositories/" + r + "/snapshots/deadbeef/restore", `{"paths":["/x"]}`, roleOperator},
		{"POST", "/hosts/:id/repositories/:rid/snapshots/:sid/downloads", "/hosts/" + h + "/repositories/" + r + "/snapshots/deadbeef/downloads", `{"path":"/x"}`, roleOperator},
		{"GET", "/downloads/:id", "/downloads/" + nobody, "", roleOperator},
		{"DELETE", "/downloads/:id", "/downloads/" + nobody, "", roleOperator},
		{"POST", "/downloads/:id/tickets", "/downloads/" + nobody + "/tickets", "", roleOperator},
		{"GET", "/downloads/:id/content", "/downloads/" + nobody + "/content?ticket=rmdl_x", "", rolePublic},
		// Fleet health (health_*.go).
		{"GET", "/health/summary", "/health/summary", "", roleViewer},
		{"GET", "/health/hosts", "/health/hosts", "", roleViewer},
		{"GET", "/hosts/:id/health", "/hosts/" + h + "/health", "", roleViewer},
		{"GET", "/alerts", "/alerts", "", roleViewer},
		{"GET", "/alerts/:id", "/alerts/" + nobody, "", roleViewer},
		{"GET", "/notification-channels", "/notification-channels", "", roleViewer},
		{"GET", "/notification-channels/:id", "/notification-channels/" + nc, "", roleViewer},
		{"GET", "/notification-rules", "/notification-rules", "", roleViewer},
		{"GET", "/notification-rules/:id", "/notification-rules/" + nr, "", roleViewer},
		{"GET", "/notification-deliveries", "/notification-deliveries", "", roleViewer},
		{"GET", "/notification-deliveries/:id", "/notification-deliveries/1", "", roleViewer},
		{"GET", "/hosts/:id/schedules/:sid/ping", "/hosts/" + h + "/schedules/" + s + "/ping", "", roleViewer},
		{"PUT", "/hosts/:id/objective", "/hosts/" + h + "/objective", `{"max_age_seconds":90000}`, roleOperator},
		{"DELETE", "/hosts/:id/objective", "/hosts/" + h + "/objective", "", roleOperator},
		{"POST", "/notification-channels", "/notification-channels", `{"name":"m","type":"webhook","webhook":{"url":"http://127.0.0.1:1/"}}`, roleOperator},
		{"PUT", "/notification-channels/:id", "/notification-channels/" + nc, `{"name":"n","type":"webhook"}`, roleOperator},
		{"POST", "/notification-channels/:id/test", "/notification-channels/" + nc + "/test", "", roleOperator},
		{"POST", "/notification-rules", "/notification-rules", `{"name":"m","channel_id":"` + nc + `"}`, roleOperator},
		{"PUT", "/notification-rules/:id", "/notification-rules/" + nr, `{"name":"m","channel_id":"` + nc + `"}`, roleOperator},
		{"DELETE", "/notification-rules/:id", "/notification-rules/" + nr, "", roleOperator},
		{"PUT", "/hosts/:id/schedules/:sid/ping", "/hosts/" + h + "/schedules/" + s + "/ping", `{"url":"https://hc.example.test/x"}`, roleOperator},
		{"DELETE", "/hosts/:id/schedules/:sid/ping", "/hosts/" + h + "/schedules/" + s + "/ping", "", roleOperator},
		{"DELETE", "/notification-channels/:id", "/notification-channels/" + nc, "", roleOperator},
		{"GET", "/users", "/users", "", roleAdmin},
		{"POST", "/users", "/users", `{"email":"new@example.test","name":"n","role":"viewer","password":"long-enough-pw"}`, roleAdmin},
		{"GET", "/users/:id", "/users/" + target.Id.String(), "", roleAdmin},
		{"PATCH", "/users/:id", "/users/" + target.Id.String(), `{"name":"T"}`, roleAdmin},
		{"DELETE", "/users/:id/sessions", "/users/" + target.Id.String() + "/sessions", "", roleAdmin},
		{"GET", "/audit", "/audit", "", roleAdmin},
		{"DELETE", "/users/:id", "/users/" + target.Id.String(), "", roleAdmin},
		{"POST", "/auth/logout", "/auth/logout", "", roleAny}, // last: it ends the viewer's session
	}

	// Every operator route of the router is in the table.
	var registered, listed []string
	for _, ri := range f.env.Server.Handler.(*gin.Engine).Routes() {
		if p, ok := strings.CutPrefix(ri.Path, "/api/v1"); ok && !strings.HasPrefix(p, "/agent/") {
			registered = append(registered, ri.Method+" "+p)
		}
	}
	for _, rc := range routes {
		listed = append(listed, rc.method+" "+rc.pattern)
	}
	sort.Strings(registered)
	sort.Strings(listed)
	if !slices.Equal(registered, listed) {
		t.Fatalf("the matrix does not list exactly the registered routes:\nregistered %v\nlisted     %v", registered, listed)
	}

	principals := []principalCase{
		{name: "anonymous", rank: 0},
		{name: "agent credential", rank: 0, headers: map[string]string{"Authorization": "Bearer " + agent.Credential}},
		{name: "expired token", rank: 0, headers: map[string]string{"Authorization": "Bearer " + expiring.Token}},
		{name: "revoked token", rank: 0, headers: map[string]string{"Authorization": "Bearer " + revoked.Token}},
		{name: "viewer session", rank: roleViewer, hc: viewer.hc, headers: map[string]string{"X-CSRF-Token": viewer.csrf}},
		{name: "operator token", rank: roleOperator, headers: map[string]string{"Authorization": "Bearer " + opTok}},
		{name: "admin token", rank: roleAdmin, headers: map[string]string{"Authorization": "Bearer " + f.adminToken}},
	}
	for _, rc := range routes {
		for _, p := range principals {
			var payload []byte
			if rc.body != "" {
				payload = []byte(rc.body)
			}
			st, code, raw := f.raw(p.hc, rc.method, rc.path, payload, p.headers)
			denied := (st == 401 && code == protocol.CodeUnauthorized) || (st == 403 && code == protocol.CodeForbidden)
			switch {
			case rc.min == rolePublic || (rc.min == roleAny && p.rank > 0) || (rc.min > roleAny && p.rank >= rc.min):
				if denied || st >= 500 || code == "csrf_failed" {
					t.Errorf("%s %s as %s: %d %s, want access", rc.method, rc.pattern, p.name, st, raw)
				}
			case p.rank == 0:
				if st != 401 || code != protocol.CodeUnauthorized {
					t.Errorf("%s %s as %s: %d %s, want 401", rc.method, rc.pattern, p.name, st, raw)
				}
			default:
				if st != 403 || code != protocol.CodeForbidden {
					t.Errorf("%s %s as %s: %d %s, want 403", rc.method, rc.pattern, p.name, st, raw)
				}
			}
		}
	}
}
