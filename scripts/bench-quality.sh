#!/usr/bin/env bash
# Quality benchmark: every model on the same streams, in the same run, under the same protocol
# (request-level test-then-train: each minibatch of whole units scored before any model learns from
# it). Streams: the UCI Bank Marketing calls as requests (a real dataset, fetched from Maven Central
# inside org.apache.mahout:mahout-examples:0.13.0 and converted here; see docs/benchmarks.md) and the
# traffic generator's stream, and the MovieLens ratings of ml-latest-small as users' rating sessions
# (a real dataset inside Debian's r-cran-dslabs package, downloaded with apt and read without R).
# Models: hashed LR (Adagrad), hashed LR (FTRL-Proximal), a hashed
# factorization machine, the reference model (the job's trainer) and the same model in PyTorch (CPU).
# The PyTorch baseline runs under STREAMREC_PYTHON, or Debian's python3-torch (scripts/torch-python.sh).
#
#   scripts/bench-quality.sh [GENERATED_UNITS] [BATCH_UNITS] [QualityBench options, e.g. --ablations]
#   your own stream besides: ... --requests REQUESTS.jsonl --impressions IMPRESSIONS.jsonl
#                                --features SPEC.json [--name NAME]   (docs/benchmarks.md, "Your data")
#   --only-yours: your stream alone, without the bank and movielens streams (nothing fetched; with
#   GENERATED_UNITS 0, without the generated one too)
#   (defaults 50000 units and 16 units per minibatch; about 6 minutes on 2 cores)
#   --seeds N: the reference model (with --ablations every ablation too) from N other draws of its
#   towers' initial weights (model.init-seed 1..N) and PyTorch's same model from seeds 1..N, with
#   each one's mean, spread and the differences of the means (--ablations --seeds 6: about 16 min,
#   --ablations alone about 7)
set -euo pipefail
cd "$(dirname "$0")/.."
# GENERATED_UNITS and BATCH_UNITS are the leading numbers, each optional; the options follow
gen_units=50000
batch=16
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  gen_units="$1"
  shift
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    batch="$1"
    shift
  fi
fi
seeds=0
last_frac=0.2
prev=""
only_yours=0
bench_args=()
for arg in "$@"; do
  if [ "$prev" = "--seeds" ]; then seeds="$arg"; fi
  if [ "$prev" = "--last-frac" ]; then last_frac="$arg"; fi
  if [ "$prev" = "--batch" ]; then batch="$arg"; fi # PyTorch's minibatches as QualityBench's
  case "$arg" in --adagrad-init | --wide-lr | --dense-rate-impressions)
    # streamrec's rows would change and the PyTorch rows, the same model's, would not: the target
    # check would compare two models under one name
    echo "bench-quality: $arg changes streamrec's model only, not the same model's in PyTorch, which" \
      "the target check compares it with; run QualityBench alone for it (docs/benchmarks.md)" >&2
    exit 2 ;;
  esac
  prev="$arg"
  if [ "$arg" = "--only-yours" ]; then only_yours=1; else bench_args+=("$arg"); fi
done
if [ "$only_yours" = 1 ]; then
  case " ${bench_args[*]:-} " in *" --requests "*) ;; *)
    echo "bench-quality: --only-yours needs your stream: --requests FILE --impressions FILE --features SPEC.json" >&2
    exit 2 ;; esac
fi
mvn=(./mvnw -B -q -Dspotless.check.skip=true)
if [ -n "${STREAMREC_OFFLINE:-}" ]; then mvn+=(-o); fi
. scripts/torch-python.sh
jar=target/datasets/mahout-examples-0.13.0.jar
bank=(--bank-jar "$jar")
dslabs=target/datasets/r-cran-dslabs
movielens=(--movielens "$dslabs")
if [ "$only_yours" = 1 ]; then
  bank=()
  movielens=()
elif [ ! -f "$jar" ]; then
  echo "fetching org.apache.mahout:mahout-examples:0.13.0 (bank-full.csv inside) from Maven Central..." >&2
  "${mvn[@]}" dependency:copy -Dartifact=org.apache.mahout:mahout-examples:0.13.0 -DoutputDirectory=target/datasets
fi
if [ "$only_yours" = 0 ] && [ ! -f "$dslabs/usr/lib/R/site-library/dslabs/data/Rdata.rdx" ]; then
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
# each stream's lines as they come (a long run shows its progress); the rows for the table kept aside
java -cp "model/target/test-classes:model/target/classes:$(cat model/target/cp.txt)" \
  io.streamrec.model.bench.QualityBench "${bank[@]}" "${movielens[@]}" --gen-units "$gen_units" \
  --batch "$batch" --out "$work" "${bench_args[@]}" | tee "$work/java.out" | { grep --line-buffered -v '^QUALITY' || true; }
out="$(cat "$work/java.out")"
for f in "$work"/*.units.jsonl; do
  [ -f "$f" ] || continue
  s="$(basename "$f" .units.jsonl)"
  # PyTorch's stock Adagrad (accumulators from 0), and from 0.1 as streamrec's rows start; with the
  # ablations also the summed cross, the two kinds of wide crosses, FTRL-Proximal's wide rows and the
  # wide weights summed, as streamrec's ablation rows
  runs=("--adagrad-init 0" "--adagrad-init 0.1")
  case " ${bench_args[*]:-} " in *" --ablations "*) runs+=("--adagrad-init 0.1 --cross sum"
    "--adagrad-init 0.1 --wide-crosses request-impression" "--adagrad-init 0.1 --wide-crosses field-weighted"
    "--adagrad-init 0.1 --wide-optimizer ftrl" "--adagrad-init 0.1 --wide-crosses field-weighted --wide-optimizer ftrl"
    "--adagrad-init 0.1 --wide-pooling sum") ;; esac
  for ((k = 1; k <= seeds; k++)); do runs+=("--adagrad-init 0.1 --seed $k"); done
  k=0
  for r in "${runs[@]}"; do
    k=$((k + 1))
    echo "PyTorch on the $s stream, run $k of ${#runs[@]} ($r)..." >&2
    # shellcheck disable=SC2086 # $r is a list of options
    out="$out
$("$py" scripts/torch_bench.py "$work/$s.units.jsonl" --spec "$work/$s.spec.json" --quality "$s" --batch "$batch" --threads "$(nproc)" --last-frac "$last_frac" $r)"
  done
done
echo
echo "$out" | awk -F' [|] ' -v last="$last_frac" -f scripts/quality-table.awk
