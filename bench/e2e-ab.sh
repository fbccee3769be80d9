#!/usr/bin/env bash
# bench/e2e-ab.sh: the end-to-end harness (bench/e2e) of two revisions,
# alternated round after round on one warm broker, so that a change to the
# worker is measured against its parent in the same run.
#
#   bash bench/e2e-ab.sh REV_A REV_B [ROUNDS] [RECORDS] [HARNESS FLAGS...]
#
# e.g. bash bench/e2e-ab.sh HEAD~1 HEAD 3 200000 \
#        -runs pipe:at-least-once:1:6,capastan:at-least-once:1:6
#
# Each revision is checked out in a temporary git worktree and its own
# bench/e2e is built, so both must have a harness that takes the flags
# given. Needs bc and GNU time (Debian: apt-get install bc time). After each run the machine's CPU seconds are split into the
# broker's, the harness's and everything else's ("others"): a run where
# others is large shared the cores with something else and is not
# comparable.
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?REV_A}
B=${2:?REV_B}
ROUNDS=${3:-3}
N=${4:-200000}
shift $(($# < 4 ? $# : 4))
work=$(mktemp -d)
export KAFKA_PORT=${KAFKA_PORT:-29092} KAFKA_AUTO_CREATE_TOPICS=false
cleanup() {
  scripts/kafka stop >/dev/null 2>&1 || true
  for v in a b; do git worktree remove --force "$work/$v" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for v in a b; do
  rev=$A
  [ "$v" = b ] && rev=$B
  git worktree add --detach "$work/$v" "$rev" >/dev/null
  (cd "$work/$v" && go build -o "$work/e2e-$v" ./bench/e2e)
  echo "$v = $rev ($(git rev-parse --short "$rev"))"
done
scripts/kafka fetch >/dev/null
scripts/kafka stop >/dev/null 2>&1 || true
BROKERS=$(scripts/kafka start 2>/dev/null)
PIDFILE=${KAFKA_RUN_DIR:-${TMPDIR:-/tmp}/capastan-kafka-$KAFKA_PORT}/kafka.pid
[ -f "$PIDFILE" ] || PIDFILE=
busy() { awk '/^cpu /{print ($2+$3+$4+$7+$8)/100}' /proc/stat; }
bcpu() { if [ -n "$PIDFILE" ]; then awk '{print ($14+$15)/100}' "/proc/$(cat "$PIDFILE")/stat"; else echo 0; fi; }
for i in $(seq 1 "$ROUNDS"); do
  for v in a b; do
    t0=$(busy) b0=$(bcpu) s0=$(date +%s.%N)
    out=$( { /usr/bin/time -f "TIME %U %S" "$work/e2e-$v" -brokers "$BROKERS" -records "$N" "$@"; } 2>&1)
    t1=$(busy) b1=$(bcpu) s1=$(date +%s.%N)
    read -r _ u s <<<"$(grep '^TIME' <<<"$out")"
    echo "== $v round $i: wall $(echo "$s1 - $s0" | bc | cut -c1-6) s, CPU-s: machine $(echo "$t1 - $t0" | bc), broker $(echo "$b1 - $b0" | bc), harness $(echo "$u + $s" | bc), others $(echo "$t1 - $t0 - ($b1 - $b0) - $u - $s" | bc)"
    grep -v '^TIME\|^records' <<<"$out" || true
  done
done
