package kafkaconn

import (
	"slices"
	"testing"
)

func TestParseBrokers(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"127.0.0.1:9092", []string{"127.0.0.1:9092"}, false},
		{" a:1, b:2 ,", []string{"a:1", "b:2"}, false},
		{"[::1]:9092", []string{"[::1]:9092"}, false},
		{"", nil, true},
		{"localhost", nil, true},
		{"a:1,b", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseBrokers(tt.in)
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("ParseBrokers(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	b := []string{"a:1"}
	tests := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"plain", Config{Brokers: b}, true},
		{"sasl plain", Config{Brokers: b, SASLMechanism: PLAIN, SASLUser: "u"}, true},
		{"scram", Config{Brokers: b, SASLMechanism: SCRAMSHA512, SASLUser: "u"}, true},
		{"no brokers", Config{}, false},
		{"user without mechanism", Config{Brokers: b, SASLUser: "u"}, false},
		{"mechanism without user", Config{Brokers: b, SASLMechanism: PLAIN}, false},
		{"unknown mechanism", Config{Brokers: b, SASLMechanism: "GSSAPI", SASLUser: "u"}, false},
		{"tls file without tls", Config{Brokers: b, TLSCAFile: "ca.pem"}, false},
		{"cert without key", Config{Brokers: b, TLS: true, TLSCertFile: "c.pem"}, false},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
	c := Config{Brokers: b, TLS: true, TLSCAFile: "/nonexistent/ca.pem"}
	if _, err := c.TLSConfig(); err == nil {
		t.Error("TLSConfig with a missing CA file must fail")
	}
	if _, err := c.FranzOpts(); err == nil {
		t.Error("FranzOpts with a missing CA file must fail")
	}
}
