#!/usr/bin/env bash
# The GPU check, on the GPU machine, from the bundle alone: .gpu/ (built by scripts/gpu-bundle.sh)
# next to this script's folder. Needs no JDK, no Maven, no network; runs the bundled Java runtime by
# its path; writes only to OUTDIR and to a work folder in /tmp (removed at the end; KEEP_WORK=1
# keeps it). The whole run ends within 6 minutes.
#
#   bash scripts/gpu-run.sh OUTDIR
#
# Steps, each under its own time limit (and all under one deadline):
#   preflight   the device (nvidia-smi), driver and Java versions; whether a CUDA backend opens
#   host-tests  the CPU backend's contract and the host side of the CUDA backend (launch splitting,
#               scatter-add grouping, the driver check): shows the bundle's tests run at all
#   cuda-tests  the CUDA contract tests, the PTX entry check, backend selection, the class loaders
#               of a restarted task, and the CPU/CUDA training parity test
#   ops-cuda    each operation's GB/s against the device's copy bandwidth (OpBench)
#   ops-cpu     the same on the CPU backend
#   train-cuda  training impressions/s of the reference model at 128, 1,000 and 4,000 units per
#   train-cpu   batch (TrainBench), on CUDA and on the CPU backend (which is single-threaded)
# Without a usable device the CUDA tests run and skip, each naming the reason, and the CUDA
# benchmarks are not run.
#
# Prints a summary table last, also to OUTDIR/summary.txt; each step's output is in
# OUTDIR/<step>.log, the tests' reports in OUTDIR/junit-<step>/.
# Exit status: 0 everything passed on a device; 1 a test failed (or a step failed or ran out of
# time); 2 no usable CUDA device (nothing else wrong); 3 the environment is wrong (no or incomplete
# bundle, the bundled Java does not start, OUTDIR not writable).
set -uo pipefail
start=$(date +%s)
deadline=$((start + ${GPU_RUN_SECONDS:-345}))
here=$(cd "$(dirname "$0")/.." && pwd)
bundle=$here/.gpu
java=$bundle/runtime/bin/java

if [[ $# -ne 1 ]]; then
  echo "usage: bash scripts/gpu-run.sh OUTDIR" >&2
  exit 3
fi
out=$1
if ! mkdir -p "$out" 2>/dev/null || ! touch "$out/.writable" 2>/dev/null; then
  echo "environment: cannot write to $out" >&2
  exit 3
fi
rm -f "$out/.writable"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/gpu-run.XXXXXX) || { echo "environment: cannot make a folder in /tmp" >&2; exit 3; }
mkdir -p "$work/tmp" "$work/home" "$work/nv-cache"
summary=$out/summary.txt
: > "$summary"

# step results: name, status, seconds, note
steps=()
record() { steps+=("$1|$2|$3|$4"); }
env_error=""
test_failed=0
no_device=""

cleanup() {
  [[ "${KEEP_WORK:-0}" == 1 ]] || rm -rf "$work"
}

print_summary() {
  {
    echo
    echo "== GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(( $(date +%s) - start )) s"
    [[ -f $bundle/bundle.txt ]] && sed 's/^/   bundle /' "$bundle/bundle.txt"
    [[ -f $out/device.txt ]] && sed 's/^/   /' "$out/device.txt"
    printf '%-11s %-9s %5s  %s\n' step status time note
    for s in "${steps[@]}"; do
      IFS='|' read -r n st t note <<<"$s"
      printf '%-11s %-9s %4ss  %s\n' "$n" "$st" "$t" "$note"
    done
    if [[ -s $work/classes.txt ]]; then
      echo
      echo "tests by class"
      cat "$work/classes.txt"
    fi
    if [[ -s $work/ops.txt ]]; then
      echo
      cat "$work/ops.txt"
    fi
    if [[ -s $work/train.txt ]]; then
      echo
      cat "$work/train.txt"
    fi
    echo
    if [[ -n $env_error ]]; then
      echo "exit 3: the environment is wrong: $env_error"
    elif [[ $test_failed == 1 ]]; then
      echo "exit 1: a test or a step failed (see the table and OUTDIR/<step>.log)"
    elif [[ -n $no_device ]]; then
      echo "exit 2: no usable CUDA device: $no_device"
    else
      # a skip on the device is no pass: each is named, with its reasons, on the line read last
      local skips="" n st t note
      for s in "${steps[@]}"; do
        IFS='|' read -r n st t note <<<"$s"
        [[ $st == skipped ]] && skips+="${skips:+; }$n: $note"
      done
      if [[ -n $skips ]]; then
        echo "exit 0: every test that ran passed on the device; skipped: $skips"
      else
        echo "exit 0: every test passed on the device"
      fi
    fi
  } | tee "$summary"
}

finish() {
  print_summary
  cleanup
  if [[ -n $env_error ]]; then exit 3; fi
  if [[ $test_failed == 1 ]]; then exit 1; fi
  if [[ -n $no_device ]]; then exit 2; fi
  exit 0
}
trap 'env_error="${env_error:-interrupted}"; finish' INT TERM

# the seconds a step may take: its own limit, or what is left before the deadline
budget() {
  local left=$((deadline - $(date +%s) - 5))
  if (( left < $1 )); then echo "$left"; else echo "$1"; fi
}

# run_step NAME LIMIT COMMAND...: output to OUTDIR/NAME.log; sets step_rc and step_secs
run_step() {
  local name=$1 limit
  limit=$(budget "$2")
  shift 2
  step_secs=0
  step_late=0
  if (( limit < 10 )); then
    step_rc=124
    step_late=1
    echo "(not run: the run's deadline is near)" > "$out/$name.log"
    return
  fi
  local t0
  t0=$(date +%s)
  echo "== $name (limit ${limit}s)"
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1
  step_rc=$?
  step_secs=$(( $(date +%s) - t0 ))
  if (( step_rc == 124 || step_rc == 137 )); then
    echo "(stopped: over its limit of ${limit}s)" >> "$out/$name.log"
  fi
}

# ---- environment ------------------------------------------------------------------------------
for tool in timeout sha256sum awk sed; do
  command -v "$tool" >/dev/null || env_error="${env_error:-$tool is not installed}"
done
if [[ -z $env_error && ! -f $bundle/MANIFEST.txt ]]; then
  env_error="no bundle at $bundle: build it with scripts/gpu-bundle.sh and carry .gpu with the tree"
fi
if [[ -z $env_error ]]; then
  if ! (cd "$bundle" && awk '{ print $1 "  " $3 }' MANIFEST.txt | sha256sum --check --quiet) > "$out/bundle-check.log" 2>&1; then
    env_error="the bundle is incomplete or changed (see $out/bundle-check.log)"
  fi
fi
if [[ -z $env_error ]] && ! "$java" -version > "$out/java.log" 2>&1; then
  env_error="the bundled Java runtime does not start here: $(head -3 "$out/java.log" | paste -sd' ' -)"
fi
if [[ -n $env_error ]]; then
  record environment failed 0 "$env_error"
  finish
fi

cp_rel=$(cat "$bundle/class-path.txt")
cp=$(sed "s#\(^\|:\)#\1$bundle/#g" <<<"$cp_rel")
console=$(ls "$bundle"/tools/junit-platform-console-standalone-*.jar)
export HOME=$work/home CUDA_CACHE_PATH=$work/nv-cache
jvm=("$java" -Xmx8g -XX:-UsePerfData "-XX:ErrorFile=$out/hs_err_%p.log" "-Djava.io.tmpdir=$work/tmp"
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
  --add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED)

# ---- preflight --------------------------------------------------------------------------------
t0=$(date +%s)
{
  echo "host: $(uname -srm); $(nproc) cores; $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory; $(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'glibc ?')"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 |
      sed 's/^/nvidia-smi: /'
  else
    echo "nvidia-smi: not installed"
  fi
  [[ -r /proc/driver/nvidia/version ]] && head -1 /proc/driver/nvidia/version | sed 's/^/driver: /'
  echo "java: $("$java" -version 2>&1 | sed -n 2p) (bundled)"
} > "$out/device.txt" 2>&1
run_step preflight 30 "${jvm[@]}" -cp "$cp" io.streamrec.gpu.bench.DeviceInfo
grep -E '^(kernels|jcuda|driver|cuda):' "$out/preflight.log" >> "$out/device.txt"
case $step_rc in
  0) record preflight ok "$((step_secs))" "$(grep -m1 '^cuda:' "$out/preflight.log")" ;;
  2)
    no_device=$(grep -m1 '^cuda: unavailable: ' "$out/preflight.log" | sed 's/^cuda: unavailable: //')
    no_device=${no_device:-DeviceInfo found none}
    record preflight no-device "$step_secs" "$no_device"
    ;;
  3)
    # a device that would not open: the tests and benchmarks after this run on, and show why
    test_failed=1
    record preflight failed "$step_secs" "$(grep -m1 '^cuda: failed to open: ' "$out/preflight.log")"
    ;;
  *)
    test_failed=1
    record preflight failed "$step_secs" "DeviceInfo exited $step_rc (see preflight.log)"
    ;;
esac

# ---- tests ------------------------------------------------------------------------------------
# run_tests NAME LIMIT CLASS...: the JUnit console launcher on those classes
run_tests() {
  local name=$1 limit=$2
  shift 2
  local select=()
  for c in "$@"; do select+=(--select-class "$c"); done
  rm -rf "$out/junit-$name"
  run_step "$name" "$limit" "${jvm[@]}" -cp "$console:$cp" org.junit.platform.console.ConsoleLauncher \
    execute --disable-banner --details=tree --disable-ansi-colors \
    --reports-dir "$out/junit-$name" "${select[@]}"
  local xml="$out/junit-$name/TEST-junit-jupiter.xml"
  local tests=0 failures=0 errors=0 skipped=0
  if [[ -f $xml ]]; then
    local suite
    suite=$(grep -m1 -o '<testsuite [^>]*>' "$xml")
    attr() { grep -o " $1=\"[0-9]*\"" <<<"$suite" | tr -dc 0-9; }
    tests=$(attr tests) failures=$(attr failures) errors=$(attr errors) skipped=$(attr skipped)
  fi
  local passed=$((tests - failures - errors - skipped))
  local reasons
  # JUnit's XML report: <skipped><![CDATA[...TestAbortedException: Assumption failed: <reason>
  reasons=$(grep -o '<skipped><!\[CDATA\[[^:]*: Assumption failed: .*' "$xml" 2>/dev/null |
    sed 's/.*Assumption failed: //' | sort | uniq -c | sort -rn |
    awk '{ n = $1; $1 = ""; printf "%s%d:%s", (NR > 1 ? "; " : ""), n, $0 }')
  # by class, for the table below the steps
  if [[ -f $xml ]]; then
    awk -v step="$name" '
      function tally() { if (cls != "") { n[cls, st]++; if (!(cls in seen)) { seen[cls] = 1; order[++k] = cls } } }
      /<testcase / { tally(); match($0, /classname="[^"]*"/); cls = substr($0, RSTART + 11, RLENGTH - 12)
                     sub(/.*\./, "", cls); st = "passed" }
      /<skipped/ { st = "skipped" }
      /<failure|<error/ { st = "FAILED" }
      END { tally()
        for (i = 1; i <= k; i++) { c = order[i]; line = ""
          split("passed FAILED skipped", kinds, " ")
          for (j = 1; j <= 3; j++) if ((c, kinds[j]) in n) line = line (line == "" ? "" : ", ") n[c, kinds[j]] " " kinds[j]
          printf "  %-11s %-26s %s\n", step, c, line } }' "$xml" >> "$work/classes.txt"
  fi
  local note="$tests tests: $passed passed, $((failures + errors)) failed, $skipped skipped"
  [[ -n $reasons ]] && note="$note ($reasons)"
  if (( step_late )); then
    test_failed=1
    record "$name" "no time" 0 "not run: the run's deadline was near"
  elif (( step_rc == 124 || step_rc == 137 )); then
    test_failed=1
    record "$name" timeout "$step_secs" "over its time limit; $note"
  elif (( step_rc != 0 || failures + errors > 0 )) || [[ ! -f $xml ]]; then
    test_failed=1
    record "$name" FAILED "$step_secs" "$note (exit $step_rc; see $name.log)"
  elif (( skipped > 0 )); then
    record "$name" skipped "$step_secs" "$note"
  else
    record "$name" passed "$step_secs" "$note"
  fi
}

run_tests host-tests 90 \
  io.streamrec.gpu.CpuBackendTest io.streamrec.gpu.internal.cuda.DistinctRunsTest \
  io.streamrec.gpu.internal.cuda.GroupingTest io.streamrec.gpu.internal.cuda.KernelBuildTest
run_tests cuda-tests 150 \
  io.streamrec.gpu.CudaBackendTest io.streamrec.gpu.CudaKernelsTest io.streamrec.gpu.BackendsTest \
  io.streamrec.gpu.CudaLibraryLoadingTest io.streamrec.model.CudaTrainingParityTest

# ---- benchmarks -------------------------------------------------------------------------------
bench() { # bench NAME LIMIT CLASS ARGS...: a benchmark's main; sets step_rc
  local name=$1 limit=$2
  shift 2
  run_step "$name" "$limit" "${jvm[@]}" -cp "$cp" "$@"
}
bench_status() { # NAME NOTE
  if (( step_late )); then
    test_failed=1
    record "$1" "no time" 0 "not run: the run's deadline was near"
  elif (( step_rc == 0 )); then
    record "$1" ok "$step_secs" "$2"
  elif (( step_rc == 124 || step_rc == 137 )); then
    test_failed=1
    record "$1" timeout "$step_secs" "over its time limit (see $1.log)"
  else
    test_failed=1
    record "$1" FAILED "$step_secs" "exit $step_rc (see $1.log)"
  fi
}
copy_of() { grep -m1 -o 'copy bandwidth [0-9.]* GB/s' "$out/$1.log" 2>/dev/null || true; }

if [[ -z $no_device ]]; then
  bench ops-cuda 60 io.streamrec.gpu.bench.OpBench --backend cuda --iters 50
  bench_status ops-cuda "$(copy_of ops-cuda)"
else
  record ops-cuda "not run" 0 "no usable CUDA device"
fi
bench ops-cpu 90 io.streamrec.gpu.bench.OpBench --backend cpu --iters 3
bench_status ops-cpu "$(copy_of ops-cpu); 1 thread (CpuBackend is single-threaded)"

train_args=(--units "${GPU_RUN_UNITS:-100000}" --batch 128,1000,4000 --rounds 2)
if [[ -z $no_device ]]; then
  bench train-cuda 90 io.streamrec.model.bench.TrainBench "${train_args[@]}" --backend cuda
  bench_status train-cuda "$(grep -m1 '^backend:' "$out/train-cuda.log" 2>/dev/null | sed 's/^backend: //')"
else
  record train-cuda "not run" 0 "no usable CUDA device"
fi
bench train-cpu 90 io.streamrec.model.bench.TrainBench "${train_args[@]}" --backend cpu
bench_status train-cpu "1 thread (CpuBackend is single-threaded) of $(nproc) cores"

# ---- tables -----------------------------------------------------------------------------------
{
  echo "operations: cuda on the device, cpu on one thread (GB/s moved; % of the backend's copy bandwidth)"
  {
    grep '^OP ' "$out/ops-cuda.log" 2>/dev/null | sed 's/^OP /cuda /'
    grep '^OP ' "$out/ops-cpu.log" 2>/dev/null | sed 's/^OP /cpu /'
  } | awk '
    { be = $1; op = $2; i = 3; while ($i !~ /^[0-9.]+$/) { op = op " " $i; i++ }
      ms[be, op] = $i; gbs[be, op] = $(i + 1); frac[be, op] = $(i + 2)
      if (!(op in seen)) { seen[op] = 1; order[++n] = op } }
    END {
      printf "%-24s %10s %10s %8s %10s %8s %9s\n", "operation", "cuda ms", "cuda GB/s", "of copy", "cpu GB/s", "of copy", "speed-up"
      for (k = 1; k <= n; k++) { op = order[k]
        c = (("cuda", op) in ms); p = (("cpu", op) in ms)
        printf "%-24s %10s %10s %8s %10s %8s %9s\n", op,
          c ? sprintf("%.3f", ms["cuda", op]) : "-", c ? gbs["cuda", op] : "-", c ? frac["cuda", op] : "-",
          p ? gbs["cpu", op] : "-", p ? frac["cpu", op] : "-",
          (c && p && ms["cuda", op] > 0) ? sprintf("%.0fx", ms["cpu", op] / ms["cuda", op]) : "-" }
    }'
} > "$work/ops.txt"
{
  echo "training: reference model, tiered store, impressions/s (best of 2 rounds; cpu on one thread of $(nproc))"
  {
    grep '^RESULT request-only' "$out/train-cuda.log" 2>/dev/null
    grep '^RESULT request-only' "$out/train-cpu.log" 2>/dev/null
  } | sed -E 's/^RESULT request-only deep model \[([a-z]+), tiered store, ([0-9]+) units\/batch\] \| ([0-9]+) \| ([0-9.]+)/\1 \2 \3 \4/' |
    awk '
    { rate[$1, $2] = $3; auc[$1, $2] = $4; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
    END {
      printf "%-12s %14s %10s %14s %10s %9s\n", "units/batch", "cuda imps/s", "cuda AUC", "cpu imps/s", "cpu AUC", "cuda/cpu"
      for (k = 1; k <= n; k++) { b = order[k]
        c = (("cuda", b) in rate); p = (("cpu", b) in rate)
        printf "%-12s %14s %10s %14s %10s %9s\n", b,
          c ? rate["cuda", b] : "-", c ? auc["cuda", b] : "-", p ? rate["cpu", b] : "-", p ? auc["cpu", b] : "-",
          (c && p && rate["cpu", b] > 0) ? sprintf("%.1fx", rate["cuda", b] / rate["cpu", b]) : "-" }
    }'
} > "$work/train.txt"

finish
