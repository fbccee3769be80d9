package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/capastan/capastan/internal/kafkaconn"
)

// kafkaFlags are the connection flags shared by produce, tail and the
// worker. Each defaults to its CAPASTAN_KAFKA_* variable, then to the
// built-in default; a flag given on the command line wins.
type kafkaFlags struct {
	brokers, mechanism, user, password string
	tls, insecure                      bool
	ca, cert, key                      string
}

func (k *kafkaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.brokers, "brokers", envOr("CAPASTAN_KAFKA_BROKERS", kafkaconn.DefaultBrokers), "Kafka brokers, host:port[,...] ($CAPASTAN_KAFKA_BROKERS)")
	fs.StringVar(&k.mechanism, "sasl-mechanism", os.Getenv("CAPASTAN_KAFKA_SASL_MECHANISM"), "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 ($CAPASTAN_KAFKA_SASL_MECHANISM)")
	fs.StringVar(&k.user, "sasl-user", os.Getenv("CAPASTAN_KAFKA_SASL_USER"), "SASL user ($CAPASTAN_KAFKA_SASL_USER)")
	// The password has no flag of its own on purpose: command lines are
	// visible to every user of the machine.
	k.password = os.Getenv("CAPASTAN_KAFKA_SASL_PASSWORD")
	fs.BoolVar(&k.tls, "tls", os.Getenv("CAPASTAN_KAFKA_TLS") == "true", "connect with TLS ($CAPASTAN_KAFKA_TLS=true)")
	fs.StringVar(&k.ca, "tls-ca", os.Getenv("CAPASTAN_KAFKA_TLS_CA"), "PEM CA bundle to trust ($CAPASTAN_KAFKA_TLS_CA)")
	fs.StringVar(&k.cert, "tls-cert", os.Getenv("CAPASTAN_KAFKA_TLS_CERT"), "PEM client certificate for mutual TLS ($CAPASTAN_KAFKA_TLS_CERT)")
	fs.StringVar(&k.key, "tls-key", os.Getenv("CAPASTAN_KAFKA_TLS_KEY"), "PEM client key for mutual TLS ($CAPASTAN_KAFKA_TLS_KEY)")
	fs.BoolVar(&k.insecure, "tls-insecure-skip-verify", false, "do not verify the brokers' certificates (testing only)")
}

func (k *kafkaFlags) config() (kafkaconn.Config, error) {
	brokers, err := kafkaconn.ParseBrokers(k.brokers)
	if err != nil {
		return kafkaconn.Config{}, fmt.Errorf("-brokers: %w", err)
	}
	c := kafkaconn.Config{Brokers: brokers, SASLMechanism: strings.ToUpper(k.mechanism), SASLUser: k.user, SASLPassword: k.password,
		TLS: k.tls, TLSCAFile: k.ca, TLSCertFile: k.cert, TLSKeyFile: k.key, TLSInsecureSkipVerify: k.insecure}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
