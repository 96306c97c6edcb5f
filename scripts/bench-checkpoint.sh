#!/usr/bin/env bash
# Trainer checkpoint benchmark: the trainer-thread pause and the bytes per checkpoint of the embedding
# store, for the full synchronous copy of earlier releases and the incremental, asynchronous
# checkpoint, against model size and rows changed per interval, in one run (CheckpointBench):
#
#   scripts/bench-checkpoint.sh                                        (1M and 10M rows, 1% and 10% changed)
#   scripts/bench-checkpoint.sh --rows 1000000 --changed 1 --intervals 5
#
# One table, dim 16 (76 bytes per row in RocksDB), a hot tier of 1% of the rows; the checkpoint
# storage is Flink's file-system storage under java.io.tmpdir. Needs about 3 GiB of heap and, at
# 10M rows, about 3 GB of disk there.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q install -DskipTests -pl flink-job -am
./mvnw -B -q -pl flink-job test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test
java -Xmx3g -XX:+UseParallelGC \
  -cp "flink-job/target/test-classes:flink-job/target/classes:$(cat flink-job/target/bench.cp)" \
  io.streamrec.job.trainer.CheckpointBench "$@"
