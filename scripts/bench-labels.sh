#!/usr/bin/env bash
# What a second label costs the first, and what model.label-weights gives back: the MovieLens
# ratings (as scripts/bench-quality.sh fetches them: Debian's r-cran-dslabs, downloaded at run time)
# with two labels, "click" (4 stars or more) and "loved" (5 stars), under request-level
# test-then-train. Prints each label's AUC over the whole stream and its last 20%, and its log loss,
# as means over draws of the initial weights.
#
#   scripts/bench-labels.sh [SEEDS]     (default 3; about 15 s a draw on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-3}"
mvn=(./mvnw -B -q -Dspotless.check.skip=true)
if [ -n "${STREAMREC_OFFLINE:-}" ]; then mvn+=(-o); fi
dslabs=target/datasets/r-cran-dslabs
if [ ! -f "$dslabs/usr/lib/R/site-library/dslabs/data/Rdata.rdx" ]; then
  echo "fetching Debian's r-cran-dslabs (the MovieLens ratings inside) with apt-get download..." >&2
  mkdir -p target/datasets
  (cd target/datasets && rm -f r-cran-dslabs_*.deb && { apt-get download -q r-cran-dslabs >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get download -q r-cran-dslabs >/dev/null; }; })
  dpkg-deb -x target/datasets/r-cran-dslabs_*.deb "$dslabs"
fi
"${mvn[@]}" install -DskipTests -pl model -am
"${mvn[@]}" -pl model test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
java -cp "model/target/test-classes:model/target/classes:$(cat model/target/cp.txt)" \
  io.streamrec.model.bench.LabelWeightsBench --movielens "$dslabs" --seeds "$seeds"
