// Package auth authenticates operators: local accounts with argon2id password hashes,
// server-side browser sessions with CSRF protection, API tokens for automation, roles,
// login rate limiting, and the creation of the first admin account.
//
// A request is authenticated by exactly one of:
//   - "Authorization: Bearer rmt_…": an API token. Not ambient, so no CSRF check.
//   - the "rm_session" cookie (HttpOnly, SameSite=Lax, Secure under TLS): a browser
//     session. State-changing requests (anything but GET, HEAD, OPTIONS) must also carry
//     the session's CSRF token in the "X-CSRF-Token" header; the login answer returns it
//     and the "rm_csrf" cookie (readable by scripts) holds it too (double submit, bound to
//     the session server-side).
//
// Roles rank viewer < operator < admin. An API token's effective role is the lower of its
// own and its owner's current role, so demoting or disabling an account demotes or
// disables its tokens at once.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Cookie and header names.
const (
	SessionCookie = "rm_session"
	CSRFCookie    = "rm_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// Stable error codes of authentication (besides protocol.CodeUnauthorized and CodeForbidden).
const (
	CodeInvalidCredentials = "invalid_credentials"
	CodeCSRF               = "csrf_failed"
	CodeRateLimited        = "rate_limited"
)

// Errors as HTTP answers.
var (
	ErrInvalidCredentials = &httpx.Error{Status: http.StatusUnauthorized, Code: CodeInvalidCredentials, Message: "wrong email or password"}
	ErrForbidden          = &httpx.Error{Status: http.StatusForbidden, Code: protocol.CodeForbidden, Message: "your role does not allow this"}
	ErrCSRF               = &httpx.Error{Status: http.StatusForbidden, Code: CodeCSRF, Message: "missing or wrong " + CSRFHeader + " header"}
)

// Roles, least powerful first.
var Roles = []string{store.RoleViewer, store.RoleOperator, store.RoleAdmin}

// Rank orders roles; 0 is not a role.
func Rank(role string) int {
	for i, r := range Roles {
		if r == role {
			return i + 1
		}
	}
	return 0
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return Rank(role) > 0 }

// Store is what auth needs of the database.
type Store interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UpdateUser(ctx context.Context, id string, in store.UserUpdate) (store.User, error)
	RecordLogin(ctx context.Context, userID string) error
	CreateSession(ctx context.Context, in store.NewSession) (store.Session, string, string, error)
	SessionByToken(ctx context.Context, token string) (store.Session, store.User, error)
	TouchSession(ctx context.Context, id string, at, staleBefore time.Time) error
	PurgeSessions(ctx context.Context, before time.Time) error
	APITokenByToken(ctx context.Context, token string) (store.APIToken, store.User, error)
	TouchAPIToken(ctx context.Context, id, addr string, at, staleBefore time.Time) error
	CountUsers(ctx context.Context) (int64, error)
	CreateFirstAdmin(ctx context.Context, in store.NewUser, setupTokenHash string) (store.User, error)
	AddSetupToken(ctx context.Context, hash string, ttl time.Duration) error
}

// Config tunes authentication.
type Config struct {
	SessionTTL  time.Duration // absolute lifetime of a session (default 12 h)
	SessionIdle time.Duration // a session unused this long ends (default 2 h)
	// TouchInterval bounds how often a session's last-seen or a token's last-used time
	// is written (default 1 min): coalesced, not one write per request.
	TouchInterval time.Duration
	// SecureCookies marks cookies Secure even when the request did not come over TLS
	// (behind a TLS-terminating proxy).
	SecureCookies bool
	// Login rate limits: failures per account and per client address per window.
	AccountFailures int           // default 10
	AddressFailures int           // default 30
	FailureWindow   time.Duration // default 15 min
	Params          Params        // default DefaultParams
	SetupTokenTTL   time.Duration // default 24 h
}

func (c *Config) defaults() {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = 2 * time.Hour
	}
	if c.TouchInterval <= 0 {
		c.TouchInterval = time.Minute
	}
	if c.AccountFailures <= 0 {
		c.AccountFailures = 10
	}
	if c.AddressFailures <= 0 {
		c.AddressFailures = 30
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = 15 * time.Minute
	}
	if c.Params.Memory == 0 {
		c.Params = DefaultParams
	}
	if c.SetupTokenTTL <= 0 {
		c.SetupTokenTTL = 24 * time.Hour
	}
}

// Service authenticates requests.
type Service struct {
	cfg      Config
	store    Store
	hasher   *Hasher
	accounts *Limiter
	addrs    *Limiter
	logger   *slog.Logger
	now      func() time.Time
}

// New returns a Service.
func New(cfg Config, s Store, logger *slog.Logger) *Service {
	cfg.defaults()
	return &Service{cfg: cfg, store: s, hasher: NewHasher(cfg.Params, 4), logger: logger, now: time.Now,
		accounts: NewLimiter(cfg.AccountFailures, cfg.FailureWindow), addrs: NewLimiter(cfg.AddressFailures, cfg.FailureWindow)}
}

// Hasher returns the password hasher.
func (a *Service) Hasher() *Hasher { return a.hasher }

// Principal is who a request acts as.
type Principal struct {
	User store.User
	// Role is the effective role.
	Role string
	// SessionID is set for browser sessions, TokenID and TokenName for API tokens.
	SessionID string
	TokenID   string
	TokenName string
}

// Via tells how the principal authenticated: "session" or "token".
func (p Principal) Via() string {
	if p.TokenID != "" {
		return "token"
	}
	return "session"
}

// Actor returns the audit actor type, id and name.
func (p Principal) Actor() (typ, id, name string) {
	if p.TokenID != "" {
		return store.AuditActorToken, p.TokenID, p.User.Email + " (token " + p.TokenName + ")"
	}
	return store.AuditActorUser, p.User.ID, p.User.Email
}

const principalKey = "rm.principal"

// PrincipalOf returns the request's principal; ok is false on unauthenticated routes.
func PrincipalOf(c *gin.Context) (Principal, bool) {
	v, ok := c.Get(principalKey)
	if !ok {
		return Principal{}, false
	}
	p, ok := v.(Principal)
	return p, ok
}

// RateLimitedError is a login refused by the rate limit.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins; retry in %s", e.RetryAfter.Round(time.Second))
}

// LoginResult is a new session with its secrets, shown once.
type LoginResult struct {
	User      store.User
	Session   store.Session
	Token     string
	CSRFToken string
}

// Login checks a password and opens a session. Failures are counted per account and per
// address; a blocked account or address is refused even with the right password.
func (a *Service) Login(ctx context.Context, email, password, addr, userAgent string) (LoginResult, error) {
	acct := "acct:" + store.NormalizeEmail(email)
	ip := "addr:" + addr
	for _, l := range []struct {
		lim *Limiter
		key string
	}{{a.accounts, acct}, {a.addrs, ip}} {
		if blocked, wait := l.lim.Blocked(l.key); blocked {
			return LoginResult{}, &RateLimitedError{RetryAfter: wait}
		}
	}
	fail := func() (LoginResult, error) {
		a.accounts.Fail(acct)
		a.addrs.Fail(ip)
		return LoginResult{}, ErrInvalidCredentials
	}
	if len(password) > MaxPasswordLen {
		return fail()
	}
	u, err := a.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		a.hasher.VerifyDummy(ctx, password)
		return fail()
	}
	if err != nil {
		return LoginResult{}, err
	}
	ok, rehash, err := a.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil && !errors.Is(err, ErrMalformedHash) {
		return LoginResult{}, err
	}
	if !ok || u.DisabledAt != nil {
		return fail()
	}
	a.accounts.Reset(acct)
	if rehash {
		if h, err := a.hasher.Hash(ctx, password); err == nil {
			if _, err := a.store.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &h}); err != nil {
				a.logger.Warn("auth: rehash not stored", "user", u.ID, "err", err)
			}
		}
	}
	sess, tok, csrf, err := a.store.CreateSession(ctx, store.NewSession{UserID: u.ID, RemoteAddr: addr, UserAgent: userAgent, TTL: a.cfg.SessionTTL})
	if err != nil {
		return LoginResult{}, err
	}
	if err := a.store.RecordLogin(ctx, u.ID); err != nil {
		a.logger.Warn("auth: last login not recorded", "user", u.ID, "err", err)
	}
	// Housekeeping: sessions that ended a while ago go.
	if err := a.store.PurgeSessions(ctx, a.now().Add(-7*24*time.Hour)); err != nil {
		a.logger.Warn("auth: purge sessions", "err", err)
	}
	return LoginResult{User: u, Session: sess, Token: tok, CSRFToken: csrf}, nil
}

func (a *Service) secure(c *gin.Context) bool { return a.cfg.SecureCookies || c.Request.TLS != nil }

// SetSessionCookies sets the session cookie (HttpOnly) and the CSRF cookie (readable
// by the UI's scripts).
func (a *Service) SetSessionCookies(c *gin.Context, r LoginResult) {
	maxAge := int(time.Until(r.Session.ExpiresAt) / time.Second)
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: r.Token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure(c), SameSite: http.SameSiteLaxMode})
	http.SetCookie(c.Writer, &http.Cookie{Name: CSRFCookie, Value: r.CSRFToken, Path: "/", MaxAge: maxAge,
		HttpOnly: false, Secure: a.secure(c), SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookies removes both cookies.
func (a *Service) ClearSessionCookies(c *gin.Context) {
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == SessionCookie, Secure: a.secure(c), SameSite: http.SameSiteLaxMode})
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Authenticate is middleware that requires a valid API token or session (with its
// CSRF token on state-changing requests) and records the principal.
func (a *Service) Authenticate(c *gin.Context) {
	p, err := a.authenticate(c)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

func (a *Service) authenticate(c *gin.Context) (Principal, error) {
	ctx := c.Request.Context()
	now := a.now()
	if h := c.GetHeader("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(tok, "rmt_") || len(tok) > 256 {
			return Principal{}, httpx.Errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "the Authorization header must be \"Bearer <API token>\"")
		}
		t, u, err := a.store.APITokenByToken(ctx, tok)
		if errors.Is(err, store.ErrNotFound) {
			return Principal{}, httpx.Errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "API token unknown, expired or revoked")
		}
		if err != nil {
			return Principal{}, err
		}
		if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > a.cfg.TouchInterval {
			if err := a.store.TouchAPIToken(ctx, t.ID, c.ClientIP(), now, now.Add(-a.cfg.TouchInterval)); err != nil {
				a.logger.Warn("auth: token last-used not recorded", "token", t.ID, "err", err)
			}
		}
		role := t.Role
		if Rank(u.Role) < Rank(role) {
			role = u.Role
		}
		return Principal{User: u, Role: role, TokenID: t.ID, TokenName: t.Name}, nil
	}
	cookie, err := c.Cookie(SessionCookie)
	if err != nil || cookie == "" || len(cookie) > 256 {
		return Principal{}, httpx.ErrUnauthorized
	}
	sess, u, err := a.store.SessionByToken(ctx, cookie)
	if errors.Is(err, store.ErrNotFound) || (err == nil && now.Sub(sess.LastSeenAt) > a.cfg.SessionIdle) {
		a.ClearSessionCookies(c)
		return Principal{}, httpx.Errorf(http.StatusUnauthorized, protocol.CodeUnauthorized, "session expired or signed out")
	}
	if err != nil {
		return Principal{}, err
	}
	if !safeMethod(c.Request.Method) {
		sent := c.GetHeader(CSRFHeader)
		if sent == "" || subtle.ConstantTimeCompare([]byte(secrets.HashToken(sent)), []byte(sess.CSRFHash)) != 1 {
			return Principal{}, ErrCSRF
		}
	}
	if now.Sub(sess.LastSeenAt) > a.cfg.TouchInterval {
		if err := a.store.TouchSession(ctx, sess.ID, now, now.Add(-a.cfg.TouchInterval)); err != nil {
			a.logger.Warn("auth: session last-seen not recorded", "session", sess.ID, "err", err)
		}
	}
	return Principal{User: u, Role: u.Role, SessionID: sess.ID}, nil
}

// Require is middleware that lets only principals of at least role through. It must
// run after Authenticate.
func Require(role string) gin.HandlerFunc {
	need := Rank(role)
	return func(c *gin.Context) {
		p, ok := PrincipalOf(c)
		if !ok {
			httpx.Fail(c, httpx.ErrUnauthorized)
			return
		}
		if Rank(p.Role) < need {
			httpx.Fail(c, ErrForbidden)
			return
		}
		c.Next()
	}
}

// FailLogin answers a failed login: 429 with Retry-After when rate-limited.
func FailLogin(c *gin.Context, err error) {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		secs := int(rl.RetryAfter/time.Second) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		httpx.Fail(c, &httpx.Error{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: rl.Error(),
			Details: map[string]int{"retry_after_seconds": secs}})
		return
	}
	httpx.Fail(c, err)
}

// Bootstrap makes sure a fresh installation can get its first admin: when no account
// exists, it creates one from adminEmail and adminPassword when both are set, and
// otherwise stores a one-time setup token and logs it (with a link when publicURL is
// set). It never invents a password.
func (a *Service) Bootstrap(ctx context.Context, adminEmail, adminPassword, publicURL string) error {
	n, err := a.store.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if adminEmail != "" && adminPassword != "" {
		if err := ValidatePassword(adminPassword); err != nil {
			return fmt.Errorf("auth: initial admin password: %w", err)
		}
		if !ValidEmail(adminEmail) {
			return fmt.Errorf("auth: initial admin email %q is not an email address", adminEmail)
		}
		h, err := a.hasher.Hash(ctx, adminPassword)
		if err != nil {
			return err
		}
		u, err := a.store.CreateFirstAdmin(ctx, store.NewUser{Email: adminEmail, Name: "Administrator", PasswordHash: h}, "")
		if errors.Is(err, store.ErrSetupDone) {
			return nil // another replica was first
		}
		if err != nil {
			return err
		}
		a.logger.Info("created the first admin account from the configuration", "email", u.Email)
		return nil
	}
	tok, err := secrets.NewToken("rmsetup")
	if err != nil {
		return err
	}
	if err := a.store.AddSetupToken(ctx, secrets.HashToken(tok), a.cfg.SetupTokenTTL); err != nil {
		return err
	}
	attrs := []any{"setup_token", tok, "valid_for", a.cfg.SetupTokenTTL.String()}
	if publicURL != "" {
		attrs = append(attrs, "setup_url", strings.TrimRight(publicURL, "/")+"/setup?token="+tok)
	}
	a.logger.Warn("no operator account exists yet: create the first admin with POST /api/v1/auth/setup "+
		"(or the web UI's setup page) and this one-time token, or set RM_ADMIN_EMAIL and RM_ADMIN_PASSWORD", attrs...)
	return nil
}

// ValidEmail is a light check: something@something, no spaces, at most 254 bytes.
func ValidEmail(e string) bool {
	e = strings.TrimSpace(e)
	at := strings.LastIndexByte(e, '@')
	return len(e) <= 254 && at > 0 && at < len(e)-1 && !strings.ContainsAny(e, " \t\r\n<>,;\"") &&
		strings.Count(e, "@") == 1
}
