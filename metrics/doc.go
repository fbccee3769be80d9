// Package metrics defines every Prometheus metric Capastan exports, as
// listed in docs/metrics.md: the stream worker's (Stream), the model's with
// its drift watch (Model) and the HTTP API's (HTTP). One Set holds them on
// one registry, which the commands create and hand to the worker and the
// HTTP API; nothing here is global.
package metrics
