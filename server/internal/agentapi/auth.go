package agentapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const hostKey = "rm.host_id"

// CredentialStore resolves a credential to its host.
type CredentialStore interface {
	HostIDByCredential(ctx context.Context, credential string) (string, error)
}

// credKey is the SHA-256 of a credential: the cache never holds credentials themselves.
type credKey [sha256.Size]byte

// credCache remembers credential → host for a while, so that polls do no database
// work. Revocation reaches it through Forget (wired to the notification bus).
type credCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[credKey]credEntry
	now     func() time.Time
}

type credEntry struct {
	hostID  string
	expires time.Time
}

func newCredCache(ttl time.Duration) *credCache {
	return &credCache{ttl: ttl, entries: map[credKey]credEntry{}, now: time.Now}
}

func (c *credCache) get(key credKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().After(e.expires) {
		delete(c.entries, key)
		return "", false
	}
	return e.hostID, true
}

func (c *credCache) put(key credKey, hostID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 200_000 { // bound memory under a flood of distinct valid tokens
		c.entries = map[credKey]credEntry{}
	}
	c.entries[key] = credEntry{hostID: hostID, expires: c.now().Add(c.ttl)}
}

// ForgetHost drops every cached credential of a host.
func (c *credCache) ForgetHost(hostID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.hostID == hostID {
			delete(c.entries, k)
		}
	}
}

// authenticate is the middleware of the authenticated agent routes: it puts the host
// id where hostID finds it.
func (a *API) authenticate(c *gin.Context) {
	id, ok := a.credential(c)
	if !ok {
		return
	}
	c.Set(hostKey, id)
	c.Next()
}

// credential checks the request's bearer credential and returns its host. When it
// returns false it has answered the request (401, or 500 when the store failed).
func (a *API) credential(c *gin.Context) (string, bool) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || token == "" || len(token) > 256 {
		httpx.Fail(c, httpx.ErrUnauthorized)
		return "", false
	}
	key := credKey(sha256.Sum256([]byte(token)))
	if id, ok := a.creds.get(key); ok {
		return id, true
	}
	id, err := a.store.HostIDByCredential(c.Request.Context(), token)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			httpx.Fail(c, httpx.ErrUnauthorized)
			return "", false
		}
		httpx.Fail(c, err)
		return "", false
	}
	a.creds.put(key, id)
	return id, true
}

func hostID(c *gin.Context) string { return c.GetString(hostKey) }
