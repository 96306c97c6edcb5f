"""Runs the Python of docs/model-updates.md on a model the Java side trained and scored.

score.py holds the page's checked blocks (the decoder and the scorer), extracted as they are.
In this folder: model-updates.txt (one record a line: key and value in hex, "-" for a null
value), requests.jsonl (one request and its impressions a line, the JSON interchange shape),
java-scores.json (io.streamrec.model.ModelScorer's probabilities of the first label for them) and
java-labels.json (its probabilities of every label: per request, {label: [p, ...]}).

    python3 check_scorer.py PATH/TO/docs/model-updates.md
"""
import json
import re
import sys

from score import Model, feature_id

TOLERANCE = 1e-5

def vectors(page):
    text = open(page, encoding="utf-8").read()
    row = re.compile(r"^\| `([^`]*)` \| (?:`([^`]*)`|\(empty\)) \| `([0-9a-f]{16})` \| `(\d+)` \|$", re.M)
    return [(name, value or "", int(hx, 16), int(dec)) for name, value, hx, dec in row.findall(text)]

failures = []
checked = vectors(sys.argv[1])
for name, value, hx, dec in checked:
    got = feature_id(name, value)
    if not got == hx == dec:
        failures.append(f"feature_id({name!r}, {value!r}) = {got:016x}; the page says {hx:016x} / {dec}")
print(f"feature-id test vectors: {len(checked)} checked, {len(checked) - len(failures)} as the page says")

model = Model()
records = 0
for line in open("model-updates.txt"):
    key, value = line.split()
    model.apply(bytes.fromhex(key), None if value == "-" else bytes.fromhex(value))
    records += 1
print(f"model: {records} records read, version {model.version}, {len(model.rows)} rows, "
      f"dense blocks {sorted(model.dense)}")

expected = json.load(open("java-scores.json"))
worst, n = 0.0, 0
for number, (line, java) in enumerate(zip(open("requests.jsonl"), expected)):
    q = json.loads(line)
    python = model.score(q["request"], q["impressions"])
    if len(python) != len(java):
        failures.append(f"request {number}: {len(python)} scores, Java gave {len(java)}")
        continue
    for p, j in zip(python, java):
        worst, n = max(worst, abs(p - j)), n + 1
    if number == 0:
        print(f"request 0 ({q['request']['requestId']}): python {[round(p, 6) for p in python]}")
        print(f"                     java   {[round(j, 6) for j in java]}")
print(f"scores: {n} impressions of {len(expected)} requests, max |python - java| = {worst:.2e} "
      f"(tolerance {TOLERANCE:.0e})")

expected_labels = json.load(open("java-labels.json"))
worst_label, m, labels = 0.0, 0, []
for number, (line, java) in enumerate(zip(open("requests.jsonl"), expected_labels)):
    q = json.loads(line)
    python = model.score_labels(q["request"], q["impressions"])
    if list(python) != list(java):
        failures.append(f"request {number}: labels {list(python)}, Java gave {list(java)}")
        continue
    labels = list(java)
    for label in java:
        if len(python[label]) != len(java[label]):
            failures.append(f"request {number} label {label}: {len(python[label])} scores, "
                            f"Java gave {len(java[label])}")
            continue
        for p, j in zip(python[label], java[label]):
            worst_label, m = max(worst_label, abs(p - j)), m + 1
print(f"every label {labels}: {m} scores, max |python - java| = {worst_label:.2e}")
worst = max(worst, worst_label)
if len(labels) < 2 and model.spec["towers"]["request"]:
    # with towers, each label has a head output of its own to check; without, a model has one label
    failures.append(f"labels {labels}: the check needs a model of more than one label")
if worst > TOLERANCE:
    failures.append(f"max |python - java| = {worst} > {TOLERANCE}")
if n == 0 or m == 0:
    failures.append("nothing was scored")
for f in failures:
    print("FAILED: " + f)
print("the Python scorer matches the Java scorer" if not failures else "MISMATCH")
sys.exit(1 if failures else 0)
