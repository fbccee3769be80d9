#!/usr/bin/env bash
# Amazon multi-domain reviews with their titles: capastan's grid, reading
# each review's title as the service reads an event's (train and eval
# -title-field title: "TITLE.\nTEXT"), test-picked and 5-fold-CV-picked.
# Prints one line per configuration, best first, then the
# cross-validation pick and its test score.
#
#   bash bench/amazon-title.sh [OUT_DIR]     (default /tmp/with-title)
#   NO_TITLE=1 bash bench/amazon-title.sh /tmp/text-only   (the text alone: the control)
#
# scikit-learn cannot read a title field, so OUT_DIR also gets the splits
# with the title written into the text the same way
# (bench/sklearn/with_title.py), and the scikit-learn side runs on those:
#   .venv-bench/bin/python bench/sklearn/nb_baseline.py --datasets OUT_DIR --corpora amazon-multidomain-blitzer --out bench/results/sklearn_nb_title.json
#   .venv-bench/bin/python bench/sklearn/cv_select.py --datasets OUT_DIR --corpus amazon-multidomain-blitzer
set -euo pipefail
cd "$(dirname "$0")/.."
D=${CAPASTAN_DATASETS:-../shared/datasets}
out=${1:-/tmp/with-title}
python3 bench/sklearn/with_title.py --datasets "$D" --out "$out" ${NO_TITLE:+--no-title} >/dev/null
c=$D/amazon-multidomain-blitzer
title=(-title-field title)
if [ -n "${NO_TITLE:-}" ]; then title=(); fi
make -s build >/dev/null
acc() { python3 -c "import json,sys; print('%.4f' % json.load(sys.stdin)['accuracy'])"; }
# train keeps capastan's one-line summaries out of the way but shows its
# errors.
train() { bin/capastan train -quiet "${title[@]}" "$@" 2>"$out/train.log" || { cat "$out/train.log" >&2; return 1; }; }
evalacc() { bin/capastan eval "${title[@]}" -model "$out/m.cpst" -data "$c/test.jsonl" -json | acc; }

# The grid: n-grams 2-3 x alpha 0.5-2 x no or 3 passes (16), and, with
# trigrams, alpha 1.5-3 x 1, 3 or 5 passes x learning rate 0.2-0.5 x
# min-df 1-2 (72).
configs=()
for ng in 2 3; do for a in 0.5 1 1.5 2; do
  configs+=("-ngrams $ng -alpha $a")
  configs+=("-ngrams $ng -alpha $a -epochs 3 -learning-rate 0.3")
done; done
for a in 1.5 2 2.5 3; do for ep in 1 3 5; do for lr in 0.2 0.3 0.5; do for md in 1 2; do
  configs+=("-ngrams 3 -alpha $a -epochs $ep -learning-rate $lr -min-df $md")
done; done; done; done

echo "# test accuracy, configuration (${#configs[@]} configurations)"
for cfg in "${configs[@]}"; do
  # shellcheck disable=SC2086
  train $cfg -data "$c/train.jsonl" -out "$out/m.cpst"
  echo "$(evalacc) $cfg"
done | sort -rn -k1,1 -s

# Cross-validation picks among the first 16 and the trigram passes at
# rate 0.3 with min-df 1 (28 configurations), without the test split.
echo "# 5-fold cross-validation accuracy on train, configuration"
for cfg in "${configs[@]}"; do
  case "$cfg" in *min-df\ 2*|*rate\ 0.2*|*rate\ 0.5*) continue ;; esac
  # shellcheck disable=SC2086
  cv=$(train $cfg -data "$c/train.jsonl" -cv 5 | acc)
  echo "$cv $cfg"
done | sort -rn -k1,1 -s | tee "$out/cv.txt"
read -r bestcv best < <(head -1 "$out/cv.txt")
# shellcheck disable=SC2086
train $best -data "$c/train.jsonl" -out "$out/m.cpst"
echo "# cross-validation pick: $best (CV $bestcv), test $(evalacc)"
