package consumer

import (
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/schemas"
)

// processor turns input records into output records. Each goroutine has
// its own: the classifier's working memory and the labeled record are
// reused from one record to the next.
type processor struct {
	w       *Worker
	scratch classifier.Scratch
	pred    classifier.Prediction
	lab     schemas.Labeled
	hdrs    []schemas.Header
}

// process returns the labeled record for in, or its dead-letter record.
func (p *processor) process(mu *modelInUse, in *kgo.Record, now time.Time) *kgo.Record {
	w := p.w
	if w.cfg.Passthrough {
		return &kgo.Record{Topic: w.cfg.OutputTopic, Key: in.Key, Value: in.Value, Headers: in.Headers}
	}
	p.hdrs = p.hdrs[:0]
	for _, h := range in.Headers {
		p.hdrs = append(p.hdrs, schemas.Header{Key: h.Key, Value: h.Value})
	}
	rev, _, derr := schemas.DecodeReviewRecord(p.hdrs, in.Value, schemas.DecodeOptions{MaxTextBytes: w.cfg.MaxTextBytes})
	if derr != nil {
		return w.deadLetter(in, derr, now)
	}
	text := rev.Text
	if w.cfg.ClassifyTitle {
		// Titled returns the text itself when there is no title, so a
		// review without one costs no allocation here.
		text = classifier.Titled(rev.Title, rev.Text)
	}
	mu.model.ClassifyWith(&p.scratch, &p.pred, text)
	w.predictions.Observe(metrics.SourceKafka, p.pred.Label, p.pred.Confidence)
	l := &p.lab
	l.CopyReview(&rev, w.cfg.CopyText)
	l.Label, l.Confidence = p.pred.Label, p.pred.Confidence
	l.Classes, l.Probs = mu.classes, p.pred.Probs
	l.Model = mu.ref
	l.ClassifiedAt = now
	l.Origin = schemas.Origin{Topic: in.Topic, Partition: in.Partition, Offset: in.Offset}
	// The output's CloudEvents id is the input's position: unique, and the
	// same if the record is processed again after an aborted batch.
	id := in.Topic + "/" + strconv.Itoa(int(in.Partition)) + "/" + strconv.FormatInt(in.Offset, 10)
	out := &kgo.Record{Topic: w.cfg.OutputTopic, Key: in.Key, Value: l.AppendJSON(make([]byte, 0, 256+len(l.Text)))}
	for _, h := range schemas.LabeledHeaders(p.hdrs[:0], id, w.cfg.EventSource) {
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return out
}

// deadLetter keeps the input's key, value and headers and adds the reason.
func (w *Worker) deadLetter(in *kgo.Record, e *schemas.Error, now time.Time) *kgo.Record {
	hdrs := make([]schemas.Header, 0, len(in.Headers)+6)
	for _, h := range in.Headers {
		hdrs = append(hdrs, schemas.Header{Key: h.Key, Value: h.Value})
	}
	out := &kgo.Record{Topic: w.cfg.DeadLetterTopic, Key: in.Key, Value: in.Value}
	for _, h := range schemas.DeadLetterHeaders(hdrs, e, in.Topic, in.Partition, in.Offset, now) {
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return out
}
