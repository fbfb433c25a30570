package operatorapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
)

func TestInfoAndFirstAdminSetup(t *testing.T) {
	t.Parallel()
	// No admin configured: the server waits for the setup token it logged.
	env := servertest.Start(t, servertest.Options{})
	f := &fx{t: t, env: env, base: env.URL + "/api/v1"}
	anon := f.anonymous()
	info := call(anon.GetInfoWithResponse(ctx)).want(t, 200).JSON200
	if !info.SetupRequired || info.ProtocolVersion != protocol.Version || info.Version == "" {
		t.Fatalf("info: %+v", info)
	}
	// The logged token is random; plant a known one the same way Bootstrap does.
	tok := "rmsetup_known-for-the-test"
	if err := env.Store.AddSetupToken(ctx, secrets.HashToken(tok), time.Hour); err != nil {
		t.Fatal(err)
	}
	req := apiclient.SetupRequest{Token: "rmsetup_wrong", Email: "first@example.test", Name: ptr("First"), Password: userPassword}
	call(anon.PostAuthSetupWithResponse(ctx, req)).wantErr(t, 401, "setup_token_invalid")
	req.Token, req.Password = tok, "short"
	call(anon.PostAuthSetupWithResponse(ctx, req)).wantErr(t, 400, protocol.CodeValidation)
	req.Password = userPassword
	u := call(anon.PostAuthSetupWithResponse(ctx, req)).want(t, 201).JSON201
	if u.Role != apiclient.UserRoleAdmin || u.Email != "first@example.test" {
		t.Fatalf("first admin: %+v", u)
	}
	call(anon.PostAuthSetupWithResponse(ctx, req)).wantErr(t, 409, "setup_done")
	if info := call(anon.GetInfoWithResponse(ctx)).want(t, 200).JSON200; info.SetupRequired {
		t.Fatal("setup still required")
	}
	s := f.login("FIRST@example.test", userPassword)
	me := call(s.c.GetAuthMeWithResponse(ctx)).want(t, 200).JSON200
	if me.Role != apiclient.MeRoleAdmin || me.Via != apiclient.MeViaSession {
		t.Fatalf("me: %+v", me)
	}
}

func TestSessionCookiesCSRFAndRevocation(t *testing.T) {
	t.Parallel()
	f := start(t)
	_, s, _ := f.user("op@example.test", apiclient.UserCreateRoleOperator)

	// Cookies: the session is HttpOnly and SameSite; the CSRF cookie is readable.
	var sessionCookie, csrfCookie *http.Cookie
	for _, c := range s.login.HTTPResponse.Cookies() {
		switch c.Name {
		case "rm_session":
			sessionCookie = c
		case "rm_csrf":
			csrfCookie = c
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode || sessionCookie.Secure {
		t.Fatalf("session cookie: %+v", sessionCookie)
	}
	if csrfCookie == nil || csrfCookie.HttpOnly || csrfCookie.Value != s.csrf {
		t.Fatalf("csrf cookie: %+v", csrfCookie)
	}
	if strings.Contains(string(s.login.Body), sessionCookie.Value) {
		t.Fatal("the session token is in the login body")
	}

	// Reads need no CSRF token; writes do, and a refused write changes nothing.
	call(s.noCSRF.GetAuthMeWithResponse(ctx)).want(t, 200)
	call(s.noCSRF.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).wantErr(t, 403, "csrf_failed")
	wrong := f.client(s.hc, func(_ context.Context, r *http.Request) error { r.Header.Set("X-CSRF-Token", "rmc_forged"); return nil })
	call(wrong.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).wantErr(t, 403, "csrf_failed")
	if l := call(f.admin.GetEnrollmentTokensWithResponse(ctx, nil)).want(t, 200).JSON200; len(l.Items) != 0 {
		t.Fatalf("a refused request created a token: %+v", l.Items)
	}
	call(s.c.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).want(t, 201)

	// Another user's CSRF token does not fit this session.
	_, other, _ := f.user("op2@example.test", apiclient.UserCreateRoleOperator)
	mixed := f.client(s.hc, func(_ context.Context, r *http.Request) error { r.Header.Set("X-CSRF-Token", other.csrf); return nil })
	call(mixed.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).wantErr(t, 403, "csrf_failed")

	// Sessions are listed and revocable one by one.
	s2 := f.login("op@example.test", userPassword)
	list := call(s.c.GetAuthSessionsWithResponse(ctx)).want(t, 200).JSON200
	if len(list.Items) != 2 {
		t.Fatalf("sessions: %+v", list.Items)
	}
	var otherID string
	for _, it := range list.Items {
		if !it.Current {
			otherID = it.Id.String()
		}
	}
	call(s.c.DeleteAuthSessionsIdWithResponse(ctx, otherID)).want(t, 200)
	call(s2.c.GetAuthMeWithResponse(ctx)).want(t, 401)

	// Logout ends the session server-side: a copy of the cookie is worthless.
	stolen := f.client(&http.Client{}, func(_ context.Context, r *http.Request) error {
		r.AddCookie(&http.Cookie{Name: "rm_session", Value: sessionCookie.Value})
		return nil
	})
	call(stolen.GetAuthMeWithResponse(ctx)).want(t, 200)
	call(s.c.PostAuthLogoutWithResponse(ctx)).want(t, 200)
	call(s.c.GetAuthMeWithResponse(ctx)).want(t, 401)
	call(stolen.GetAuthMeWithResponse(ctx)).want(t, 401)

	// An admin signs a user out everywhere.
	s3 := f.login("op@example.test", userPassword)
	opID := call(s3.c.GetAuthMeWithResponse(ctx)).want(t, 200).JSON200.User.Id
	n := call(f.admin.DeleteUsersIdSessionsWithResponse(ctx, opID.String())).want(t, 200).JSON200
	if n.Revoked != 1 {
		t.Fatalf("revoked %d", n.Revoked)
	}
	call(s3.c.GetAuthMeWithResponse(ctx)).want(t, 401)

	// Changing the password signs out the other sessions, keeps this one.
	a, b := f.login("op2@example.test", userPassword), f.login("op2@example.test", userPassword)
	call(a.c.PostAuthPasswordWithResponse(ctx, apiclient.PasswordChange{CurrentPassword: "nope", NewPassword: "another-password-1"})).wantErr(t, 403, "invalid_credentials")
	call(a.c.PostAuthPasswordWithResponse(ctx, apiclient.PasswordChange{CurrentPassword: userPassword, NewPassword: "short"})).wantErr(t, 400, protocol.CodeValidation)
	call(a.c.PostAuthPasswordWithResponse(ctx, apiclient.PasswordChange{CurrentPassword: userPassword, NewPassword: "another-password-1"})).want(t, 200)
	call(a.c.GetAuthMeWithResponse(ctx)).want(t, 200)
	call(b.c.GetAuthMeWithResponse(ctx)).want(t, 401)
	if _, r := f.tryLogin("op2@example.test", userPassword); r.StatusCode() != 401 {
		t.Fatalf("old password: %d", r.StatusCode())
	}
	f.login("op2@example.test", "another-password-1")
}

func TestSecureCookiesBehindTLSProxy(t *testing.T) {
	t.Parallel()
	f := start(t, func(c *config.Config) { c.PublicURL = "https://backup.example.test" })
	s := f.login(adminEmail, adminPassword)
	for _, c := range s.login.HTTPResponse.Cookies() {
		if !c.Secure {
			t.Fatalf("cookie %s not Secure", c.Name)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.user("victim@example.test", apiclient.UserCreateRoleViewer)
	anon := f.anonymous()
	// Per account: 10 failures lock the account, even for the right password.
	for i := range 10 {
		call(anon.PostAuthLoginWithResponse(ctx, apiclient.LoginRequest{Email: "victim@example.test", Password: "wrong-" + strconv.Itoa(i)})).wantErr(t, 401, "invalid_credentials")
	}
	r := call(anon.PostAuthLoginWithResponse(ctx, apiclient.LoginRequest{Email: "Victim@Example.test", Password: userPassword})).wantErr(t, 429, "rate_limited")
	if ra, _ := strconv.Atoi(r.HTTPResponse.Header.Get("Retry-After")); ra < 1 {
		t.Fatalf("Retry-After %q", r.HTTPResponse.Header.Get("Retry-After"))
	}
	// Other accounts from the same address still get in, until the address limit (30).
	f.login(adminEmail, adminPassword)
	for i := range 20 {
		call(anon.PostAuthLoginWithResponse(ctx, apiclient.LoginRequest{Email: "nobody" + strconv.Itoa(i) + "@example.test", Password: "x"})).wantErr(t, 401, "invalid_credentials")
	}
	call(anon.PostAuthLoginWithResponse(ctx, apiclient.LoginRequest{Email: adminEmail, Password: adminPassword})).wantErr(t, 429, "rate_limited")
	// Failed logins are audited, with the address.
	log := call(f.admin.GetAuditWithResponse(ctx, &apiclient.GetAuditParams{Action: ptr("auth.login_failed"), Limit: ptr(100)})).want(t, 200).JSON200
	if len(log.Items) != 30 || log.Items[0].RemoteAddr != "127.0.0.1" {
		t.Fatalf("audited failures: %d %+v", len(log.Items), log.Items[0])
	}
	// API tokens are not affected by the login limit.
	call(f.admin.GetAuthMeWithResponse(ctx)).want(t, 200)
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	f := start(t)
	op, opSession, opToken := f.user("op@example.test", apiclient.UserCreateRoleOperator)
	opc := f.tokenClient(opToken)

	me := call(opc.GetAuthMeWithResponse(ctx)).want(t, 200).JSON200
	if me.Via != apiclient.MeViaToken || me.Role != apiclient.MeRoleOperator || me.User.Email != "op@example.test" {
		t.Fatalf("me by token: %+v", me)
	}
	// A token's role cannot exceed its creator's.
	call(opc.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "x", Role: apiclient.APITokenCreateRoleAdmin})).wantErr(t, 403, "forbidden")
	call(opSession.c.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "x", Role: apiclient.APITokenCreateRoleAdmin})).wantErr(t, 403, "forbidden")
	call(opc.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "x", Role: "root"})).wantErr(t, 400, protocol.CodeValidation)
	call(opc.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "x", Role: "viewer", ExpiresAt: ptr(time.Now().Add(-time.Hour))})).wantErr(t, 400, protocol.CodeValidation)

	// A viewer token made by an operator is a viewer.
	viewerTok := call(opc.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "read-only", Role: apiclient.APITokenCreateRoleViewer})).want(t, 201).JSON201
	vc := f.tokenClient(viewerTok.Token)
	call(vc.GetHostsWithResponse(ctx, nil)).want(t, 200)
	call(vc.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).wantErr(t, 403, "forbidden")

	// Listing never shows secrets; last use is recorded.
	l := call(opc.GetApiTokensWithResponse(ctx, nil)).want(t, 200)
	if len(l.JSON200.Items) != 2 || strings.Contains(string(l.Body), opToken) || strings.Contains(string(l.Body), viewerTok.Token) {
		t.Fatalf("token list: %s", l.Body)
	}
	for _, it := range l.JSON200.Items {
		if it.LastUsedAt == nil || it.State != apiclient.APITokenStateActive || it.UserEmail != "op@example.test" {
			t.Fatalf("token %s: %+v", it.Name, it)
		}
	}
	// Only admins list everybody's.
	call(opc.GetApiTokensWithResponse(ctx, &apiclient.GetApiTokensParams{All: ptr(true)})).wantErr(t, 403, "forbidden")
	if all := call(f.admin.GetApiTokensWithResponse(ctx, &apiclient.GetApiTokensParams{All: ptr(true)})).want(t, 200).JSON200; len(all.Items) != 3 {
		t.Fatalf("all tokens: %d", len(all.Items))
	}

	// Demoting the owner demotes the tokens at once.
	call(f.admin.PatchUsersIdWithResponse(ctx, op.Id.String(), apiclient.UserUpdate{Role: ptr(apiclient.UserUpdateRoleViewer)})).want(t, 200)
	if me := call(opc.GetAuthMeWithResponse(ctx)).want(t, 200).JSON200; me.Role != apiclient.MeRoleViewer {
		t.Fatalf("role after demotion: %s", me.Role)
	}
	call(opc.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).wantErr(t, 403, "forbidden")
	call(f.admin.PatchUsersIdWithResponse(ctx, op.Id.String(), apiclient.UserUpdate{Role: ptr(apiclient.UserUpdateRoleOperator)})).want(t, 200)

	// Revocation: by the owner, then the token is refused; by someone else: 404.
	_, _, op2Token := f.user("op2@example.test", apiclient.UserCreateRoleOperator)
	call(f.tokenClient(op2Token).DeleteApiTokensIdWithResponse(ctx, viewerTok.Id.String())).wantErr(t, 404, protocol.CodeNotFound)
	rev := call(opc.DeleteApiTokensIdWithResponse(ctx, viewerTok.Id.String())).want(t, 200).JSON200
	if rev.State != apiclient.APITokenStateRevoked {
		t.Fatalf("revoked state: %s", rev.State)
	}
	call(vc.GetHostsWithResponse(ctx, nil)).wantErr(t, 401, protocol.CodeUnauthorized)
	call(opc.DeleteApiTokensIdWithResponse(ctx, viewerTok.Id.String())).want(t, 200) // twice is harmless

	// Expiry.
	short := call(opc.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: "short", Role: "viewer", ExpiresAt: ptr(time.Now().Add(1500 * time.Millisecond))})).want(t, 201).JSON201
	sc := f.tokenClient(short.Token)
	call(sc.GetHostsWithResponse(ctx, nil)).want(t, 200)
	time.Sleep(1600 * time.Millisecond)
	call(sc.GetHostsWithResponse(ctx, nil)).wantErr(t, 401, protocol.CodeUnauthorized)

	// Disabling the owner disables the tokens; deleting removes them.
	call(f.admin.PatchUsersIdWithResponse(ctx, op.Id.String(), apiclient.UserUpdate{Disabled: ptr(true)})).want(t, 200)
	call(opc.GetAuthMeWithResponse(ctx)).want(t, 401)
	call(f.admin.PatchUsersIdWithResponse(ctx, op.Id.String(), apiclient.UserUpdate{Disabled: ptr(false)})).want(t, 200)
	call(opc.GetAuthMeWithResponse(ctx)).want(t, 200)
	call(f.admin.DeleteUsersIdWithResponse(ctx, op.Id.String())).want(t, 200)
	call(opc.GetAuthMeWithResponse(ctx)).want(t, 401)

	// Malformed Authorization headers.
	for _, h := range []string{"Basic abc", "Bearer ", "Bearer rmh_agentcredential", "Bearer " + strings.Repeat("x", 300), "bearer " + f.adminToken} {
		st, code, _ := f.raw(nil, http.MethodGet, "/auth/me", nil, map[string]string{"Authorization": h})
		if st != 401 || code != protocol.CodeUnauthorized {
			t.Errorf("Authorization %.20q: %d %s", h, st, code)
		}
	}
}
