package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric of ours.
const Namespace = "capastan"

// Set is every metric of one process, registered on Registry.
type Set struct {
	Registry *prometheus.Registry
	Stream   *Stream
	Model    *Model
	HTTP     *HTTP
}

// New registers a fresh Set, with the Go runtime and process collectors,
// on a new registry.
func New() *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Set{Registry: reg, Stream: NewStream(reg), Model: NewModel(reg, DefaultDriftWindow), HTTP: NewHTTP(reg)}
}

// SetReadiness exports ready() as capastan_ready (1 ready, 0 not), read at
// each scrape so it can never disagree with /readyz.
func (s *Set) SetReadiness(ready func() bool) {
	s.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "ready", Help: "1 when /readyz answers 200, else 0.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}
