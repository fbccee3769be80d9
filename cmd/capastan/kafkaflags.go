package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"

	"github.com/capastan/capastan/internal/kafkaconn"
)

// envPrefix starts every environment variable the commands read.
const envPrefix = "CAPASTAN_"

// parseEnv fills v's env-tagged fields from CAPASTAN_* variables, leaving
// fields whose variable is unset as they are (the defaults). An invalid
// value is an error naming the variable.
func parseEnv(v any) error {
	err := env.ParseWithOptions(v, env.Options{Prefix: envPrefix})
	if err == nil {
		return nil
	}
	// env reports the Go field; people set variables: name the variable.
	keys := map[string]string{}
	envKeys(reflect.TypeOf(v).Elem(), envPrefix, keys)
	var agg env.AggregateError
	if errors.As(err, &agg) {
		var msgs []string
		for _, e := range agg.Errors {
			var pe env.ParseError
			if errors.As(e, &pe) && keys[pe.Name] != "" {
				msgs = append(msgs, fmt.Sprintf("%s=%q is not a valid %s: %v", keys[pe.Name], os.Getenv(keys[pe.Name]), pe.Type, errors.Unwrap(pe.Err)))
			} else {
				msgs = append(msgs, e.Error())
			}
		}
		return fmt.Errorf("environment: %s", strings.Join(msgs, "; "))
	}
	return fmt.Errorf("environment: %w", err)
}

// envKeys maps each env-tagged field name of t to its full variable name.
func envKeys(t reflect.Type, prefix string, out map[string]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		switch {
		case key == "-":
		case key != "":
			out[f.Name] = prefix + key
		case ft.Kind() == reflect.Struct:
			envKeys(ft, prefix+f.Tag.Get("envPrefix"), out)
		}
	}
}

// kafkaFlags are the connection flags shared by produce, tail, serve and
// dev. Each defaults to its CAPASTAN_KAFKA_* variable, then to the
// built-in default; a flag given on the command line wins.
type kafkaFlags struct {
	base      kafkaconn.Config
	brokers   string
	envErr    error
	mechanism string
}

func (k *kafkaFlags) register(fs *flag.FlagSet) {
	k.base = kafkaconn.Config{Brokers: []string{kafkaconn.DefaultBrokers}}
	var wrap struct {
		Conn *kafkaconn.Config `envPrefix:"KAFKA_"`
	}
	wrap.Conn = &k.base
	k.envErr = parseEnv(&wrap)
	b := &k.base
	fs.StringVar(&k.brokers, "brokers", strings.Join(b.Brokers, ","), "Kafka brokers, host:port[,...] ($CAPASTAN_KAFKA_BROKERS)")
	fs.StringVar(&k.mechanism, "sasl-mechanism", b.SASLMechanism, "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 ($CAPASTAN_KAFKA_SASL_MECHANISM)")
	fs.StringVar(&b.SASLUser, "sasl-user", b.SASLUser, "SASL user ($CAPASTAN_KAFKA_SASL_USER)")
	// The password has no flag on purpose: command lines are visible to
	// every user of the machine. It comes from $CAPASTAN_KAFKA_SASL_PASSWORD.
	fs.BoolVar(&b.TLS, "tls", b.TLS, "connect with TLS ($CAPASTAN_KAFKA_TLS=true)")
	fs.StringVar(&b.TLSCAFile, "tls-ca", b.TLSCAFile, "PEM CA bundle to trust ($CAPASTAN_KAFKA_TLS_CA)")
	fs.StringVar(&b.TLSCertFile, "tls-cert", b.TLSCertFile, "PEM client certificate for mutual TLS ($CAPASTAN_KAFKA_TLS_CERT)")
	fs.StringVar(&b.TLSKeyFile, "tls-key", b.TLSKeyFile, "PEM client key for mutual TLS ($CAPASTAN_KAFKA_TLS_KEY)")
	fs.BoolVar(&b.TLSInsecureSkipVerify, "tls-insecure-skip-verify", b.TLSInsecureSkipVerify, "do not verify the brokers' certificates, for testing ($CAPASTAN_KAFKA_TLS_INSECURE_SKIP_VERIFY)")
}

// config returns the validated connection settings after flag parsing.
func (k *kafkaFlags) config() (kafkaconn.Config, error) {
	if k.envErr != nil {
		return kafkaconn.Config{}, k.envErr
	}
	c := k.base
	brokers, err := kafkaconn.ParseBrokers(k.brokers)
	if err != nil {
		return kafkaconn.Config{}, fmt.Errorf("-brokers: %w", err)
	}
	c.Brokers = brokers
	c.SASLMechanism = strings.ToUpper(k.mechanism)
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}
