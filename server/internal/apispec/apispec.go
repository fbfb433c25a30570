// Package apispec serves the API description: openapi.yaml (a generated copy of the
// repository root's file, kept in sync by scripts/gen-openapi.sh) at /api/openapi.yaml,
// and an interactive reference (Swagger UI, embedded, no CDN) at /api/docs/.
package apispec

import (
	_ "embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
	swaggerFiles "github.com/swaggo/files/v2"
)

//go:embed openapi.yaml
var spec []byte

const initializer = `window.onload = function() {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.yaml",
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
};
`

// Register mounts the spec and the reference.
func Register(e *gin.Engine) {
	e.GET("/api/openapi.yaml", func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", spec)
	})
	e.GET("/api/docs", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/api/docs/") })
	files := http.StripPrefix("/api/docs/", http.FileServer(http.FS(swaggerFiles.FS)))
	e.GET("/api/docs/*file", func(c *gin.Context) {
		switch c.Param("file") {
		case "/swagger-initializer.js":
			c.Data(http.StatusOK, "text/javascript; charset=utf-8", []byte(initializer))
			return
		case "/", "/index.html":
			index, err := fs.ReadFile(swaggerFiles.FS, "index.html")
			if err != nil {
				c.Status(http.StatusInternalServerError)
				return
			}
			c.Data(http.StatusOK, "text/html; charset=utf-8", index)
			return
		}
		c.Header("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(c.Writer, c.Request)
	})
}
