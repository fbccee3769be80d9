package kafkaconn

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// FranzOpts translates the configuration into franz-go client options
// (seed brokers, SASL, TLS), shared by the worker and `capastan tail`.
func (c *Config) FranzOpts() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	var mech sasl.Mechanism
	switch c.SASLMechanism {
	case PLAIN:
		mech = plain.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsMechanism()
	case SCRAMSHA256:
		mech = scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha256Mechanism()
	case SCRAMSHA512:
		mech = scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha512Mechanism()
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	tlsCfg, err := c.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("kafka TLS: %w", err)
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	return opts, nil
}
