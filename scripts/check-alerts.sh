#!/usr/bin/env bash
# Checks k8s/alerts.yaml with Prometheus' own tool: promtool parses every rule (its PromQL and its
# annotations' templates), then runs scripts/alerts-test.yaml, which feeds each alert series that
# should fire it and series that should not. promtool comes with Debian's prometheus package
# (apt-get install prometheus) or Prometheus' release archive.
#
#   scripts/check-alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null; then
  echo "promtool not found: apt-get install prometheus (Debian), or put Prometheus' promtool on PATH" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# the PrometheusRule's groups as a plain rules file: whole for the check, without annotations for
# the unit tests (which compare an alert's annotations too, and these say what to do at length)
python3 - "$work" <<'PY'
import sys, yaml
work = sys.argv[1]
rule = yaml.safe_load(open("k8s/alerts.yaml"))
groups = rule["spec"]["groups"]
yaml.safe_dump({"groups": groups}, open(f"{work}/alerts.yml", "w"), sort_keys=False)
for g in groups:
    for r in g["rules"]:
        r.pop("annotations", None)
yaml.safe_dump({"groups": groups}, open(f"{work}/rules.yml", "w"), sort_keys=False)
PY
cp scripts/alerts-test.yaml "$work/"
promtool check rules "$work/alerts.yml"
promtool test rules "$work/alerts-test.yaml"
