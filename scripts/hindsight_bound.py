#!/usr/bin/env python3
"""How far an online model is from one that knows the whole stream: a hindsight reference.

Reads the units and features QualityBench writes (`QualityBench ... --out DIR`: STREAM.units.jsonl
and STREAM.spec.json), and predicts every impression with gradient-boosted trees (scikit-learn's
HistGradientBoostingClassifier, up to 300 trees of learning rate 0.05 with early stopping on a tenth
of the training fold, categorical features native where they have at most 255 values) trained on
the other four fifths of the stream, in five random folds:
each prediction is made by a model that saw the stream's future as well as its past. Prints one
HINDSIGHT line as QualityBench prints its QUALITY lines: AUC and log loss over the whole stream and
over its last --last-frac.

This is no baseline: no online learner can have these predictions. It is the figure an online
model's lifetime AUC stays below on the same features, and so tells how much room a stream leaves
(docs/benchmarks.md, "How much room the bank stream leaves").

Needs Debian's python3-sklearn (apt-get install python3-sklearn).

Usage: python3 scripts/hindsight_bound.py DIR/STREAM.units.jsonl --spec DIR/STREAM.spec.json
                                          [--name STREAM] [--last-frac 0.2]
"""
import argparse
import json

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, cross_val_predict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("units")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--name", default="stream")
    ap.add_argument("--last-frac", type=float, default=0.2)
    a = ap.parse_args()
    spec = json.load(open(a.spec))
    req_cat = [f for f, _ in spec["request"]]
    imp_cat = [f for f, _ in spec["impression"]]
    codes = {f: {} for f in req_cat + imp_cat}

    def code(feature, values):
        # a multi-valued feature (a history) as the set of its values
        v = "|".join(sorted(values))
        return codes[feature].setdefault(v, len(codes[feature]))

    rows, y = [], []
    for line in open(a.units):
        u = json.loads(line)
        r = u["request"]
        for i in u["impressions"]:
            rows.append([code(f, r["features"].get(f, [])) for f in req_cat]
                        + [code(f, i["features"].get(f, [])) for f in imp_cat]
                        + [r["dense"].get(f, 0.0) for f in spec["request_dense"]]
                        + [i["dense"].get(f, 0.0) for f in spec["impression_dense"]])
            y.append(float(i["labels"].get(spec["label"], 0)))
    x, y = np.array(rows, dtype=np.float64), np.array(y)
    categorical = np.array([k < len(codes) and len(codes[(req_cat + imp_cat)[k]]) <= 255
                            for k in range(x.shape[1])])
    # up to 300 trees: scikit-learn's early stopping (on above 10,000 rows) holds a tenth of each
    # training fold out and stops where it stops gaining, which scores better here than all 300
    # trees on the whole fold (bank: 0.8133 / 0.7918 against 0.8125 / 0.7922)
    model = HistGradientBoostingClassifier(categorical_features=categorical, max_iter=300,
                                           learning_rate=0.05, early_stopping=True,
                                           random_state=0)
    p = cross_val_predict(model, x, y, cv=KFold(5, shuffle=True, random_state=0),
                          method="predict_proba")[:, 1]
    last = int(round(len(y) * a.last_frac))
    print(f"HINDSIGHT {a.name} | gradient-boosted trees, 5-fold, trained on the rest of the stream | "
          f"{len(y)} | {roc_auc_score(y, p):.4f} | {roc_auc_score(y[-last:], p[-last:]):.4f} | "
          f"{clipped_log_loss(y, p):.4f} | {clipped_log_loss(y[-last:], p[-last:]):.4f}")


def clipped_log_loss(y, p):
    """Mean log loss with p clipped to [1e-7, 1 - 1e-7], as every other runner of the benchmark."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


if __name__ == "__main__":
    main()
