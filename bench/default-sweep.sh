#!/usr/bin/env bash
# Sweeps the smoothing, the learning rate of the discriminative passes and
# the negation scope of the shipped model on development data it is not
# trained on: SemEval's, TweetEval's and SST's dev splits, and 20% of the
# IMDB, Amazon and RT training splits (reviews whose int(sha1(id), 16) %
# 100 < 20; Amazon's test split is cut by that rule already, so its dev
# share hashes id + "/dev"). Each argument is one variant, "ALPHA RATE
# [SCOPE [KIND [MINDF]]]": three epochs (none at rate 0), negation scope
# 0, a multinomial model and min-df 2 unless given, the rest of the recipe as in
# models/default.args. Prints one Markdown table, the one in
# models/README.md.
#
#   bash bench/default-sweep.sh ["ALPHA RATE [SCOPE [KIND [MINDF]]]"...]   (default: the table's ten)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${CAPASTAN_DATASETS:-../shared/datasets}
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=("1 0" "1 0.1" "1 0.3" "2 0.2" "3 0.25" "3 0.3" "4 0.3" "3 0.25 2" "3 0.25 3" "3 0.25 4")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$D" "$tmp" <<'PY'
import hashlib, json, sys
d, out = sys.argv[1], sys.argv[2]
for name, salt in (("imdb", ""), ("amazon-multidomain-blitzer", "/dev"), ("rt-polarity", "")):
    with open(f"{d}/{name}/train.jsonl") as src, open(f"{out}/{name}.jsonl", "w") as dev:
        for line in src:
            rid = json.loads(line)["id"]
            if int(hashlib.sha1((rid + salt).encode()).hexdigest(), 16) % 100 < 20:
                dev.write(line)
PY

make -s build >/dev/null
sets=(
  "SemEval dev, macro recall|$D/semeval2017-task4a/dev.jsonl|macro_recall|"
  "TweetEval dev, macro recall|$D/tweeteval-sentiment/dev.jsonl|macro_recall|"
  "SST dev, accuracy|$D/sst5/dev.jsonl|accuracy|"
  "IMDB 20%, restricted accuracy|$tmp/imdb.jsonl|accuracy|negative,positive"
  "Amazon 20%, restricted accuracy|$tmp/amazon-multidomain-blitzer.jsonl|accuracy|negative,positive"
  "RT 20%, restricted accuracy|$tmp/rt-polarity.jsonl|accuracy|negative,positive"
)
declare -A cell
for v in "${variants[@]}"; do
  read -r alpha lr scope kind mindf <<<"$v"
  epochs=3
  [ "$lr" = 0 ] && epochs=0
  bin/capastan train -quiet -min-df "${mindf:-2}" -alpha "$alpha" -epochs "$epochs" -learning-rate "$lr" -negation-scope "${scope:-0}" -kind "${kind:-multinomial}" \
    -data "$D/semeval2017-task4a/train.jsonl,$D/sst5/train.jsonl" -out "$tmp/m.cpst"
  for s in "${sets[@]}"; do
    IFS='|' read -r label file metric among <<<"$s"
    args=(eval -model "$tmp/m.cpst" -data "$file" -json)
    [ -n "$among" ] && args+=(-among "$among")
    cell["$label|$v"]=$(bin/capastan "${args[@]}" | python3 -c "import json,sys; print('%.4f' % json.load(sys.stdin)['$metric'])")
  done
done

printf '| dev set (alpha, rate, scope, kind) |'; printf ' %s |' "${variants[@]}"; echo
printf '|---|'; printf -- '---|%.0s' "${variants[@]}"; echo
for s in "${sets[@]}"; do
  IFS='|' read -r label _ <<<"$s"
  printf '| %s |' "$label"
  for v in "${variants[@]}"; do printf ' %s |' "${cell["$label|$v"]}"; done
  echo
done
