// Package consumer is Capastan's streaming worker: it reads review events
// from a Kafka topic in a consumer group, classifies each text with the
// model loaded at start-up, and produces a labeled result (or a
// dead-letter record) per input record, keyed like its input.
//
// Delivery is exactly-once by default: each polled batch is processed in
// one Kafka transaction that also commits the group's offsets
// (franz-go's GroupTransactSession), so a crash or rebalance mid-batch
// aborts the batch and it is processed again, and read_committed readers
// never see it twice. At-least-once commits offsets only after every
// output of a batch is acknowledged; it keeps two batches in hand, one
// being classified while the other's outputs are on their way out, so a
// crash doubles at most those two.
//
// Bad records never stop a partition: they go to the dead-letter topic
// with the original key, value and headers, and the reason in
// capastan-* headers. If that write fails, the batch is not committed and
// is retried.
package consumer
