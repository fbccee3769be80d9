package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// selfSigned returns a server TLS config for 127.0.0.1 and the path of
// its certificate as a PEM CA file.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "capastan-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, ca
}

// TestProduceTailSecured runs produce and tail against brokers that demand
// SASL (each mechanism) or TLS, and checks a wrong password is an error.
func TestProduceTailSecured(t *testing.T) {
	serverTLS, ca := selfSigned(t)
	tests := []struct {
		name     string
		opts     []kfake.Opt
		flags    []string
		password string
	}{
		{"sasl-plain", []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("PLAIN", "alice", "s3cret")}, []string{"-sasl-mechanism", "PLAIN", "-sasl-user", "alice"}, "s3cret"},
		{"scram-sha-256", []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "bob", "pw256")}, []string{"-sasl-mechanism", "SCRAM-SHA-256", "-sasl-user", "bob"}, "pw256"},
		{"scram-sha-512", []kfake.Opt{kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "carol", "pw512")}, []string{"-sasl-mechanism", "scram-sha-512", "-sasl-user", "carol"}, "pw512"},
		{"tls", []kfake.Opt{kfake.TLS(serverTLS)}, []string{"-tls", "-tls-ca", ca}, ""},
	}
	dir := t.TempDir()
	file := writeFile(t, dir, "in.jsonl", `{"review_id":"a","text":"fine"}`+"\n"+`{"review_id":"b","text":"bad"}`+"\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := kfake.NewCluster(append(tt.opts, kfake.NumBrokers(1), kfake.SeedTopics(1, "reviews"))...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			brokers := strings.Join(c.ListenAddrs(), ",")
			t.Setenv("CAPASTAN_KAFKA_SASL_PASSWORD", tt.password)
			args := append([]string{"produce", "-brokers", brokers, "-topic", "reviews", "-file", file, "-max-attempts", "2"}, tt.flags...)
			if code, _, errs := capastan(t, "", args...); code != 0 {
				t.Fatalf("produce exit %d: %s", code, errs)
			}
			args = append([]string{"tail", "-brokers", brokers, "-topic", "reviews", "-max", "2", "-timeout", "5s"}, tt.flags...)
			code, out, errs := capastan(t, "", args...)
			if code != 0 || strings.Count(out, "\n") != 2 {
				t.Fatalf("tail exit %d, %d lines: %s", code, strings.Count(out, "\n"), errs)
			}
			if tt.password != "" {
				t.Setenv("CAPASTAN_KAFKA_SASL_PASSWORD", "wrong")
				args := append([]string{"produce", "-brokers", brokers, "-topic", "reviews", "-file", file, "-max-attempts", "1"}, tt.flags...)
				if code, _, errs := capastan(t, "", args...); code != 1 || !strings.Contains(errs, "not sent") {
					t.Errorf("wrong password: exit %d, stderr %q; want exit 1 and the records reported not sent", code, errs)
				}
			}
		})
	}
}
