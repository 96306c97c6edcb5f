#!/usr/bin/env bash
# Regenerates README.md's configuration table from the job's option declarations (ConfigDocs).
# Run after adding or changing an option; JobConfigTest fails while the README is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -o install -DskipTests -pl flink-job -am
# the job's class path with Flink, which the job jar leaves to the cluster ('provided')
./mvnw -B -q -o -pl flink-job dependency:build-classpath -Dmdep.outputFile=target/config-docs.cp -DincludeScope=compile
cp="flink-job/target/classes:$(cat flink-job/target/config-docs.cp)"
table="$(java -cp "$cp" io.streamrec.job.config.ConfigDocs)"
TABLE="$table" python3 - <<'PY'
import os, re
readme = open("README.md").read()
begin = "<!-- config-table:begin"
end = "<!-- config-table:end -->"
i, j = readme.index(begin), readme.index(end) + len(end)
table = os.environ["TABLE"].rstrip("\n")
open("README.md", "w").write(readme[:i] + table + readme[j:])
PY
echo "README.md configuration table updated"
