// Package webui serves the embedded single-page UI: files by path with cache headers
// (hashed assets are immutable, index.html never cached), and index.html for any
// other GET outside /api so that client-side routes survive a reload.
package webui

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/httpx"
)

// Register serves files from dist on e's unmatched GET and HEAD routes.
func Register(e *gin.Engine, dist fs.FS) {
	files := http.FileServer(http.FS(dist))
	e.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) ||
			strings.HasPrefix(p, "/api/") || p == "/api" || strings.HasPrefix(p, "/metrics") {
			httpx.NoRoute(c)
			return
		}
		name := strings.TrimPrefix(path.Clean(p), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(dist, name); err != nil || st.IsDir() {
			name = "index.html" // SPA fallback
		}
		if strings.HasPrefix(name, "assets/") {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "no-cache")
		}
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Referrer-Policy", "same-origin")
		req := c.Request.Clone(c.Request.Context())
		req.URL.Path = "/" + name
		if name == "index.html" {
			req.URL.Path = "/" // FileServer redirects /index.html to /
		}
		files.ServeHTTP(c.Writer, req)
	})
}
