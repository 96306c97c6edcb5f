#!/usr/bin/env bash
# Embedding-store benchmark (JMH): prepare + update of the tiered store at its hit rate, next to raw
# RocksDB, a HashMap holding every row, and memory copies of the same bytes (the ceiling), in one run.
# Arguments go to JMH; the default is the issue's size, 10M ids, with short iterations:
#
#   scripts/bench-store.sh                                   (ids=10000000, dim 16 and 64, hot 1%, 10% and 100%)
#   scripts/bench-store.sh -p ids=1000000 -p hotPercent=10   (anything JMH takes)
#
# Needs about 14 GiB of heap (the all-hot slab at dim 64 is 2.6 GB and grows by copying) and a few GiB of disk under java.io.tmpdir. Results: embedding-store/target/store-bench.json.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q install -DskipTests -pl embedding-store -am
./mvnw -B -q -pl embedding-store test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(-p ids=10000000 -p hotPercent=1,10,100 -wi 2 -w 3 -i 5 -r 3 -jvmArgsAppend "-Xmx14g -XX:+UseParallelGC")
fi
java -cp "embedding-store/target/test-classes:embedding-store/target/classes:gpu-ops/target/classes:common/target/classes:$(cat embedding-store/target/bench.cp)" \
  org.openjdk.jmh.Main TieredStoreBenchmark "${args[@]}" -rf json -rff embedding-store/target/store-bench.json
