#!/usr/bin/env bash
# Training benchmark: the reference model's throughput and progressive AUC on one generated stream,
# next to its variants, logistic-regression baselines and the same model in PyTorch (CPU), all in one
# run on this machine. PyTorch: STREAMREC_PYTHON, or Debian's python3-torch (scripts/torch-python.sh).
#
#   scripts/bench-train.sh [UNITS]        (default 100000 request units, ~412k impressions)
set -euo pipefail
cd "$(dirname "$0")/.."
units="${1:-100000}"
. scripts/torch-python.sh
./mvnw -B -q install -DskipTests -pl model -am
./mvnw -B -q -pl model test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
jsonl="$(mktemp --suffix=.jsonl)"
trap 'rm -f "$jsonl"' EXIT
out="$(java -cp "model/target/test-classes:model/target/classes:$(cat model/target/cp.txt)" \
  io.streamrec.model.bench.TrainBench --units "$units" --jsonl "$jsonl")"
echo "$out" | grep -v '^RESULT'
out="$out
$("$py" scripts/torch_bench.py "$jsonl" --threads "$(nproc)")"
echo
echo "$out" | awk -F' [|] ' '
  /^RESULT oracle/ { split($0, o, " "); oracle = o[4]; next }
  /^RESULT/ { name = substr($1, 8); rate[name] = $2; auc[name] = $3; order[++n] = name; if (name ~ /^PyTorch/) torch = name }
  END {
    ref = "request-only deep model"
    printf "%-56s %14s %10s %12s %10s\n", "model (same stream, same minibatches)", "impressions/s", "vs PyTorch", "prog. AUC", "vs oracle"
    for (i = 1; i <= n; i++) {
      m = order[i]
      printf "%-56s %14.0f %9.2fx %12.4f %+10.4f\n", m, rate[m], rate[m] / rate[torch], auc[m], auc[m] - oracle
    }
    printf "%-56s %14s %10s %12.4f\n", "oracle (the generator'"'"'s true CTR)", "", "", oracle
    printf "\nrequest-only saving: %.2fx (request tower once per request vs once per impression)\n", rate[ref] / rate["deep model, request tower per impression"]
  }'
