#!/usr/bin/env bash
# Serving benchmark on an in-process KRaft broker: a replica's bootstrap rate from a model-updates
# topic (against a bare consumer reading the same bytes and against decoding the records in memory,
# in the same run), then its scoring rate in-process and over HTTP. Prints the table last.
#
#   scripts/bench-serve.sh [ServeBench arguments]
#     --rows N            rows on each topic (default 1000000)
#     --units N           units of generated traffic trained before the padding rows (default 20000)
#     --rounds N          rounds of each measurement (after one warm-up for scoring); the best is reported (default 3)
#     --score-seconds S   seconds per scoring measurement and round (default 5)
#     --encodings LIST    row encodings to bootstrap, e.g. float32,float16,bfloat16 (default float32,float16)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q install -DskipTests -pl tests -am
./mvnw -B -q -pl tests test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
log="$(mktemp --suffix=.log)"
res="$(mktemp)"
trap 'rm -f "$res"' EXIT
if ! java -Xms8g -Xmx8g -cp "tests/target/test-classes:$(cat tests/target/cp.txt)" io.streamrec.tests.ServeBench "$@" \
    2>"$log" | tee "$res" | grep -v '^RESULT'; then
  tail -30 "$log" >&2
  exit 1
fi
echo "(broker and replica log: $log)"
out="$(cat "$res")"
echo
echo "$out" | awk -F' [|] ' '
  /^RESULT bootstrap/ {
    if (!b++) printf "%-10s %18s %18s %18s %16s %20s\n", "rows as", "bare consumer", "decode only", "replica", "replica/consumer", "replica, 1st round"
    split($1, w, " "); printf "%-10s %16.0f/s %16.0f/s %16.0f/s %15.2fx %18.0f/s\n", w[3], $2, $3, $4, $5, $6; next }
  /^RESULT score/ { if (!s++) printf "\n%-52s %14s\n", "scoring", "impressions/s"
    line = sprintf("%-52s %14.0f", substr($1, 14), $2); if (NF > 2) line = line "   " $3 ", " $4; print line }'
