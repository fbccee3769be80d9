// Package kafkaconn holds what every Kafka client of Capastan needs to
// reach a cluster: brokers, SASL and TLS, validated in one place. FranzOpts
// translates it for franz-go (the worker, `capastan tail`); the producer
// package translates it for kafka-go.
package kafkaconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// DefaultBrokers is where every command looks when told nothing else: the
// address `capastan dev` and scripts/kafka listen on.
const DefaultBrokers = "127.0.0.1:9092"

// SASL mechanisms.
const (
	PLAIN       = "PLAIN"
	SCRAMSHA256 = "SCRAM-SHA-256"
	SCRAMSHA512 = "SCRAM-SHA-512"
)

// Config is how to connect to a cluster. The env tags name the variables
// (after a CAPASTAN_KAFKA_ prefix) the commands read.
type Config struct {
	// Brokers are seed addresses, host:port.
	Brokers []string `env:"BROKERS" envSeparator:","`
	// SASLMechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	SASLMechanism string `env:"SASL_MECHANISM"`
	SASLUser      string `env:"SASL_USER"`
	SASLPassword  string `env:"SASL_PASSWORD"`
	// TLS turns on TLS; the files are optional PEM paths (a CA bundle to
	// trust, and a client certificate and key for mutual TLS).
	TLS                   bool   `env:"TLS"`
	TLSCAFile             string `env:"TLS_CA"`
	TLSCertFile           string `env:"TLS_CERT"`
	TLSKeyFile            string `env:"TLS_KEY"`
	TLSInsecureSkipVerify bool   `env:"TLS_INSECURE_SKIP_VERIFY"`
}

// ParseBrokers splits "host:port,host:port", rejecting empty entries and
// entries without a port.
func ParseBrokers(s string) ([]string, error) {
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return nil, fmt.Errorf("broker %q is not host:port", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no broker given")
	}
	return out, nil
}

// Validate reports the first inconsistent setting.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("no broker given")
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
		if c.SASLUser != "" {
			return errors.New("a SASL user is set but no SASL mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
	case PLAIN, SCRAMSHA256, SCRAMSHA512:
		if c.SASLUser == "" {
			return fmt.Errorf("SASL %s needs a user", c.SASLMechanism)
		}
	default:
		return fmt.Errorf("unknown SASL mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", c.SASLMechanism)
	}
	if !c.TLS && (c.TLSCAFile != "" || c.TLSCertFile != "" || c.TLSKeyFile != "" || c.TLSInsecureSkipVerify) {
		return errors.New("TLS files or options are set but TLS is off")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("a TLS client certificate needs both the certificate and the key file")
	}
	return nil
}

// TLSConfig builds the TLS configuration, or nil when TLS is off.
func (c *Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLSInsecureSkipVerify} //nolint:gosec // opt-in, documented
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA file %s: no PEM certificate in it", c.TLSCAFile)
		}
		cfg.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
