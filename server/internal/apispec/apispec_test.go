package apispec

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestServesSpecAndReference(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	Register(e)
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	if w := get("/api/openapi.yaml"); w.Code != 200 || !strings.Contains(w.Body.String(), "openapi: 3") || !strings.Contains(w.Body.String(), "/agent/poll") {
		t.Fatalf("spec: %d %.200s", w.Code, w.Body.String())
	}
	if w := get("/api/docs/"); w.Code != 200 || !strings.Contains(w.Body.String(), "swagger-ui") {
		t.Fatalf("docs index: %d", w.Code)
	}
	if w := get("/api/docs/swagger-initializer.js"); !strings.Contains(w.Body.String(), "/api/openapi.yaml") {
		t.Fatalf("initializer: %s", w.Body.String())
	}
	if w := get("/api/docs/swagger-ui-bundle.js"); w.Code != 200 || w.Body.Len() < 100000 {
		t.Fatalf("bundle: %d %d", w.Code, w.Body.Len())
	}
}
