#!/usr/bin/env bash
# The GPU check on a machine that builds too (JDK, Maven, nvcc): builds the bundle
# (scripts/gpu-bundle.sh) and runs the check from it (scripts/gpu-run.sh), as a bare GPU machine
# runs it. The summary table and each step's output land in OUTDIR (default target/gpu-check).
#
#   scripts/gpu-check.sh [OUTDIR]
#
# Exit status as gpu-run.sh's: 0 passed on a device, 1 a test failed, 2 no usable device,
# 3 the environment is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/gpu-bundle.sh
exec bash scripts/gpu-run.sh "${1:-target/gpu-check}"
