package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "restic-manager-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestHTTPSOnEmbeddedSQLite runs the protocol over the server's own TLS on the embedded
// default database: what a new user gets with nothing but the binary.
func TestHTTPSOnEmbeddedSQLite(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	env := servertest.Start(t, servertest.Options{Dialect: store.DialectSQLite, PollHold: 5 * time.Second, Config: func(c *config.Config) {
		c.TLSCert, c.TLSKey = certFile, keyFile
	}})
	if env.Store.Dialect() != store.DialectSQLite {
		t.Fatal("not on SQLite")
	}
	url := strings.Replace(env.URL, "http://", "https://", 1)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	a := &servertest.Agent{URL: url, Client: client}
	var er protocol.EnrollResponse
	if st := a.JSON(t, http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{Token: env.EnrollmentToken(t), Hostname: "tls-host"}, &er); st != http.StatusOK {
		t.Fatalf("enrol over TLS: %d", st)
	}
	a.HostID, a.Credential = er.HostID, er.Credential
	repo, err := env.Server.Dispatcher.CreateRepository(context.Background(), a.HostID, store.RepositoryInput{Name: "r", URL: "/r", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	first := a.Poll(t, 0, 0, 0, 30)
	got := make(chan protocol.PollResponse, 1)
	go func() { got <- a.Poll(t, first.Cursor, first.ScheduleSet.Version, first.Config.Version, 30) }()
	time.Sleep(200 * time.Millisecond)
	job, err := env.Server.Dispatcher.EnqueueRun(context.Background(), a.HostID, store.RunRequest{Kind: protocol.KindCheck, RepositoryID: repo.ID, ActorType: store.ActorAPI})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if len(r.Commands) != 1 || r.Commands[0].JobID != job.ID {
			t.Fatalf("poll over TLS: %+v", r.Commands)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("held poll on SQLite was not woken")
	}
	// Plain HTTP to the TLS port is refused.
	plain := &servertest.Agent{URL: env.URL, Client: &http.Client{Timeout: 5 * time.Second}}
	if st, _ := plain.Do(t, http.MethodGet, "/healthz", nil); st == http.StatusOK {
		t.Fatal("TLS server answered plain HTTP")
	}
}
