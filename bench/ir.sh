#!/usr/bin/env bash
# Counts the instructions a classifier benchmark spends inside one function,
# per operation, under valgrind's callgrind: unlike wall-clock time on a
# shared machine, the count is the same from run to run (to about 0.01%),
# so small changes to the tokenizer can be compared exactly.
#
#   bash bench/ir.sh BENCHMARK FUNCTION [N]
#   bash bench/ir.sh BenchmarkTokenizeIMDB '*Scratch).tokenize'
#   bash bench/ir.sh BenchmarkClassifyIMDBDefaultModel '*Model).classifyWith'
#
# N (default 3000) is the number of operations; FUNCTION is a callgrind
# --toggle-collect pattern. With BRANCHES=1 it also counts mispredicted
# conditional branches per operation (callgrind's --branch-sim, a simple
# predictor: compare the counts, not the cycles). Needs valgrind (Debian:
# apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=$1 fn=$2 n=${3:-3000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/classifier.test" ./classifier
# No GC and no asynchronous preemption: neither runs the same way twice,
# and callgrind mishandles the preemption signal.
(cd classifier && GODEBUG=asyncpreemptoff=1 GOGC=off GOMAXPROCS=1 \
  valgrind --tool=callgrind --branch-sim="$([ "${BRANCHES:-}" = 1 ] && echo yes || echo no)" \
  --collect-atstart=no --toggle-collect="$fn" \
  --callgrind-out-file="$tmp/out" "$tmp/classifier.test" -test.run '^$' \
  -test.bench "^$bench\$" -test.cpu 1 -test.benchtime "${n}x" >/dev/null 2>"$tmp/err") ||
  { cat "$tmp/err" >&2; exit 1; }
read -r total _ mispredicted _ < <(awk '/^(summary|totals):/ {print $2, $3, $4, $5; exit}' "$tmp/out")
if [ "${total:-0}" = 0 ]; then
  # A benchmark that skips (no corpora at CAPASTAN_DATASETS or beside the
  # checkout) or a pattern that matches nothing would print 0 per op.
  echo "ir.sh: no instructions counted in $fn: did $bench run? Check the pattern and that the corpora are found." >&2
  exit 1
fi
# The benchmark runs once with N=1 before the N operations.
if [ "${BRANCHES:-}" = 1 ]; then
  echo "$bench $fn: $((total / (n + 1))) instructions/op, $((mispredicted / (n + 1))) mispredicted conditional branches/op"
else
  echo "$bench $fn: $((total / (n + 1))) instructions/op"
fi
