package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// endLeftoverTransaction aborts whatever transaction the worker's
// transactional id left behind, with an abort marker in the group's
// offsets partition, before a transactional session starts.
//
// Why: an exactly-once session reads its start offsets with
// require_stable, and the broker answers UNSTABLE_OFFSET_COMMIT for as
// long as a transaction holds uncommitted offsets for the group. franz-go
// only fences the previous producer (InitProducerID, which aborts its open
// transaction) when the new session first produces, and a session that
// cannot read its offsets never produces: it waits for the broker to time
// the transaction out. And when the broker has lost track of such a
// transaction (seen with Apache Kafka 4.4 restarted while a transaction's
// offsets were being written: the offsets stayed pending, the transaction
// coordinator knew nothing of them), nothing ever times it out, and the
// group stops for good. Here the worker fences its own previous producer
// at once and writes an abort marker for its producer id into the offsets
// partition, which drops every offset that producer left pending.
//
// Offsets left pending by another worker's transactional id are that
// worker's to end; this only ever touches the worker's own.
func (w *Worker) endLeftoverTransaction(ctx context.Context) error {
	cl, err := w.plainClient()
	if err != nil {
		return fmt.Errorf("leftover transaction: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, w.cfg.TransactionTimeout+10*time.Second)
	defer cancel()
	id := w.cfg.TransactionalID

	var pid int64
	var epoch int16
	err = retryTxn(ctx, w.cfg.RetryBackoff, func() (int16, error) {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(w.cfg.TransactionTimeout.Milliseconds())
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return 0, err
		}
		pid, epoch = resp.ProducerID, resp.ProducerEpoch
		return resp.ErrorCode, nil
	})
	if err != nil {
		return fmt.Errorf("leftover transaction: init producer id %q: %w", id, err)
	}
	err = retryTxn(ctx, w.cfg.RetryBackoff, func() (int16, error) {
		req := kmsg.NewPtrAddOffsetsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = id, pid, epoch, w.cfg.Group
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return 0, err
		}
		return resp.ErrorCode, nil
	})
	if err != nil {
		return fmt.Errorf("leftover transaction: add the offsets of group %q: %w", w.cfg.Group, err)
	}
	err = retryTxn(ctx, w.cfg.RetryBackoff, func() (int16, error) {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, false
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return 0, err
		}
		return resp.ErrorCode, nil
	})
	if err != nil {
		return fmt.Errorf("leftover transaction: abort: %w", err)
	}
	return nil
}

// retryTxn runs req until it answers without an error, retrying the
// errors a transaction coordinator gives while it loads, moves or
// finishes a previous transaction (CONCURRENT_TRANSACTIONS), until ctx
// ends.
func retryTxn(ctx context.Context, backoff time.Duration, req func() (int16, error)) error {
	backoff = max(backoff, 50*time.Millisecond)
	for {
		code, err := req()
		if err == nil {
			err = kerr.ErrorForCode(code)
		}
		if err == nil {
			return nil
		}
		var ke *kerr.Error
		if errors.As(err, &ke) && !ke.Retriable && !errors.Is(err, kerr.ConcurrentTransactions) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(backoff):
		}
	}
}
