package main

import (
	"context"
	"flag"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/capastan/capastan/internal/kafkaconn"
)

// envVar is one environment variable the service reads.
type envVar struct {
	name, def, help string
}

// runEnv prints every CAPASTAN_* variable `capastan serve` reads, with its
// default and, where a flag mirrors it, the flag's description. Deployment
// checks (the compose file, the Kubernetes ConfigMap) compare their
// variables with this list.
func runEnv(_ context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Tab-separated, one variable a line, for scripts and tests.
	for _, v := range serveEnvVars() {
		fmt.Fprintf(sio.out, "%s\t%s\t%s\n", v.name, v.def, v.help)
	}
	return nil
}

var flagEnvRef = regexp.MustCompile(`\s*\(\$(CAPASTAN_[A-Z0-9_]+)[^)]*\)`)

// envOnlyHelp describes the variables no flag mirrors.
var envOnlyHelp = map[string]string{
	"CAPASTAN_CREATE_TOPICS":            "create missing topics at start-up (off in production: topics are provisioned)",
	"CAPASTAN_EVENT_SOURCE":             "CloudEvents ce_source of the output records",
	"CAPASTAN_GROUP_INSTANCE_ID":        "static group membership: a restart with the same id takes its partitions back at once",
	"CAPASTAN_HTTP_IDLE_TIMEOUT":        "idle keep-alive connections are closed after this",
	"CAPASTAN_HTTP_MAX_EXPLAIN":         "features per class listed by ?explain=true",
	"CAPASTAN_HTTP_READ_HEADER_TIMEOUT": "a request's headers must arrive within this (slow clients)",
	"CAPASTAN_HTTP_READ_TIMEOUT":        "a whole request must arrive within this",
	"CAPASTAN_HTTP_WRITE_TIMEOUT":       "longest time to answer a request",
	"CAPASTAN_STALL_TIMEOUT":            "replace the Kafka client when the partitions have had lag this long with nothing fetched; 0 turns it off",
	"CAPASTAN_LAG_INTERVAL":             "how often the lag of the worker's partitions is read from the broker; 0 turns it off",
	"CAPASTAN_KAFKA_SASL_PASSWORD":      "SASL password (no flag: command lines are visible to all users)",
	"CAPASTAN_RETRY_BACKOFF":            "pause before a failed batch is retried",
	"CAPASTAN_SESSION_TIMEOUT":          "how long the group waits for a silent worker before moving its partitions",
	"CAPASTAN_TOPIC_PARTITIONS":         "partitions of created input and output topics",
	"CAPASTAN_TOPIC_REPLICATION":        "replicas of created topics",
	"CAPASTAN_TRANSACTION_TIMEOUT":      "how long a crashed worker's open transaction can hold back read_committed readers",
}

// serveEnvVars lists the variables of serveSettings and of the Kafka
// connection, sorted by name.
func serveEnvVars() []envVar {
	help := map[string]string{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	s := defaultServeSettings()
	var kf kafkaFlags
	kf.register(fs)
	registerWorkerFlags(fs, &s)
	fs.Bool("no-kafka", false, "run the HTTP API alone, without the Kafka worker ($CAPASTAN_NO_KAFKA)")
	fs.VisitAll(func(f *flag.Flag) {
		if m := flagEnvRef.FindStringSubmatch(f.Usage); m != nil {
			help[m[1]] = flagEnvRef.ReplaceAllString(f.Usage, "") + " (flag -" + f.Name + ")"
		}
	})
	for k, v := range envOnlyHelp {
		help[k] = v
	}
	var out []envVar
	collectEnv(reflect.ValueOf(defaultServeSettings()), envPrefix, help, &out)
	var conn struct {
		Conn kafkaconn.Config `envPrefix:"KAFKA_"`
	}
	conn.Conn.Brokers = []string{kafkaconn.DefaultBrokers}
	collectEnv(reflect.ValueOf(conn), envPrefix, help, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func collectEnv(v reflect.Value, prefix string, help map[string]string, out *[]envVar) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		fv := v.Field(i)
		switch {
		case key == "-":
		case key != "":
			name := prefix + key
			*out = append(*out, envVar{name: name, def: envDefault(fv, f.Name), help: help[name]})
		case fv.Kind() == reflect.Struct:
			collectEnv(fv, prefix+f.Tag.Get("envPrefix"), help, out)
		}
	}
}

// envDefault shows a default the way the variable would be written.
func envDefault(v reflect.Value, field string) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return x.String()
	case []string:
		return strings.Join(x, ",")
	case string:
		if field == "TransactionalID" {
			return "capastan-<host>-<pid>"
		}
		if x == "" {
			return `""`
		}
		return x
	}
	return fmt.Sprint(v.Interface())
}
