#!/usr/bin/env python3
"""Reference peer for bench/http.sh: the Python sentiment service Capastan
replaces, rebuilt as it was: Flask + a scikit-learn pipeline, served by
gunicorn with 2 sync workers.

Model: the plain default of bench/sklearn/nb_baseline.py,
CountVectorizer(ngram_range=(1, 2), lowercase=True) + MultinomialNB(alpha=1.0),
fitted on semeval2017-task4a train + dev (the full official training pool,
3 classes: negative / neutral / positive; nb_baseline.py's protocol). On
semeval2017-task4a test it scores macro-recall 0.5163, accuracy 0.5528
(bench/results/sklearn_nb.md, "default").

Endpoints, same JSON shapes as capastan's HTTP API (schemas/openapi.yaml):
  POST /predict        {"text": "...", "id": "optional"}
    -> {"id"?, "label", "confidence", "scores": {...}, "model": {"name", "version", "sha256"}}
  POST /predict/batch  [{"text", "id"?}, ...] -> {"results": [...]} in order
Each request is classified with pipeline.predict_proba, as a plain service
would; a batch in one predict_proba call.

Build the model once (a pickle; its SHA-256 is the answer's model.sha256):
  python app.py build [--datasets ../shared/datasets] [--out PATH]
Serve (what bench/http.sh runs; --preload loads the pickle once, before fork):
  CAPASTAN_FLASK_MODEL=PATH gunicorn -w 2 -k sync -b 127.0.0.1:8082 --preload \
      --chdir bench/http/flask app:app
If the pickle is missing at start-up it is built first (about 5 s).
"""

import argparse
import hashlib
import json
import os
import pickle
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_DATASETS = os.environ.get("CAPASTAN_DATASETS", os.path.join(REPO_ROOT, "..", "shared", "datasets"))
DEFAULT_MODEL = os.environ.get("CAPASTAN_FLASK_MODEL", os.path.join(
    os.path.expanduser("~"), ".cache", "capastan", "flask-mnb-semeval2017-ngram12.pkl"))
CORPUS = "semeval2017-task4a"
SPLITS = ("train", "dev")
MAX_TEXT_BYTES = 65536
MAX_BATCH = 1000


def load_jsonl(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                texts.append(r["text"])
                labels.append(r["label"])
    return texts, labels


def build(datasets, out):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline
    import sklearn

    texts, labels = [], []
    for s in SPLITS:
        t, y = load_jsonl(os.path.join(datasets, CORPUS, s + ".jsonl"))
        texts += t
        labels += y
    t0 = time.perf_counter()
    pipe = Pipeline([("vec", CountVectorizer(ngram_range=(1, 2), lowercase=True)),
                     ("nb", MultinomialNB(alpha=1.0))])
    pipe.fit(texts, labels)
    fit_s = time.perf_counter() - t0
    meta = {"name": "flask-sklearn-mnb", "version": "sklearn-" + sklearn.__version__,
            "corpus": CORPUS + ":" + "+".join(SPLITS), "n_train": len(texts),
            "n_features": len(pipe.named_steps["vec"].vocabulary_), "fit_seconds": fit_s}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)), suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump({"pipeline": pipe, "meta": meta}, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, out)
    print("built %s: %s" % (out, json.dumps(meta)), file=sys.stderr)
    return out


def load(path):
    if not os.path.exists(path):
        build(DEFAULT_DATASETS, path)
    with open(path, "rb") as f:
        raw = f.read()
    obj = pickle.loads(raw)
    model = {"name": obj["meta"]["name"], "version": obj["meta"]["version"],
             "sha256": hashlib.sha256(raw).hexdigest()}
    return obj["pipeline"], model


def create_app(model_path=DEFAULT_MODEL):
    from flask import Flask, jsonify, request

    pipe, model = load(model_path)
    classes = [str(c) for c in pipe.classes_]
    app = Flask(__name__)

    def error(status, code, message):
        return jsonify({"error": {"code": code, "message": message}}), status

    def check(req):
        """None if req is a valid request, else (status, code, message)."""
        if not isinstance(req, dict):
            return 422, "schema_violation", "a request must be a JSON object"
        text = req.get("text")
        if text is None:
            return 422, "missing_field", "text: missing"
        if not isinstance(text, str):
            return 422, "schema_violation", "text: not a string"
        if not text.strip():
            return 422, "empty_text", "text: is only white space"
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            return 422, "text_too_long", "text: longer than %d bytes" % MAX_TEXT_BYTES
        return None

    def answer(req, probs):
        i = max(range(len(classes)), key=lambda k: probs[k])
        out = {}
        if isinstance(req.get("id"), str):
            out["id"] = req["id"]
        out["label"] = classes[i]
        out["confidence"] = float(probs[i])
        out["scores"] = {c: float(p) for c, p in zip(classes, probs)}
        out["model"] = model
        return out

    @app.post("/predict")
    def predict():
        req = request.get_json(silent=True)
        if req is None:
            return error(400, "invalid_json", "the body is not JSON")
        bad = check(req)
        if bad:
            return error(*bad)
        probs = pipe.predict_proba([req["text"]])[0]
        return jsonify(answer(req, probs))

    @app.post("/predict/batch")
    def predict_batch():
        reqs = request.get_json(silent=True)
        if not isinstance(reqs, list):
            return error(400, "invalid_json", "the body is not a JSON array")
        if len(reqs) > MAX_BATCH:
            return error(413, "batch_too_large", "more than %d requests" % MAX_BATCH)
        results = [None] * len(reqs)
        ok = []
        for i, r in enumerate(reqs):
            bad = check(r)
            if bad:
                results[i] = {"error": {"code": bad[1], "message": bad[2]}}
            else:
                ok.append(i)
        if ok:
            probs = pipe.predict_proba([reqs[i]["text"] for i in ok])
            for i, p in zip(ok, probs):
                results[i] = answer(reqs[i], p)
        return jsonify({"results": results})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="fit the pipeline and pickle it")
    b.add_argument("--datasets", default=DEFAULT_DATASETS)
    b.add_argument("--out", default=DEFAULT_MODEL)
    args = ap.parse_args()
    build(args.datasets, args.out)
else:
    app = create_app()
