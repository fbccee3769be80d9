#!/usr/bin/env bash
# bench/produce.sh: producer throughput, `capastan produce` against `kcat -P`
# (librdkafka) sending the same file of ~300-byte review events to a real
# single-node Kafka on loopback, same settings (acks=all, lz4, 5 ms linger),
# alternating runs so both see the same machine.
#
#   bash bench/produce.sh [RECORDS] [RUNS]      (defaults 200000, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
RUNS=${2:-3}
export KAFKA_PORT=${KAFKA_PORT:-29092} KAFKA_AUTO_CREATE_TOPICS=false KAFKA_NUM_PARTITIONS=6
command -v kcat >/dev/null || { echo "kcat is needed (apt-get install kcat)"; exit 1; }
make -s build
work=$(mktemp -d)
trap 'scripts/kafka stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
scripts/kafka fetch >/dev/null
B=$(scripts/kafka start 2>/dev/null)

# ~300-byte events: review_id, product_id, rating and a text of review words.
python3 - "$N" > "$work/events.jsonl" <<'PY'
import json, random, sys
random.seed(1)
words = "the battery lasts all day and the screen is bright but the speaker is weak for the price it is fine overall would buy again not worth it great value terrible support".split()
for i in range(int(sys.argv[1])):
    text = " ".join(random.choice(words) for _ in range(38))
    print(json.dumps({"review_id": f"r{i}", "product_id": f"p{i % 1000}", "rating": i % 5 + 1, "text": text}, separators=(",", ":")))
PY
# kcat gets the same lines, keyed by review id.
python3 -c '
import json,sys
for l in open(sys.argv[1]):
    sys.stdout.write(json.loads(l)["review_id"] + "\t" + l)' "$work/events.jsonl" > "$work/keyed.tsv"
bytes=$(stat -c %s "$work/events.jsonl")
echo "records: $N, file: $bytes bytes ($((bytes / N)) bytes/record), broker $B (6 partitions), runs: $RUNS"

rate() { python3 -c "import sys; n,b,s=map(float,sys.argv[1:]); print(f'{n/s:.0f} records/s {b/s/1e6:.1f} MB/s')" "$N" "$bytes" "$1"; }
for r in $(seq 1 "$RUNS"); do
  for tool in kcat capastan; do
    t="bench-$tool-$r"
    scripts/kafka run org.apache.kafka.tools.TopicCommand --bootstrap-server "$B" --create --topic "$t" --partitions 6 --replication-factor 1 >/dev/null 2>&1
    start=$(date +%s.%N)
    if [ "$tool" = kcat ]; then
      kcat -b "$B" -P -t "$t" -K $'\t' -X acks=all -X linger.ms=5 -X compression.codec=lz4 -X queue.buffering.max.messages=1000000 < "$work/keyed.tsv"
    else
      bin/capastan produce -quiet -brokers "$B" -topic "$t" -file "$work/events.jsonl" -key review_id -rating-field rating 2>/dev/null
    fi
    end=$(date +%s.%N)
    secs=$(python3 -c "print($end - $start)")
    echo "run $r $tool: ${secs}s $(rate "$secs")"
  done
done
