#!/usr/bin/env bash
# bench/e2e.sh: end-to-end worker throughput and latency on a real
# single-node Kafka (scripts/kafka on 127.0.0.1:29092), beside a
# pass-through pipe running the same consume-produce loop.
#
#   bash bench/e2e.sh [RECORDS]        (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
export KAFKA_PORT=${KAFKA_PORT:-29092} KAFKA_AUTO_CREATE_TOPICS=false
scripts/kafka fetch >/dev/null
scripts/kafka stop >/dev/null 2>&1 || true
B=$(scripts/kafka start 2>/dev/null)
trap 'scripts/kafka stop >/dev/null 2>&1 || true' EXIT
go run ./bench/e2e -brokers "$B" -records "$N" \
  -runs "pipe:at-least-once:1:6,capastan:at-least-once:1:6,pipe:exactly-once:1:6,capastan:exactly-once:1:6,capastan:exactly-once:2:6,capastan:exactly-once:3:6,capastan:exactly-once:1:1,capastan:exactly-once:1:12" \
  "${@:2}"
