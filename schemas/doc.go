// Package schemas is Capastan's event contract: the JSON Schema files that
// describe what goes in and out of the service, and the Go code that reads
// and writes those records on the hot path.
//
// The contract has four documents, embedded in FS:
//
//   - review.v1.json: the input event, one review per Kafka record;
//   - labeled.v1.json: the output event, the review's label and scores;
//   - deadletter.v1.json: the headers of a dead-letter record (its value is
//     the rejected input, byte for byte);
//   - openapi.yaml: the HTTP side port (POST /predict and friends).
//
// docs/schemas.md explains them for people who never read this code.
//
// DecodeReview reads an input event and rejects it with an *Error whose
// Code is one of the Code* constants; DecodeReviewRecord does the same for
// a Kafka record, accepting plain JSON and both CloudEvents 1.0 modes
// (binary and structured). Labeled.AppendJSON writes an output event
// without allocating, and LabeledHeaders and DeadLetterHeaders build record
// headers. Header is this package's own header type, so the package does
// not depend on any Kafka client.
//
// The Go decoder and the JSON Schemas agree on which reviews are valid
// (tests check it against a reference validator on thousands of generated
// documents), with two deliberate differences: the decoder rejects invalid
// UTF-8, which a JSON Schema validator never sees because JSON parsers
// replace bad bytes, and the decoder's text limit is in bytes and
// configurable (DecodeOptions.MaxTextBytes) where the schema states the
// default, 65,536, in characters.
package schemas
