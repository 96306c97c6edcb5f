#!/usr/bin/env bash
# Quality benchmark: every model on the same streams, in the same run, under the same protocol
# (request-level test-then-train: each minibatch of whole units scored before any model learns from
# it). Streams: the UCI Bank Marketing calls as requests (a real dataset, fetched from Maven Central
# inside org.apache.mahout:mahout-examples:0.13.0 and converted here; see docs/benchmarks.md) and the
# traffic generator's stream, and the MovieLens ratings of ml-latest-small as users' rating sessions
# (a real dataset inside Debian's r-cran-dslabs package, downloaded with apt and read without R).
# Models: hashed LR (Adagrad), hashed LR (FTRL-Proximal), a hashed
# factorization machine, the reference model (the job's trainer) and the same model in PyTorch (CPU).
# Installs Debian's python3-torch when it is missing (needs root and apt).
#
#   scripts/bench-quality.sh [GENERATED_UNITS] [BATCH_UNITS] [QualityBench options, e.g. --ablations]
#   your own stream besides: ... --requests REQUESTS.jsonl --impressions IMPRESSIONS.jsonl
#                                --features SPEC.json [--name NAME]   (docs/benchmarks.md, "Your data")
#   (defaults 50000 units and 16 units per minibatch; about 6 minutes on 2 cores)
#   --seeds N: the reference model from N other draws of its towers' initial weights
#   (model.init-seed 1..N) and PyTorch's same model from seeds 1..N, with each one's mean, spread
#   and the difference of the means (a minute or two per stream and seed pair)
set -euo pipefail
cd "$(dirname "$0")/.."
gen_units="${1:-50000}"
batch="${2:-16}"
seeds=0
prev=""
for arg in "${@:3}"; do
  if [ "$prev" = "--seeds" ]; then seeds="$arg"; fi
  prev="$arg"
done
py=/usr/bin/python3
mvn=(./mvnw -B -q -Dspotless.check.skip=true)
if [ -n "${STREAMREC_OFFLINE:-}" ]; then mvn+=(-o); fi
if ! "$py" -c "import torch, numpy" 2>/dev/null; then
  echo "installing python3-torch and python3-numpy (Debian packages)..." >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-numpy >/dev/null
fi
jar=target/datasets/mahout-examples-0.13.0.jar
if [ ! -f "$jar" ]; then
  echo "fetching org.apache.mahout:mahout-examples:0.13.0 (bank-full.csv inside) from Maven Central..." >&2
  ./mvnw -B -q dependency:copy -Dartifact=org.apache.mahout:mahout-examples:0.13.0 -DoutputDirectory=target/datasets
fi
dslabs=target/datasets/r-cran-dslabs
movielens=(--movielens "$dslabs")
if [ ! -f "$dslabs/usr/lib/R/site-library/dslabs/data/Rdata.rdx" ]; then
  echo "fetching Debian's r-cran-dslabs (the MovieLens ratings inside) with apt-get download..." >&2
  mkdir -p target/datasets
  if (cd target/datasets && rm -f r-cran-dslabs_*.deb && { apt-get download -q r-cran-dslabs >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get download -q r-cran-dslabs >/dev/null; }; }) &&
    dpkg-deb -x target/datasets/r-cran-dslabs_*.deb "$dslabs"; then
    :
  else
    echo "movielens stream skipped: r-cran-dslabs could not be downloaded (needs Debian's apt);" \
      "unpack the package (dpkg-deb -x) into $dslabs to run it" >&2
    movielens=()
  fi
fi
"${mvn[@]}" install -DskipTests -pl model -am
"${mvn[@]}" -pl model test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$(java -cp "model/target/test-classes:model/target/classes:$(cat model/target/cp.txt)" \
  io.streamrec.model.bench.QualityBench --bank-jar "$jar" "${movielens[@]}" --gen-units "$gen_units" --batch "$batch" --out "$work" "${@:3}")"
echo "$out" | grep -v '^QUALITY'
for f in "$work"/*.units.jsonl; do
  [ -f "$f" ] || continue
  s="$(basename "$f" .units.jsonl)"
  # PyTorch's stock Adagrad (accumulators from 0), and from 0.1 as streamrec's rows start; with the
  # ablations also the summed cross, the two kinds of wide crosses, FTRL-Proximal's wide rows and the
  # wide weights summed, as streamrec's ablation rows
  runs=("--adagrad-init 0" "--adagrad-init 0.1")
  case " ${*:3} " in *" --ablations "*) runs+=("--adagrad-init 0.1 --cross sum"
    "--adagrad-init 0.1 --wide-crosses request-impression" "--adagrad-init 0.1 --wide-crosses field-weighted"
    "--adagrad-init 0.1 --wide-optimizer ftrl" "--adagrad-init 0.1 --wide-crosses field-weighted --wide-optimizer ftrl"
    "--adagrad-init 0.1 --wide-pooling sum") ;; esac
  for ((k = 1; k <= seeds; k++)); do runs+=("--adagrad-init 0.1 --seed $k"); done
  for r in "${runs[@]}"; do
    # shellcheck disable=SC2086 # $r is a list of options
    out="$out
$("$py" scripts/torch_bench.py "$work/$s.units.jsonl" --spec "$work/$s.spec.json" --quality "$s" --batch "$batch" --threads "$(nproc)" $r)"
  done
done
echo
echo "$out" | awk -F' [|] ' '
  /^QUALITY/ {
    s = substr($1, 9); n[s]++; key = s SUBSEP n[s]
    line[key] = sprintf("%-100s %9.4f %9.4f %9.4f %9.4f %7.3f %7.3f %10.0f", $2, $4, $5, $6, $7, $8, $9, $10)
    name[key] = $2; v[key, 1] = $4; v[key, 2] = $5; v[key, 3] = $6; v[key, 4] = $7; cal[key, 1] = $8; cal[key, 2] = $9
    if (!(s in seen)) { seen[s] = 1; streams[++ns] = s; imps[s] = $3 }
  }
  END {
    for (k = 1; k <= ns; k++) {
      s = streams[k]
      printf "%s stream (%d impressions)\n", s, imps[s]
      printf "%-100s %9s %9s %9s %9s %7s %7s %10s\n", "model", "AUC all", "AUC last", "LL all", "LL last", "cal all", "cal last", "imps/s"
      for (i = 1; i <= n[s]; i++) print line[s SUBSEP i]
      print ""
    }
    print "AUC, log loss (LL), calibration (mean prediction / observed rate): progressive, over the whole stream"
    print "(all) and its last 20% of impressions (last). imps/s: training rate, one thread (PyTorch: nproc)."
    # the quality target: AUC at least the best baseline'"'"'s + 0.01 over the whole stream and its last
    # 20%, log loss no higher, calibration within 0.95-1.05. Baselines: the hashed models and the
    # same model in PyTorch (not PyTorch'"'"'s ablation rows, which carry streamrec'"'"'s options)
    print ""
    print "target: AUC >= best baseline + 0.01 (all and last), log loss <= best baseline'"'"'s, calibration in 0.95-1.05"
    printf "%-10s %-8s %-47s %-19s %s\n", "stream", "metric", "best baseline", "reference (margin)", "best of streamrec'"'"'s rows (margin)"
    split("AUC all,AUC last,LL all,LL last", metric, ",")
    for (k = 1; k <= ns; k++) {
      s = streams[k]; ref = ""; missed = ""
      for (m = 1; m <= 4; m++) {
        better = m <= 2 ? 1 : -1; b = ""; o = ""
        for (i = 1; i <= n[s]; i++) {
          key = s SUBSEP i; x = v[key, m] * better
          if (name[key] ~ /^(hashed LR|factorization machine)/ || name[key] ~ /^PyTorch [^,]*, same model(, Adagrad from [0-9.]+)?$/) {
            if (b == "" || x > v[b, m] * better) b = key
          } else if (name[key] ~ /^streamrec/ && name[key] !~ /, seed [0-9]+$/) {
            if (o == "" || x > v[o, m] * better) o = key
            if (name[key] == "streamrec (reference model)") ref = key
          }
        }
        if (b == "" || o == "" || ref == "") continue
        need = m <= 2 ? 0.01 : 0
        if ((v[ref, m] - v[b, m]) * better < need - 1e-9) missed = missed (missed == "" ? "" : ", ") metric[m]
        bn = name[b]; sub(/^PyTorch [^,]*, /, "PyTorch ", bn)
        on = name[o]; sub(/^streamrec(, | \()/, "", on); sub(/\)$/, "", on)
        printf "%-10s %-8s %.4f %-40s %.4f (%+.4f)  %.4f (%+.4f) %s\n", s, metric[m], v[b, m], bn, \
          v[ref, m], v[ref, m] - v[b, m], v[o, m], v[o, m] - v[b, m], on
      }
      if (ref == "") continue
      if (cal[ref, 1] < 0.95 || cal[ref, 1] > 1.05 || cal[ref, 2] < 0.95 || cal[ref, 2] > 1.05) missed = missed (missed == "" ? "" : ", ") "calibration"
      printf "%-10s the reference model %s (calibration %.3f / %.3f)\n", s, \
        missed == "" ? "meets the target" : "misses the target on " missed, cal[ref, 1], cal[ref, 2]
    }
    # --seeds: each model over its other draws of the initial weights, mean, standard deviation and
    # range; then the reference model'"'"'s mean against PyTorch'"'"'s, with the standard error of the
    # difference of two means (sqrt(sd1^2/n1 + sd2^2/n2))
    printed = 0
    for (k = 1; k <= ns; k++) {
      s = streams[k]; ng = 0; delete gi; delete gname; delete cnt
      for (i = 1; i <= n[s]; i++) {
        key = s SUBSEP i; g = name[key]
        if (!sub(/, seed [0-9]+$/, "", g)) continue
        if (!(g in gi)) { gi[g] = ++ng; gname[ng] = g }
        j = gi[g]; c = ++cnt[j]
        for (m = 1; m <= 4; m++) sv[j, m, c] = v[key, m]
      }
      if (ng == 0) continue
      if (!printed) {
        printed = 1
        print ""
        print "over other draws of the initial weights (--seeds): mean +- sd [min, max]"
        printf "%-10s %-60s %3s %-30s %-30s %-16s %-16s\n", "stream", "model", "n", "AUC all", "AUC last", "LL all", "LL last"
      }
      for (j = 1; j <= ng; j++) {
        row = ""
        for (m = 1; m <= 4; m++) {
          sum = 0; lo = 1e9; hi = -1e9
          for (c = 1; c <= cnt[j]; c++) { x = sv[j, m, c]; sum += x; if (x < lo) lo = x; if (x > hi) hi = x }
          mean[j, m] = sum / cnt[j]; ss = 0
          for (c = 1; c <= cnt[j]; c++) ss += (sv[j, m, c] - mean[j, m]) ^ 2
          sd[j, m] = cnt[j] > 1 ? sqrt(ss / (cnt[j] - 1)) : 0
          row = row (m <= 2 ? sprintf("%.4f +- %.4f [%.4f, %.4f]  ", mean[j, m], sd[j, m], lo, hi) \
                             : sprintf("%.4f +- %.4f  ", mean[j, m], sd[j, m]))
        }
        printf "%-10s %-60s %3d %s\n", s, gname[j], cnt[j], row
      }
      r = 0; t = 0
      for (j = 1; j <= ng; j++) {
        if (gname[j] == "streamrec (reference model)") r = j
        if (gname[j] ~ /^PyTorch [^,]*, same model, Adagrad from [0-9.]+$/) t = j
      }
      if (r && t) {
        row = ""
        for (m = 1; m <= 4; m++)
          row = row sprintf("%-8s %+.4f +- %.4f   ", metric[m], mean[r, m] - mean[t, m], \
            sqrt(sd[r, m] ^ 2 / cnt[r] + sd[t, m] ^ 2 / cnt[t]))
        printf "%-10s reference model'"'"'s mean - PyTorch'"'"'s: %s\n", s, row
      }
    }
  }'
