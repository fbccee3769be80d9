#!/usr/bin/env bash
# bench/rss.sh: the worker's memory through a backlog. Fills a 6-partition
# topic on a real single-node Kafka with RECORDS ~260-byte reviews, starts
# `capastan serve` on it and samples its resident set size (VmRSS) every
# 200 ms until every record is labeled.
#
#   bash bench/rss.sh [RECORDS]      (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
export KAFKA_PORT=${KAFKA_PORT:-29092} KAFKA_AUTO_CREATE_TOPICS=false
make -s build
work=$(mktemp -d)
scripts/kafka fetch >/dev/null
scripts/kafka stop >/dev/null 2>&1 || true
B=$(scripts/kafka start 2>/dev/null)
trap 'kill $pid 2>/dev/null || true; scripts/kafka stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for t in rss-in rss-out; do
  scripts/kafka run org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --create --topic $t --partitions 6 --replication-factor 1 >/dev/null
done
scripts/kafka run org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --create --topic rss-dlq --partitions 1 --replication-factor 1 >/dev/null
python3 - "$N" > "$work/events.jsonl" <<'PY'
import json, random, sys
random.seed(1)
words = "the battery lasts all day and the screen is bright but the speaker is weak for the price it is fine overall would buy again not worth it great value terrible support".split()
for i in range(int(sys.argv[1])):
    print(json.dumps({"review_id": f"r{i}", "product_id": f"p{i % 1000}", "text": " ".join(random.choice(words) for _ in range(36))}, separators=(",", ":")))
PY
bin/capastan produce -quiet -brokers "$B" -topic rss-in -file "$work/events.jsonl" 2>&1 | tail -1
CAPASTAN_KAFKA_BROKERS=$B CAPASTAN_INPUT_TOPIC=rss-in CAPASTAN_OUTPUT_TOPIC=rss-out CAPASTAN_DLQ_TOPIC=rss-dlq \
  bin/capastan serve -log-format text 2>"$work/serve.log" &
pid=$!
start=$(date +%s.%N); done_at=""
# Sample RSS every 200 ms in the background; the loop below only checks
# for completion (each check starts a JVM tool, about a second).
( while kill -0 $pid 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null; sleep 0.2; done ) > "$work/rss.txt" &
while kill -0 $pid 2>/dev/null; do
  ends=$(scripts/kafka run org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$B" --topic rss-out 2>/dev/null | awk -F: '{s+=$3} END {print s+0}')
  # End offsets include one transaction marker per partition per batch,
  # so this stops a fraction of a percent early; fine for memory.
  if (( ends >= N )); then done_at=$(date +%s.%N); break; fi
done
kill -TERM $pid; wait $pid || true
awk -v n="$N" '{ if ($1 > max) max = $1; s[NR] = $1 } END {
  printf "records %d; worker RSS over %d samples: max %d MiB; at 10%%..100%% of the run (MiB):", n, NR, max / 1024
  for (i = 1; i <= 10; i++) printf " %d", s[int(NR * i / 10)] / 1024; print "" }' "$work/rss.txt"
echo "drained in $(python3 -c "print(round($done_at - $start, 1))") s (end offsets include transaction markers)"
