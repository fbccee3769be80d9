// Package integration holds the tests that need a real Apache Kafka broker.
// scripts/integration starts one (scripts/kafka) and runs them with
// CAPASTAN_IT_BROKERS set; without it they skip and say why.
package integration
