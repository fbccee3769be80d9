#!/usr/bin/env bash
# bench/http.sh: HTTP throughput and latency of capastan's POST /predict and
# POST /predict/batch beside two peers, in one run:
#
#   flask     the Python service Capastan replaces: Flask + scikit-learn
#             MultinomialNB (CountVectorizer (1,2)), gunicorn, 2 sync workers
#             (bench/http/flask/app.py)
#   bare      a stdlib net/http handler that decodes and encodes the same JSON
#             but does not classify: the ceiling (bench/http/bare/main.go)
#   capastan  bin/capastan serve --no-kafka --http-addr 127.0.0.1:PORT
#
# Load: wrk on loopback from its own process, -t2 -c16, the same ~130-byte
# review body and headers for every server (bench/http/post.lua), a warm-up
# before every measured run. Rounds are interleaved (flask bare capastan,
# flask bare capastan, ...) so drift hits every server alike; each figure is
# the median over the rounds. Any non-2xx response or socket error makes
# the run fail (after the results are written, marked INVALID).
#
#   bash bench/http.sh
#
# Environment (defaults): ROUNDS (3), DURATION (15s), WARMUP (3s),
# BATCH_DURATION (10s), BATCH_WARMUP (2s), BATCH_SIZE (100), THREADS (2),
# CONNECTIONS (16), SERVERS ("flask bare capastan"), OUT (bench/results/http:
# writes OUT.md and OUT.txt), CAPASTAN_BIN (build bin/capastan with make),
# CAPASTAN_VENV_FLASK ($HOME/.cache/capastan/venv-flask),
# CAPASTAN_FLASK_MODEL ($HOME/.cache/capastan/flask-mnb-semeval2017-ngram12.pkl),
# CAPASTAN_DATASETS (../shared/datasets, for the Flask model's first build).
# With the defaults a run takes about 5 minutes (plus the venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A DEFAULT=([ROUNDS]=3 [DURATION]=15s [WARMUP]=3s [BATCH_DURATION]=10s [BATCH_WARMUP]=2s
  [BATCH_SIZE]=100 [THREADS]=2 [CONNECTIONS]=16 [SERVERS]="flask bare capastan")
SETTINGS="ROUNDS DURATION WARMUP BATCH_DURATION BATCH_WARMUP BATCH_SIZE THREADS CONNECTIONS SERVERS"
for v in $SETTINGS; do
  [ -n "${!v:-}" ] || declare "$v=${DEFAULT[$v]}"
done
OUT=${OUT:-bench/results/http}
VENV=${CAPASTAN_VENV_FLASK:-$HOME/.cache/capastan/venv-flask}
export CAPASTAN_DATASETS=${CAPASTAN_DATASETS:-$(pwd)/../shared/datasets}
export CAPASTAN_FLASK_MODEL=${CAPASTAN_FLASK_MODEL:-$HOME/.cache/capastan/flask-mnb-semeval2017-ngram12.pkl}
T0=$(date +%s)

die() { echo "bench/http.sh: $*" >&2; exit 1; }
log() { echo "[$(($(date +%s) - T0))s] $*" >&2; }

command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/capastan-http.XXXXXX")
declare -A PID PORT
cleanup() {
  local s
  for s in "${!PID[@]}"; do
    kill -TERM "${PID[$s]}" 2>/dev/null || true
  done
  for s in "${!PID[@]}"; do
    wait "${PID[$s]}" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build everything -------------------------------------------------------
for s in $SERVERS; do
  case $s in
    flask)
      if [ ! -x "$VENV/bin/gunicorn" ] || ! cmp -s bench/http/flask/requirements.txt "$VENV/.capastan-requirements.txt"; then
        log "creating the Flask venv at $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q -r bench/http/flask/requirements.txt
        cp bench/http/flask/requirements.txt "$VENV/.capastan-requirements.txt"
      fi
      [ -f "$CAPASTAN_FLASK_MODEL" ] || { log "building the Flask peer's model"; "$VENV/bin/python" bench/http/flask/app.py build; }
      ;;
    bare)
      go build -o "$TMP/bare" ./bench/http/bare
      ;;
    capastan)
      if [ -z "${CAPASTAN_BIN:-}" ]; then
        make -s build >&2
        CAPASTAN_BIN=bin/capastan
      fi
      "$CAPASTAN_BIN" serve -h 2>&1 | grep -q -- -no-kafka || die "$CAPASTAN_BIN serve has no -no-kafka flag yet"
      ;;
    *) die "unknown server $s (want flask, bare, capastan)" ;;
  esac
done

# --- request bodies: identical bytes for every server -------------------------
BODY=$TMP/body.json
BATCH=$TMP/batch.json
printf '%s' '{"id":"r-0001","text":"Arrived quickly and works fine, but the battery barely lasts a day and support never answered my emails."}' >"$BODY"
python3 - "$BODY" "$BATCH" "$BATCH_SIZE" <<'EOF'
import json, sys
one = json.load(open(sys.argv[1]))
items = [{"id": "r-%04d" % (i + 1), "text": one["text"]} for i in range(int(sys.argv[3]))]
open(sys.argv[2], "w").write(json.dumps(items, separators=(",", ":")))
EOF

# --- start the servers ----------------------------------------------------------
read -r -a ports <<<"$(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')"
i=0
for s in $SERVERS; do
  PORT[$s]=${ports[$i]}
  i=$((i + 1))
  addr=127.0.0.1:${PORT[$s]}
  case $s in
    flask) "$VENV/bin/gunicorn" -w 2 -k sync -b "$addr" --preload --no-control-socket \
             --chdir bench/http/flask app:app >"$TMP/flask.log" 2>&1 & ;;
    bare) "$TMP/bare" -addr "$addr" >"$TMP/bare.log" 2>&1 & ;;
    capastan) "$CAPASTAN_BIN" serve --no-kafka --http-addr "$addr" >"$TMP/capastan.log" 2>&1 & ;;
  esac
  PID[$s]=$!
done
for s in $SERVERS; do
  ok=
  for _ in $(seq 1 300); do
    kill -0 "${PID[$s]}" 2>/dev/null || { cat "$TMP/$s.log" >&2; die "$s exited at start-up"; }
    if curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$BODY" \
         "http://127.0.0.1:${PORT[$s]}/predict"; then ok=1; break; fi
    sleep 0.2
  done
  [ -n "$ok" ] || { cat "$TMP/$s.log" >&2; die "$s did not answer POST /predict within 60 s"; }
  log "$s ready on 127.0.0.1:${PORT[$s]} (pid ${PID[$s]})"
done

# --- check the answers' shape once --------------------------------------------
RAW=$TMP/raw.txt
: >"$RAW"
for s in $SERVERS; do
  u=http://127.0.0.1:${PORT[$s]}
  curl -s -X POST -H 'Content-Type: application/json' --data-binary "@$BODY" "$u/predict" >"$TMP/$s.one.json"
  curl -s -X POST -H 'Content-Type: application/json' --data-binary "@$BATCH" "$u/predict/batch" >"$TMP/$s.batch.json"
  python3 - "$s" "$TMP/$s.one.json" "$TMP/$s.batch.json" "$BATCH_SIZE" >>"$RAW" <<'EOF' || die "$s: wrong answer shape (see above)"
import json, sys
name, one_path, batch_path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def check(p, want_id):
    assert p.get("id") == want_id, "id %r, want %r" % (p.get("id"), want_id)
    sc = p["scores"]
    assert set(sc) == {"negative", "neutral", "positive"}, "scores keys %s" % sorted(sc)
    assert abs(sum(sc.values()) - 1) < 1e-6, "scores sum to %r" % sum(sc.values())
    assert p["label"] in sc and p["confidence"] == max(sc.values()) == sc[p["label"]], "label/confidence"
    assert all(isinstance(p["model"][k], str) for k in ("name", "version", "sha256")), "model"
try:
    one = json.load(open(one_path))
    check(one, "r-0001")
    b = json.load(open(batch_path))
    assert len(b["results"]) == n, "%d results, want %d" % (len(b["results"]), n)
    for i, r in enumerate(b["results"]):
        check(r, "r-%04d" % (i + 1))
except Exception as e:
    print("%s: %s: %s" % (name, type(e).__name__, e), file=sys.stderr)
    print(open(one_path).read()[:1000], file=sys.stderr)
    sys.exit(1)
print("== %s /predict answer: %s" % (name, json.dumps(one, separators=(",", ":"))))
print("MODEL %s %s %s %s" % (name, one["model"]["name"], one["model"]["version"], one["model"]["sha256"]))
EOF
done

# --- measure --------------------------------------------------------------------
RES=$TMP/results.tsv
: >"$RES"
HZ=$(getconf CLK_TCK)
NPROC=$(nproc)
# CPU accounting, so a run disturbed by other processes shows: the
# machine's busy jiffies (user+nice+system+irq+softirq+steal), the server's
# (its process and children, e.g. gunicorn's workers), and wrk's (bash's
# `time`). foreign_cpu = what neither used, as a share of all CPUs.
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
tree_pids() { echo "$1"; pgrep -P "$1" || true; }
tree_jiffies() {
  local t=0 p
  for p in $(tree_pids "$1"); do
    # utime and stime are fields 14 and 15; the command name (field 2) may hold spaces
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$t"
}
run() { # phase server round warmup duration path body
  local phase=$1 s=$2 round=$3 warm=$4 dur=$5 path=$6 body=$7 url out
  url=http://127.0.0.1:${PORT[$s]}$path
  out=$TMP/wrk.$phase.$s.$round.txt
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$warm" -s bench/http/post.lua "$url" -- "$body" >"$TMP/warmup.txt" 2>&1 || true
  grep -q 'non2xx=0 err_connect=0 err_read=0 err_write=0 err_timeout=0' "$TMP/warmup.txt" \
    || echo "WARNING: warm-up of $s $phase saw errors: $(grep RESULT "$TMP/warmup.txt")" >>"$RAW"
  local b0 s0 t0 b1 s1 t1 wcpu
  b0=$(busy_jiffies); s0=$(tree_jiffies "${PID[$s]}"); t0=$(date +%s%N)
  local TIMEFORMAT='%3U %3S'
  { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --timeout 10s --latency -s bench/http/post.lua "$url" -- "$body" >"$out" 2>&1; } \
    2>"$TMP/wrk.time" || { cat "$out" >&2; die "wrk failed on $s $phase"; }
  b1=$(busy_jiffies); s1=$(tree_jiffies "${PID[$s]}"); t1=$(date +%s%N)
  wcpu=$(awk '{print $1 + $2}' "$TMP/wrk.time")
  local line extra
  line=$(grep '^RESULT ' "$out") || die "no RESULT line from wrk for $s $phase"
  extra=$(awk -v b=$((b1 - b0)) -v sv=$((s1 - s0)) -v hz="$HZ" -v w="$wcpu" -v wall=$((t1 - t0)) -v n="$NPROC" \
    'BEGIN {wall /= 1e9; f = (b / hz - sv / hz - w) / (n * wall); if (f < 0) f = 0;
            printf "server_cpu_s=%.3f wrk_cpu_s=%.3f machine_busy_s=%.3f wall_s=%.3f foreign_cpu=%.3f", sv / hz, w, b / hz, wall, f}')
  { echo "== $phase $s round $round: wrk -t$THREADS -c$CONNECTIONS -d$dur --timeout 10s --latency -s bench/http/post.lua $url -- $(basename "$body")"
    cat "$out"
    echo "CPU $extra (of $NPROC CPUs)"; } >>"$RAW"
  echo "$phase $s $round ${line#RESULT } $extra" >>"$RES"
  log "$phase $s round $round: $(sed -E 's/.*rps=([0-9.]+).*p50_us=([0-9]+).*p99_us=([0-9]+).*non2xx=([0-9]+).*/\1 req\/s, p50 \2 us, p99 \3 us, non-2xx \4/' <<<"$line"), ${extra##* }"
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do run single "$s" "$r" "$WARMUP" "$DURATION" /predict "$BODY"; done
done
for r in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do run batch "$s" "$r" "$BATCH_WARMUP" "$BATCH_DURATION" /predict/batch "$BATCH"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# memory after the load: proportional set size (shared pages split between
# the processes that share them) of the server's process and its children
# (gunicorn's master and workers share the model's pages after --preload)
for s in $SERVERS; do
  kb=0
  for p in $(tree_pids "${PID[$s]}"); do
    kb=$((kb + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo "PSS_KB $s $kb" >>"$RAW"
done
for s in $SERVERS; do
  { echo "== $s server log (last 20 lines)"; tail -n 20 "$TMP/$s.log"; } >>"$RAW"
done

# --- report -----------------------------------------------------------------------
ELAPSED=$(($(date +%s) - T0))
mkdir -p "$(dirname "$OUT")"
# CMD is only shown in the report, as the command to type again.
# shellcheck disable=SC2089,SC2090
CMD="bash bench/http.sh"
for v in $SETTINGS; do
  # shellcheck disable=SC2089
  [ "${!v}" = "${DEFAULT[$v]}" ] || CMD="$v='${!v}' $CMD"
done
# shellcheck disable=SC2090
export CMD ELAPSED LOAD_BEFORE LOAD_AFTER ROUNDS DURATION WARMUP BATCH_DURATION BATCH_WARMUP BATCH_SIZE THREADS CONNECTIONS SERVERS OUT
BODY_BYTES=$(wc -c <"$BODY")
BATCH_BYTES=$(wc -c <"$BATCH")
GIT_REV=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
GO_VERSION=$(go version)
WRK_VERSION=$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2 || true)
PY_VERSIONS=$("$VENV/bin/python" -c 'import sys, flask, gunicorn, sklearn, numpy; print("Python %s, Flask %s, gunicorn %s, scikit-learn %s, numpy %s" % (sys.version.split()[0], flask.__version__, gunicorn.__version__, sklearn.__version__, numpy.__version__))' 2>/dev/null || echo "n/a")
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
BODY_TEXT=$(cat "$BODY")
export BODY_BYTES BATCH_BYTES GIT_REV GO_VERSION WRK_VERSION PY_VERSIONS CPU_MODEL NPROC BODY_TEXT
rc=0
python3 - "$RES" "$RAW" <<'EOF' || rc=$?
import os, statistics, sys, time
res_path, raw_path = sys.argv[1], sys.argv[2]
E = os.environ
rows = []
for line in open(res_path):
    phase, server, rnd, *kv = line.split()
    d = dict(x.split("=", 1) for x in kv)
    d = {k: float(v) for k, v in d.items()}
    rows.append((phase, server, int(rnd), d))
raw = open(raw_path).read().splitlines()
models = {l.split()[1]: l.split()[2:] for l in raw if l.startswith("MODEL ")}
rss = {l.split()[1]: int(l.split()[2]) for l in raw if l.startswith("PSS_KB ")}
servers = E["SERVERS"].split()
bs = int(E["BATCH_SIZE"])

def med(phase, server, key):
    v = [d[key] for p, s, _, d in rows if p == phase and s == server]
    return statistics.median(v) if v else float("nan")

def allv(phase, server, key, fmt):
    return ", ".join(fmt % d[key] for p, s, _, d in rows if p == phase and s == server)

bad = [(p, s, r, d) for p, s, r, d in rows
       if d["non2xx"] or d["err_connect"] or d["err_read"] or d["err_write"] or d["err_timeout"]]
ms = lambda us: "%.2f" % (us / 1000.0)

def cpu_per_item(phase, server, items):
    """Median over rounds of the server's CPU microseconds per item."""
    v = [d["server_cpu_s"] * 1e6 / (d["requests"] * items) for p, s, _, d in rows if p == phase and s == server and d["requests"]]
    return statistics.median(v) if v else float("nan")

foreign = max((d["foreign_cpu"] for _, _, _, d in rows), default=0)
L = []
L.append("# HTTP API benchmark: capastan vs the Flask service vs a bare Go handler")
L.append("")
L.append("Generated by `bench/http.sh` on %s; raw wrk output in `%s.txt`." % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.path.basename(E["OUT"])))
L.append("")
if bad:
    L.append("**INVALID RUN: %d measured runs had non-2xx responses or socket errors** (see below and the raw file)." % len(bad))
    L.append("")
if foreign > 0.10:
    L.append("**Disturbed run: other processes used up to %.0f%% of the machine's CPU during a measurement** (column \"other processes' CPU\"); absolute rates are deflated and noisier than on a quiet machine. Ratios within a round are less affected." % (100 * foreign))
    L.append("")
L.append("- command: `%s` (total %s s)" % (E["CMD"], E["ELAPSED"]))
L.append("- capastan %s; %s; %s" % (E["GIT_REV"], E["GO_VERSION"], E["WRK_VERSION"]))
L.append("- Flask peer: %s" % E["PY_VERSIONS"])
L.append("- machine: %s, %s CPUs; load average (1/5/15 min) before %s, after %s. wrk and the server share these CPUs." % (E["CPU_MODEL"], E["NPROC"], E["LOAD_BEFORE"], E["LOAD_AFTER"]))
L.append("- load: `wrk -t%s -c%s` on loopback, %s measured after a %s warm-up, per server per round; %s rounds interleaved (%s), median reported" % (E["THREADS"], E["CONNECTIONS"], E["DURATION"], E["WARMUP"], E["ROUNDS"], " ".join(servers)))
L.append("- body (%s bytes, the same bytes and headers for every server): `%s`" % (E["BODY_BYTES"], E["BODY_TEXT"]))
L.append("")
L.append("| server | what | model | memory after the run (PSS) |")
L.append("|---|---|---|---|")
what = {"flask": "Flask + scikit-learn MultinomialNB (CountVectorizer (1,2), semeval2017-task4a train+dev), gunicorn 2 sync workers",
        "bare": "stdlib net/http + encoding/json, same JSON in and out, no classification (ceiling)",
        "capastan": "`capastan serve --no-kafka`, built-in model"}
for s in servers:
    m = models.get(s, ["?", "?", "?"])
    L.append("| %s | %s | %s %s (sha256 %s...) | %.0f MiB |" % (s, what[s], m[0], m[1], m[2][:12], rss.get(s, 0) / 1024))
L.append("")
L.append("## POST /predict, one text per request")
L.append("")
L.append("| server | req/s (median) | p50 ms | p90 ms | p99 ms | server CPU us/req | req/s per round | p99 ms per round | other processes' CPU per round | non-2xx | socket errors |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|")
for s in servers:
    errs = sum(d["err_connect"] + d["err_read"] + d["err_write"] + d["err_timeout"] for p, ss, _, d in rows if p == "single" and ss == s)
    n2 = sum(d["non2xx"] for p, ss, _, d in rows if p == "single" and ss == s)
    L.append("| %s | **%.0f** | %s | %s | %s | %.1f | %s | %s | %s | %d | %d |" % (
        s, med("single", s, "rps"), ms(med("single", s, "p50_us")), ms(med("single", s, "p90_us")), ms(med("single", s, "p99_us")), cpu_per_item("single", s, 1),
        allv("single", s, "rps", "%.0f"), ", ".join(ms(d["p99_us"]) for p, ss, _, d in rows if p == "single" and ss == s),
        allv("single", s, "foreign_cpu", "%.2f"), n2, errs))
L.append("")
def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"
if "capastan" in servers:
    L.append("Ratios (medians):")
    L.append("")
    if "flask" in servers:
        L.append("- req/s capastan / flask: **%s**; p50 flask / capastan: %s; p99 flask / capastan: %s" % (
            ratio(med("single", "capastan", "rps"), med("single", "flask", "rps")),
            ratio(med("single", "flask", "p50_us"), med("single", "capastan", "p50_us")),
            ratio(med("single", "flask", "p99_us"), med("single", "capastan", "p99_us"))))
    if "bare" in servers:
        L.append("- req/s capastan / bare: **%s**; p50 capastan / bare: %s; p99 capastan / bare: **%s**" % (
            ratio(med("single", "capastan", "rps"), med("single", "bare", "rps")),
            ratio(med("single", "capastan", "p50_us"), med("single", "bare", "p50_us")),
            ratio(med("single", "capastan", "p99_us"), med("single", "bare", "p99_us"))))
    L.append("")
L.append("## POST /predict/batch, %d texts per request" % bs)
L.append("")
L.append("The batch is the same text %d times with ids r-0001... (%s bytes), so an item costs what a single request's text costs. `%s` warm-up, `%s` measured." % (bs, E["BATCH_BYTES"], E["BATCH_WARMUP"], E["BATCH_DURATION"]))
L.append("")
L.append("| server | batches/s (median) | items/s | items/s / single req/s | p50 ms | p99 ms | server CPU us/item | batches/s per round | other processes' CPU per round | non-2xx | socket errors |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|")
for s in servers:
    errs = sum(d["err_connect"] + d["err_read"] + d["err_write"] + d["err_timeout"] for p, ss, _, d in rows if p == "batch" and ss == s)
    n2 = sum(d["non2xx"] for p, ss, _, d in rows if p == "batch" and ss == s)
    L.append("| %s | %.0f | **%.0f** | %s | %s | %s | %.1f | %s | %s | %d | %d |" % (
        s, med("batch", s, "rps"), bs * med("batch", s, "rps"), ratio(bs * med("batch", s, "rps"), med("single", s, "rps")),
        ms(med("batch", s, "p50_us")), ms(med("batch", s, "p99_us")), cpu_per_item("batch", s, bs),
        allv("batch", s, "rps", "%.0f"), allv("batch", s, "foreign_cpu", "%.2f"), n2, errs))
L.append("")
if "capastan" in servers and "flask" in servers:
    L.append("- items/s capastan / flask in batches: %s" % ratio(med("batch", "capastan", "rps"), med("batch", "flask", "rps")))
if "capastan" in servers and "bare" in servers:
    L.append("- items/s capastan / bare in batches: %s" % ratio(med("batch", "capastan", "rps"), med("batch", "bare", "rps")))
L.append("")
L.append("## Notes")
L.append("")
L.append("- Latencies are wrk's, from the request written to the response read, per connection; wrk does not correct for coordinated omission. With 16 connections and a closed loop, latency ~ 16 / throughput.")
L.append("- gunicorn's sync workers answer `Connection: close`, so wrk opens a new TCP connection for every Flask request; the Go servers keep connections alive. That is how the original service ran.")
L.append("- The Flask peer's cost per request is mostly scikit-learn's `MultinomialNB.predict_proba` on one sparse row, which copies the (3 x n_features) log-probability matrix on every call (see bench/results/sklearn_nb.md).")
L.append("- Server CPU us/req: the server's user+system CPU time (all its processes) during the measured run, divided by the requests (items) served; it depends much less on contention than req/s does. \"Other processes' CPU\": the machine's busy CPU time during the run minus the server's and wrk's, as a share of all CPUs; near 0 on a quiet machine.")
L.append("- Memory is the proportional set size of the server's processes after the run (gunicorn's master and 2 workers share the model's pages after `--preload`).")
L.append("- wrk (2 threads) runs on the same 2 CPUs as the server, so the bare ceiling is partly wrk's own limit. The Lua `response()` hook that counts non-2xx answers is on for every server.")
if bad:
    L.append("")
    L.append("## Runs with errors")
    L.append("")
    for p, s, r, d in bad:
        L.append("- %s %s round %d: non-2xx %d, connect %d, read %d, write %d, timeout %d" % (
            p, s, r, d["non2xx"], d["err_connect"], d["err_read"], d["err_write"], d["err_timeout"]))
open(E["OUT"] + ".md", "w").write("\n".join(L) + "\n")
print("\n".join(L))
sys.exit(2 if bad else 0)
EOF
{ echo "# bench/http.sh raw output; $(date -u '+%Y-%m-%d %H:%M UTC'); command: $CMD"; echo "# RESULT lines: phase server round fields"; sed 's/^/RESULT /' "$RES"; cat "$RAW"; } >"$OUT.txt"
log "wrote $OUT.md and $OUT.txt"
[ "$rc" -eq 0 ] || die "some runs had non-2xx responses or socket errors (see $OUT.md)"
