#!/usr/bin/env bash
# Pipeline benchmark on an in-process KRaft broker: the trainer alone, a backfill end to end from the
# events, a backfill from the request-units log, a bare consumer on the events' bytes, and a stream
# sparse in event time, all on one generated stream in one run; the units log's bytes against an
# impression-level log; a JFR profile of the trainer thread during the events' backfill.
#
#   scripts/bench-pipeline.sh [--requests N] [--sparse-requests N] [--parallelism N] [--rounds N]
#     (defaults: 100000 requests, 20000 sparse requests, assembler parallelism 2, best of 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q install -DskipTests -Dspotless.check.skip=true -pl tests -am
./mvnw -B -q -pl tests test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
log="$(mktemp --suffix=.log)"
res="$(mktemp)"
jfr="$(mktemp --suffix=.jfr)"
trap 'rm -f "$res" "$jfr"' EXIT
if ! java -Xms4g -Xmx4g -cp "tests/target/test-classes:$(cat tests/target/cp.txt)" io.streamrec.tests.PipelineBench \
    --profile "$jfr" "$@" 2>"$log" | tee "$res" | grep -v '^RESULT'; then
  tail -30 "$log" >&2
  exit 1
fi
echo "(job and broker log: $log)"
echo
awk -F' [|] ' '
  /^RESULT bytes/ { ub = $2; ib = $3; br = $4; next }
  /^RESULT ratios/ { r2 = $2; r3 = $3; next }
  /^RESULT profile stage/ { ps[++np] = sprintf("  %-52s %6.1f%%", $2, $3); next }
  /^RESULT profile self/ { pf[++nf] = sprintf("  %-70s %6.1f%%", $2, $3); next }
  /^RESULT profile samples/ { samples = $2; next }
  /^RESULT trainer alone/ { printf "%-40s %14s %10s %10s %12s %12s\n", "run", "impressions/s", "active s", "wall s", "trainer busy", "imps/batch"
    printf "%-40s %14.0f %10.2f %10s %12s %12s\n", "trainer alone (the ceiling)", $2, $3, "", "", ""; next }
  /^RESULT backfill/ { printf "%-40s %14.0f %10.2f %10.2f %11.0f%% %12.1f\n", substr($1, 8), $2, $3, $4, 100 * $5, $6; next }
  /^RESULT bare consumer/ { printf "%-40s %14.0f %10s %10.2f %12s %12s   (%.0f records/s)\n", "bare consumer (events bytes)", $2, "", $4, "", "", $3; next }
  END {
    printf "\nend to end / trainer alone: %.2fx; from the units log / trainer alone: %.2fx\n", r2, r3
    printf "units log: %.1f bytes per impression; impression-level Avro log: %.1f; ratio %.2fx\n", ub, ib, br
    printf "\ntrainer thread during the backfill from events (%s JFR samples), by stage:\n", samples
    for (i = 1; i <= np; i++) print ps[i]
    print "hottest methods:"
    for (i = 1; i <= nf; i++) print pf[i]
  }' "$res"
