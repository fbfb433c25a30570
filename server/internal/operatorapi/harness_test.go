package operatorapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
)

// The operator API tests run a real server (app.New behind a loopback listener) on a
// fresh PostgreSQL database per test, and talk to it through the Go client generated
// from openapi.yaml, so the spec is proven by use.

const (
	adminEmail    = "admin@example.test"
	adminPassword = "admin-password-1"
	userPassword  = "user-password-12"
)

var ctx = context.Background()

type fx struct {
	t          *testing.T
	env        *servertest.Env
	base       string
	admin      *apiclient.ClientWithResponses // an admin API token
	adminToken string
}

// start runs a server whose first admin comes from the configuration, and makes an
// admin API token.
func start(t *testing.T, cfgs ...func(*config.Config)) *fx {
	t.Helper()
	env := servertest.Start(t, servertest.Options{Config: func(c *config.Config) {
		c.AdminEmail, c.AdminPassword = adminEmail, adminPassword
		for _, f := range cfgs {
			f(c)
		}
	}})
	f := &fx{t: t, env: env, base: env.URL + "/api/v1"}
	s := f.login(adminEmail, adminPassword)
	f.adminToken = f.createToken(s.c, "admin-token", apiclient.APITokenCreateRoleAdmin)
	f.admin = f.tokenClient(f.adminToken)
	return f
}

func (f *fx) client(hc *http.Client, editors ...apiclient.RequestEditorFn) *apiclient.ClientWithResponses {
	f.t.Helper()
	opts := []apiclient.ClientOption{apiclient.WithHTTPClient(hc)}
	for _, e := range editors {
		opts = append(opts, apiclient.WithRequestEditorFn(e))
	}
	c, err := apiclient.NewClientWithResponses(f.base, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func bearer(tok string) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// tokenClient authenticates with an API token.
func (f *fx) tokenClient(tok string) *apiclient.ClientWithResponses {
	return f.client(&http.Client{Timeout: 30 * time.Second}, bearer(tok))
}

// anonymous sends no credentials.
func (f *fx) anonymous() *apiclient.ClientWithResponses {
	return f.client(&http.Client{Timeout: 30 * time.Second})
}

// session is a logged-in browser: a cookie jar, and a client that sends the CSRF
// header (c) or does not (noCSRF).
type session struct {
	c      *apiclient.ClientWithResponses
	noCSRF *apiclient.ClientWithResponses
	hc     *http.Client
	csrf   string
	login  *apiclient.PostAuthLoginResponse
}

func (f *fx) login(email, password string) *session {
	f.t.Helper()
	s, r := f.tryLogin(email, password)
	if s == nil {
		f.t.Fatalf("login %s: %d %s", email, r.StatusCode(), r.Body)
	}
	return s
}

func (f *fx) tryLogin(email, password string) (*session, *apiclient.PostAuthLoginResponse) {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Timeout: 30 * time.Second, Jar: jar}
	s := &session{hc: hc}
	s.noCSRF = f.client(hc)
	r, err := s.noCSRF.PostAuthLoginWithResponse(ctx, apiclient.LoginRequest{Email: email, Password: password})
	if err != nil {
		f.t.Fatal(err)
	}
	if r.JSON200 == nil {
		return nil, r
	}
	s.login = r
	s.csrf = r.JSON200.CsrfToken
	s.c = f.client(hc, func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-CSRF-Token", s.csrf)
		return nil
	})
	return s, r
}

func (f *fx) createToken(c *apiclient.ClientWithResponses, name string, role apiclient.APITokenCreateRole) string {
	f.t.Helper()
	r := call(c.PostApiTokensWithResponse(ctx, apiclient.APITokenCreate{Name: name, Role: role})).want(f.t, 201)
	return r.JSON201.Token
}

// user creates an account with a role and returns it with a session and an API token
// of the same role (none for viewers, who cannot create tokens).
func (f *fx) user(email string, role apiclient.UserCreateRole) (apiclient.User, *session, string) {
	f.t.Helper()
	u := call(f.admin.PostUsersWithResponse(ctx, apiclient.UserCreate{Email: email, Name: ptr("Test " + string(role)), Role: role, Password: userPassword})).want(f.t, 201).JSON201
	s := f.login(email, userPassword)
	tok := ""
	if role != apiclient.UserCreateRoleViewer {
		tok = f.createToken(s.c, email+"-token", apiclient.APITokenCreateRole(role))
	}
	return *u, s, tok
}

type response interface{ StatusCode() int }

func body(r any) []byte {
	v := reflect.ValueOf(r)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if b := v.Elem().FieldByName("Body"); b.IsValid() {
			return b.Bytes()
		}
	}
	return nil
}

type result[R response] struct {
	r   R
	err error
}

// call wraps a generated client's answer for checking.
func call[R response](r R, err error) result[R] { return result[R]{r, err} }

// want checks the status.
func (x result[R]) want(t *testing.T, status int) R {
	t.Helper()
	if x.err != nil {
		t.Fatalf("request failed: %v", x.err)
	}
	if x.r.StatusCode() != status {
		t.Fatalf("status %d, want %d: %s", x.r.StatusCode(), status, body(x.r))
	}
	return x.r
}

// wantErr checks an error answer's status and stable code.
func (x result[R]) wantErr(t *testing.T, status int, code string) R {
	t.Helper()
	if x.err != nil {
		t.Fatalf("request failed: %v", x.err)
	}
	var e protocol.Error
	_ = json.Unmarshal(body(x.r), &e)
	if x.r.StatusCode() != status || e.Code != code {
		t.Fatalf("got %d %q, want %d %q: %s", x.r.StatusCode(), e.Code, status, code, body(x.r))
	}
	return x.r
}

// raw sends a request with arbitrary bytes and headers and returns status, error code and body.
func (f *fx) raw(hc *http.Client, method, path string, payload []byte, headers map[string]string) (int, string, []byte) {
	f.t.Helper()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e protocol.Error
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Code, b
}

func ptr[T any](v T) *T { return &v }

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
