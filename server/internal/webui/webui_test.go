package webui

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
)

func TestServesFilesWithFallback(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	Register(e, fstest.MapFS{
		"index.html":      {Data: []byte("<html>app</html>")},
		"assets/app.1.js": {Data: []byte("console.log(1)")},
	})
	for _, c := range []struct {
		path, want, cache string
		status            int
	}{
		{"/", "<html>app</html>", "no-cache", 200},
		{"/hosts/123", "<html>app</html>", "no-cache", 200},
		{"/assets/app.1.js", "console.log(1)", "public, max-age=31536000, immutable", 200},
		{"/api/v1/nope", "", "", 404},
	} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
		if w.Code != c.status {
			t.Errorf("%s: status %d", c.path, w.Code)
			continue
		}
		if c.want != "" && w.Body.String() != c.want {
			t.Errorf("%s: body %q", c.path, w.Body.String())
		}
		if c.cache != "" && w.Header().Get("Cache-Control") != c.cache {
			t.Errorf("%s: cache %q", c.path, w.Header().Get("Cache-Control"))
		}
	}
}
