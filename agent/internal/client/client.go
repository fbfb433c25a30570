// Package client talks to the restic-manager server's agent API. Every request goes
// through go-retryablehttp: network errors, 408, 429, 5xx and undecodable 2xx bodies
// (a proxy's HTML page) are retried with full-jitter exponential backoff, honouring
// Retry-After, until the retry budget or the context runs out. Callers bound a call's
// total time with the context.
//
// The credential is sent only in the Authorization header and is never logged.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxBody caps what is read from any response.
const maxBody = 64 << 20

// Options configure a Client.
type Options struct {
	// BaseURL is the server's base URL; API paths are appended to it.
	BaseURL string
	// Credential is the host's bearer credential; empty for enrolment.
	Credential string
	// CAFile is an optional PEM bundle trusted besides the system roots.
	CAFile string
	// UserAgent is sent with every request.
	UserAgent string
	// Timeout bounds one attempt of an ordinary request (default 60 s). Polls get
	// their wait plus PollMargin instead.
	Timeout time.Duration
	// PollMargin is added to a poll's wait for its attempt timeout (default 20 s).
	PollMargin time.Duration
	// RetryWaitMin and RetryWaitMax bound the backoff (defaults 1 s and 60 s).
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetries caps the retries of one call; 0 means until the context is done.
	MaxRetries int
	// Logger receives retry notices at debug level.
	Logger *slog.Logger
	// Transport replaces the default transport (tests).
	Transport http.RoundTripper
}

// Client is safe for concurrent use.
type Client struct {
	base       *url.URL
	credential string
	userAgent  string
	transport  http.RoundTripper
	timeout    time.Duration
	pollMargin time.Duration
	waitMin    time.Duration
	waitMax    time.Duration
	maxRetries int
	logger     *slog.Logger
}

// New builds a Client. It fails on a bad URL or an unreadable CA file.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("server URL %q: must be an http(s) URL", opts.BaseURL)
	}
	c := &Client{
		base:       base,
		credential: opts.Credential,
		userAgent:  opts.UserAgent,
		transport:  opts.Transport,
		timeout:    orDefault(opts.Timeout, 60*time.Second),
		pollMargin: orDefault(opts.PollMargin, 20*time.Second),
		waitMin:    orDefault(opts.RetryWaitMin, time.Second),
		waitMax:    orDefault(opts.RetryWaitMax, 60*time.Second),
		maxRetries: opts.MaxRetries,
		logger:     opts.Logger,
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.userAgent == "" {
		c.userAgent = "restic-manager-agent"
	}
	if c.transport == nil {
		tr, err := newTransport(opts.CAFile)
		if err != nil {
			return nil, err
		}
		c.transport = tr
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// newTransport trusts the system roots plus caFile, and honours HTTPS_PROXY/NO_PROXY.
func newTransport(caFile string) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.MaxIdleConnsPerHost = 4
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates found", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr, nil
}

// call describes one API request.
type call struct {
	method  string
	path    string // protocol.Path* with {id} already replaced
	query   url.Values
	in      any    // request body, JSON-encoded; nil for none
	raw     []byte // request body sent as is (application/octet-stream) when in is nil
	out     any    // where a 2xx body is decoded; nil to discard
	timeout time.Duration
	retries int // 0: the client's default
	noAuth  bool
}

// do runs a call through retryablehttp and decodes the answer.
func (c *Client) do(ctx context.Context, cl call) error {
	u := *c.base
	u.Path = c.base.Path + cl.path
	u.RawQuery = cl.query.Encode()
	var body any
	if cl.in != nil {
		b, err := json.Marshal(cl.in)
		if err != nil {
			return fmt.Errorf("encode %s body: %w", cl.path, err)
		}
		body = b
	} else if cl.raw != nil {
		body = cl.raw
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build request %s: %w", cl.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if cl.in != nil {
		req.Header.Set("Content-Type", "application/json")
	} else if cl.raw != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	if !cl.noAuth && c.credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.credential)
	}

	timeout := cl.timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	retries := cl.retries
	if retries == 0 {
		retries = c.maxRetries
	}
	if retries <= 0 {
		retries = math.MaxInt32 // until ctx is done
	}
	rc := &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: c.transport, Timeout: timeout},
		RetryWaitMin: c.waitMin,
		RetryWaitMax: c.waitMax,
		RetryMax:     retries,
		CheckRetry:   checkRetry,
		Backoff:      Backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, attempt int) {
			if attempt > 0 {
				c.logger.Debug("retrying request", "method", r.Method, "path", r.URL.Path, "attempt", attempt+1)
			}
		},
	}
	resp, err := rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s %s: %w", cl.method, cl.path, ctxErr)
		}
		return &TransportError{Op: cl.method + " " + cl.path, Err: err}
	}
	defer resp.Body.Close()
	return decode(cl, resp)
}

// decode turns a final response into a value or an error.
func decode(cl call, resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &TransportError{Op: cl.method + " " + cl.path, Err: fmt.Errorf("read body: %w", err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if cl.out == nil {
			return nil
		}
		if err := json.Unmarshal(data, cl.out); err != nil {
			return &TransportError{Op: cl.method + " " + cl.path,
				Err: fmt.Errorf("undecodable %d answer (%s): %w", resp.StatusCode, snippet(data), err)}
		}
		return nil
	}
	apiErr := &APIError{Status: resp.StatusCode}
	var pe struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &pe) == nil && pe.Code != "" {
		apiErr.Code, apiErr.Message = pe.Code, pe.Message
	} else {
		apiErr.Message = snippet(data)
	}
	apiErr.Op = cl.method + " " + cl.path
	return apiErr
}

// checkRetry is the retry policy: network errors, 408, 429, 5xx (but 501) and 2xx bodies
// that are not JSON. A 2xx body is buffered so that decode can read it again.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryableNetError(err), nil
	}
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		if readErr != nil {
			return true, nil
		}
		if len(bytes.TrimSpace(data)) > 0 && !json.Valid(data) {
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

// retryableNetError is false for errors no retry can fix: a bad certificate or URL.
func retryableNetError(err error) bool {
	var uaErr x509.UnknownAuthorityError
	var ciErr x509.CertificateInvalidError
	var hnErr x509.HostnameError
	if errors.As(err, &uaErr) || errors.As(err, &ciErr) || errors.As(err, &hnErr) {
		return false
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && strings.Contains(urlErr.Error(), "unsupported protocol scheme") {
		return false
	}
	return true
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "empty body"
	}
	return s
}
