package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP is the HTTP API's metrics.
type HTTP struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	size       *prometheus.HistogramVec
	BatchItems prometheus.Histogram
	Panics     prometheus.Counter
	InFlight   prometheus.Gauge
}

// NewHTTP registers the HTTP API's metrics on reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	f := factory{reg}
	return &HTTP{
		requests: f.counterVec("http_requests_total", "Requests answered, by route, method and status code.", "route", "method", "code"),
		duration: f.histogramVec("http_request_duration_seconds", "Time to answer a request, by route.",
			[]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}, "route"),
		size: f.histogramVec("http_request_size_bytes", "Request body sizes of the predict routes.",
			prometheus.ExponentialBuckets(64, 4, 9), "route"),
		BatchItems: f.histogram("http_batch_items", "Items per /predict/batch request.", prometheus.ExponentialBuckets(1, 2, 12)),
		Panics:     f.counter("http_panics_total", "Handler panics recovered (each answered 500 and logged)."),
		InFlight:   f.gauge("http_in_flight_requests", "Requests being served."),
	}
}

// Route is one route's pre-bound series, so a request costs no label
// lookups beyond its status code.
type Route struct {
	h        *HTTP
	name     string
	duration prometheus.Observer
	size     prometheus.Observer
	codes    map[codeKey]prometheus.Counter
}

type codeKey struct {
	method string
	code   int
}

// Route binds the series of route; methods and codes lists the answers
// worth binding ahead (others are looked up when they happen).
func (h *HTTP) Route(route string, methods []string, codes []int) *Route {
	r := &Route{h: h, name: route, duration: h.duration.WithLabelValues(route), size: h.size.WithLabelValues(route),
		codes: map[codeKey]prometheus.Counter{}}
	for _, m := range methods {
		for _, c := range codes {
			r.codes[codeKey{m, c}] = h.requests.WithLabelValues(route, m, strconv.Itoa(c))
		}
	}
	return r
}

// Observe records one answered request. The pre-bound map is only read
// after Route returns, so concurrent calls need no lock.
func (r *Route) Observe(method string, code int, seconds float64) {
	if c, ok := r.codes[codeKey{method, code}]; ok {
		c.Inc()
	} else {
		r.h.requests.WithLabelValues(r.name, method, strconv.Itoa(code)).Inc()
	}
	r.duration.Observe(seconds)
}

// ObserveSize records a request body's size.
func (r *Route) ObserveSize(bytes int) { r.size.Observe(float64(bytes)) }

// RequestsForTest returns one series of capastan_http_requests_total, for
// other packages' tests.
func (h *HTTP) RequestsForTest(route, method string, code int) prometheus.Counter {
	return h.requests.WithLabelValues(route, method, strconv.Itoa(code))
}
