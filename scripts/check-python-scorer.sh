#!/usr/bin/env bash
# Checks the Python of docs/model-updates.md against the Java scorer: PythonScorerTest trains a
# model in-process, writes its model-update records, scores 26 requests with io.streamrec.model.
# ModelScorer, and runs the page's checked Python blocks (the decoder and the scorer, as written)
# on the same records; the feature-id test vectors of the page are checked on both sides.
# Needs python3 (standard library only) and a JDK.
#
#   scripts/check-python-scorer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null 2>&1 || { echo "check-python-scorer: python3 is needed" >&2; exit 3; }
echo "check-python-scorer: building and running PythonScorerTest ..."
./mvnw -B -q -o install -DskipTests -Dspotless.check.skip=true -pl tests -am
./mvnw -B -q -o test -pl tests -Dtest=PythonScorerTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dspotless.check.skip=true
echo "check-python-scorer: the page's Python on the test's model (tests/target/python-scorer):"
cd tests/target/python-scorer
python3 --version
python3 check_scorer.py ../../../docs/model-updates.md
