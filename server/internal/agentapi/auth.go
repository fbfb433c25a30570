package agentapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const hostKey = "rm.host_id"

// CredentialStore resolves a credential to its host.
type CredentialStore interface {
	HostIDByCredential(ctx context.Context, credential string) (string, error)
}

// credCache remembers credential → host for a while, so that polls do no database
// work. Revocation reaches it through Forget (wired to the notification bus).
type credCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]credEntry // key: token hash
	now     func() time.Time
}

type credEntry struct {
	hostID  string
	expires time.Time
}

func newCredCache(ttl time.Duration) *credCache {
	return &credCache{ttl: ttl, entries: map[string]credEntry{}, now: time.Now}
}

func (c *credCache) get(hash string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || c.now().After(e.expires) {
		delete(c.entries, hash)
		return "", false
	}
	return e.hostID, true
}

func (c *credCache) put(hash, hostID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 200_000 { // bound memory under a flood of distinct valid tokens
		c.entries = map[string]credEntry{}
	}
	c.entries[hash] = credEntry{hostID: hostID, expires: c.now().Add(c.ttl)}
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

func (a *API) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" || len(token) > 256 {
		httpx.Fail(c, httpx.ErrUnauthorized)
		return
	}
	hash := secrets.HashToken(token)
	if id, ok := a.creds.get(hash); ok {
		c.Set(hostKey, id)
		c.Next()
		return
	}
	id, err := a.store.HostIDByCredential(c.Request.Context(), token)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			httpx.Fail(c, httpx.ErrUnauthorized)
			return
		}
		httpx.Fail(c, err)
		return
	}
	a.creds.put(hash, id)
	c.Set(hostKey, id)
	c.Next()
}

func hostID(c *gin.Context) string { return c.GetString(hostKey) }
