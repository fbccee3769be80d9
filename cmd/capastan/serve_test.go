package main

import (
	"strings"
	"testing"
)

// TestServeStartupErrors: bad settings stop start-up with a message that
// names the variable or flag, before any broker is contacted.
func TestServeStartupErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad int variable", map[string]string{"CAPASTAN_MAX_POLL_RECORDS": "lots"}, nil, "CAPASTAN_MAX_POLL_RECORDS"},
		{"bad duration variable", map[string]string{"CAPASTAN_SHUTDOWN_TIMEOUT": "soon"}, nil, "CAPASTAN_SHUTDOWN_TIMEOUT"},
		{"bad bool variable", map[string]string{"CAPASTAN_KAFKA_TLS": "maybe"}, nil, "CAPASTAN_KAFKA_TLS"},
		{"bad delivery", map[string]string{"CAPASTAN_DELIVERY": "twice"}, nil, "delivery must be"},
		{"delivery flag beats variable", map[string]string{"CAPASTAN_DELIVERY": "at-least-once"}, []string{"-delivery", "never", "-model", "/nonexistent.cpst"}, "delivery must be"},
		{"missing model", nil, []string{"-model", "/nonexistent/model.cpst"}, "/nonexistent/model.cpst"},
		{"bad brokers", map[string]string{"CAPASTAN_KAFKA_BROKERS": "nohost"}, nil, "not host:port"},
		{"bad log level", nil, []string{"-log-level", "loud"}, "log level"},
		{"same topics", nil, []string{"-topic", "x", "-output-topic", "x"}, "must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, errs := capastan(t, "", append([]string{"serve"}, tt.args...)...)
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 mentioning %q", code, errs, tt.want)
			}
		})
	}
}
