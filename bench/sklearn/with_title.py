#!/usr/bin/env python3
"""Write a copy of a corpus whose text starts with the review's title.

Amazon reviews carry a title ("Waste of money", "Great little kettle")
beside the text, and the title is often the review's verdict in a few
words. This script writes DATASETS/CORPUS/{train,test}.jsonl to
OUT/CORPUS/ with each record's text replaced by "TITLE.\\nTEXT" (records
without a title keep their text), so that scikit-learn
(nb_baseline.py / cv_select.py --datasets OUT) and capastan (train/eval
on OUT/CORPUS/*.jsonl) can be compared on the same enriched input. The
period ends the title as a clause, so negation marked in the title does
not run on into the text. With --no-title the records are copied
unchanged, as the text-only control. Standard library only.

    python3 bench/sklearn/with_title.py --out /tmp/with-title
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default=os.path.join(HERE, "..", "..", "..", "shared", "datasets"))
    ap.add_argument("--corpus", default="amazon-multidomain-blitzer")
    ap.add_argument("--out", required=True, help="directory to write CORPUS/{train,test}.jsonl under")
    ap.add_argument("--no-title", action="store_true", help="copy the records unchanged (the text-only control)")
    args = ap.parse_args()
    dst = os.path.join(args.out, args.corpus)
    os.makedirs(dst, exist_ok=True)
    for split in ("train", "test"):
        n = titled = 0
        with open(os.path.join(args.datasets, args.corpus, split + ".jsonl"), encoding="utf-8") as f, \
                open(os.path.join(dst, split + ".jsonl"), "w", encoding="utf-8") as o:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                title = (r.get("title") or "").strip()
                if title and not args.no_title:
                    r["text"] = title + ".\n" + r["text"]
                    titled += 1
                o.write(json.dumps(r) + "\n")
                n += 1
        print(f"{split}: {n} records, {titled} titles put before the text -> {os.path.join(dst, split + '.jsonl')}")


if __name__ == "__main__":
    main()
