// Package classifier is Capastan's text classifier: a tokenizer tuned for
// review and social-media text, n-gram feature extraction, multinomial and
// complement naive Bayes, streaming training, evaluation metrics and a
// versioned, checksummed model file.
//
// It knows nothing of Kafka or HTTP. A *Model is immutable once built or
// loaded and is safe for concurrent use without locks; the per-call working
// memory lives in a Scratch that callers reuse (Model.Classify keeps a pool),
// so classifying a document allocates nothing in steady state.
package classifier
