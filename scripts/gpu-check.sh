#!/usr/bin/env bash
# The GPU check: builds (kernels to PTX with nvcc), runs the CUDA contract tests, the PTX check and
# the CPU/CUDA training parity test, then the benchmarks, and prints a table last: each operation's
# achieved GB/s against the device's copy bandwidth (device-to-device memcpy), and training
# impressions/s of the reference model on CUDA next to the CPU backend's.
#
#   scripts/gpu-check.sh [UNITS]     (training stream of UNITS request units; default 30000)
#
# Without a usable device the CUDA tests skip (the reason is printed) and the script stops after
# them with exit status 2: there is nothing to measure.
set -euo pipefail
cd "$(dirname "$0")/.."
units="${1:-30000}"
mvnq=(./mvnw -B -q)
[[ "${OFFLINE:-1}" == 1 ]] && mvnq+=(-o)

echo "== build (gpu-ops kernels: $(command -v nvcc || echo 'nvcc NOT FOUND'))"
"${mvnq[@]}" install -DskipTests -pl model -am
ls gpu-ops/target/classes/io/streamrec/gpu/ptx/

echo "== CUDA contract tests, PTX entries, training parity"
# the reactor (-am) so these modules' own classes are tested, never a snapshot from ~/.m2
"${mvnq[@]}" test -pl model -am -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='CudaBackendTest,CudaKernelsTest,BackendsTest,CudaTrainingParityTest'
skipped=0
for r in gpu-ops/target/surefire-reports/TEST-io.streamrec.gpu.CudaBackendTest.xml \
         model/target/surefire-reports/TEST-io.streamrec.model.CudaTrainingParityTest.xml; do
  s=$(grep -o 'skipped="[0-9]*"' "$r" | head -1 | tr -dc 0-9)
  echo "$(basename "$r"): $(grep -o 'tests="[0-9]*"' "$r" | head -1) skipped=$s"
  if [[ "$s" != 0 ]]; then
    skipped=1
    grep -o 'no CUDA device: [^]<]*' "$r" | head -1
  fi
done
if [[ $skipped == 1 ]]; then
  echo "CUDA tests skipped: no usable device here; no benchmark to run" >&2
  exit 2
fi

"${mvnq[@]}" -pl gpu-ops,model dependency:build-classpath -Dmdep.outputFile=target/cp.txt
cp="gpu-ops/target/test-classes:gpu-ops/target/classes:embedding-store/target/classes:model/target/test-classes:model/target/classes"
cp="$cp:$(cat gpu-ops/target/cp.txt):$(cat model/target/cp.txt)"

echo "== operations"
ops_cuda="$(java -Xmx8g -cp "$cp" io.streamrec.gpu.bench.OpBench --backend cuda --iters 50)"
ops_cpu="$(java -Xmx8g -cp "$cp" io.streamrec.gpu.bench.OpBench --backend cpu --iters 3)"
echo "== training ($units units)"
train_cpu="$(java -Xmx8g -cp "$cp" io.streamrec.model.bench.TrainBench --units "$units" --backend cpu | grep '^RESULT')"
train_cuda="$(java -Xmx8g -cp "$cp" io.streamrec.model.bench.TrainBench --units "$units" --backend cuda | grep '^RESULT')"

echo
echo "$ops_cuda" | grep -v '^OP' | grep . || true
echo "$ops_cpu" | grep '^backend' || true
{
  echo "$ops_cuda" | grep '^OP' | sed 's/^OP /cuda /'
  echo "$ops_cpu" | grep '^OP' | sed 's/^OP /cpu /'
} | awk '
  { be = $1; op = $2; i = 3; while ($i !~ /^[0-9.]+$/) { op = op " " $i; i++ }
    ms[be, op] = $i; gbs[be, op] = $(i + 1); frac[be, op] = $(i + 2)
    if (be == "cuda") order[++n] = op }
  END {
    printf "%-24s %10s %10s %9s %12s %10s\n", "operation", "cuda ms", "cuda GB/s", "of copy", "cpu GB/s", "speed-up"
    for (k = 1; k <= n; k++) { op = order[k]
      printf "%-24s %10.3f %10.1f %9s %12.1f %9.0fx\n", op, ms["cuda", op], gbs["cuda", op], frac["cuda", op],
        gbs["cpu", op], ms["cpu", op] / ms["cuda", op] }
  }'
echo
printf "%-52s %14s %10s\n" "training (reference model, tiered store)" "impressions/s" "prog. AUC"
printf "%s\n%s\n" "$train_cpu" "$train_cuda" | awk -F' [|] ' '{ printf "%-52s %14s %10s\n", substr($1, 8), $2, $3 }'
