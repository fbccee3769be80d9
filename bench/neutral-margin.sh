#!/usr/bin/env bash
# Sweeps the neutral margin (train/eval -neutral-margin) of a 3-class model
# on the development splits of the shipped model's 3-class corpora:
# SemEval's, TweetEval's and SST's dev splits. Prints one Markdown table:
# per margin and split, macro recall, neutral recall and the lowest class
# recall, and the mean macro recall of the three; the one in
# models/README.md.
#
#   bash bench/neutral-margin.sh [MODEL [MARGIN...]]
#   (default: models/default.cpst, margins 0 and 0.10 to 0.30 by 0.02)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${CAPASTAN_DATASETS:-../shared/datasets}
model=${1:-models/default.cpst}
shift || true
margins=("$@")
[ ${#margins[@]} -gt 0 ] || margins=(0 0.10 0.12 0.14 0.16 0.18 0.20 0.22 0.24 0.26 0.28 0.30)
make -s build >/dev/null
sets=(
  "SemEval dev|$D/semeval2017-task4a/dev.jsonl"
  "TweetEval dev|$D/tweeteval-sentiment/dev.jsonl"
  "SST dev|$D/sst5/dev.jsonl"
)
printf '| margin |'
for s in "${sets[@]}"; do printf ' %s: macro recall / neutral / lowest |' "${s%%|*}"; done
echo ' mean macro recall |'
printf '|---|'; printf -- '---|%.0s' "${sets[@]}"; echo '---|'
for m in "${margins[@]}"; do
  printf '| %s |' "$m"
  sum=0
  for s in "${sets[@]}"; do
    cell=$(bin/capastan eval -model "$model" -data "${s#*|}" -neutral-margin "$m" -json | python3 -c "
import json, sys
d = json.load(sys.stdin)
pc = d['per_class']
print('%.4f %.3f %.3f' % (d['macro_recall'], pc['neutral']['recall'], min(c['recall'] for c in pc.values() if c['support'])))")
    read -r mr neu low <<<"$cell"
    printf ' %s / %s / %s |' "$mr" "$neu" "$low"
    sum=$(python3 -c "print($sum + $mr)")
  done
  python3 -c "print(' %.4f |' % ($sum / ${#sets[@]}))"
done
