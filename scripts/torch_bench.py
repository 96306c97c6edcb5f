#!/usr/bin/env python3
"""The reference model of streamrec in PyTorch (CPU), for the training benchmark.

Reads the units file TrainBench writes (one JSON object per line: a request and its impressions),
trains the same architecture on the same minibatches in the same order, scoring every impression
before learning from it, and prints one RESULT line: impressions/s and the progressive AUC over the
last 100,000 impressions. Same features (by default) (user_id, country, recent_items mean-pooled over the
item_id table / item_id, item_cat; hour / position as sign(x)*log1p|x|), same parts (wide per-id
weights, dense linear weights, factorised cross of the pooled request and impression embeddings
with a learnt weight per request-feature x impression-feature pair (field-weighted), request tower [32,16] once per request, impression tower [32,16], head [16] over [r, v, r*v]), same
optimisers where PyTorch has them (Adagrad on embedding and wide rows with the same learning
rates — element-wise, as PyTorch has no row-wise Adagrad — and Adam on dense weights).

With --spec FILE the features are those the file names (as QualityBench writes it: request and
impression categorical features as [name, table] pairs, their dense features, the label), and with
--quality STREAM it prints instead one QUALITY line as QualityBench does: impressions, AUC over the
whole stream and over its last --last-frac, log loss and calibration (mean prediction / observed
rate) over both, impressions/s.

With --history-pooling, the request's history features (request features in the same table as an
impression feature, e.g. recent_items over item_id) are read otherwise than mean-pooled into the
factorised cross: "attention" attends them from the impression's item (weights softmax(<h_j, e_item>
/ sqrt(dim) * s) over the history's rows, with a learnt scale s; the weighted sum dotted with the
item's embedding times a learnt gain enters the logit in place of the history's share of the
factorised cross; the mean-pooled history stays in the request tower, computed once per request),
and "drop" leaves them out. With --cross sum every pair of the factorised cross weighs 1 (one dot of
the sides' summed embeddings), as streamrec's model.factorised-cross: sum; by default each pair has a
learnt weight (a field-weighted FM), as streamrec's default.
With --wide-crosses request-impression every pair of a single-valued request feature's value and a
single-valued impression feature's value has a wide weight of its own, as streamrec's
model.wide-crosses: request-impression (rows learnt as the wide rows are); "field-weighted" also
weighs each request-field x impression-field pair's crosses by a learnt weight (from 1, by Adam),
as streamrec's model.wide-crosses: field-weighted.
With --wide-optimizer ftrl the wide rows (and the crosses' rows) learn by FTRL-Proximal per weight
(alpha the wide rows' learning rate, beta 1, L1 1, L2 1), as streamrec's model.wide-optimizer: ftrl.
A multi-valued feature's wide weights are pooled per feature, their mean one term of the logit, as
streamrec's default model.wide-pooling: per-feature; with --wide-pooling sum each value's weight is
a term of its own, as model.wide-pooling: sum.
Experiments, for the ablations of docs/benchmarks.md.

Usage: python3 scripts/torch_bench.py UNITS.jsonl [--batch 128] [--threads 2]
                                      [--spec SPEC.json --quality STREAM --last-frac 0.2]
                                      [--adagrad-init A] [--history-pooling mean|attention|drop]
                                      [--seed 7] [--cross field-weighted|sum]
                                      [--wide-crosses none|request-impression|field-weighted]
                                      [--wide-optimizer adagrad|ftrl] [--wide-pooling per-feature|sum]

The same arguments give the same figures: the initial weights depend on --seed alone.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
from torch import nn

DIM, WINDOW = 16, 100_000
REQ_CAT = [("user_id", "user_id"), ("country", "country"), ("recent_items", "item_id")]
IMP_CAT = [("item_id", "item_id"), ("item_cat", "item_cat")]
REQ_DENSE = ["hour"]
IMP_DENSE = ["position"]
LABEL = "click"
HISTORY = "mean"  # --history-pooling
CROSS = "field-weighted"  # --cross
WIDE_CROSSES = "none"  # --wide-crosses
WIDE_POOLING = "per-feature"  # --wide-pooling


def history_features():
    """Positions of (request history feature, impression target feature) pairs sharing a table."""
    return [(k, [j for j, (_, ti) in enumerate(IMP_CAT) if ti == t][0])
            for k, (_, t) in enumerate(REQ_CAT) if any(ti == t for _, ti in IMP_CAT)]


def squash(x):
    return math.copysign(math.log1p(abs(x)), x)


class Vocab:
    """Collisionless ids: one row per distinct value, as streamrec's store keeps them."""

    def __init__(self):
        self.ids = {}

    def __call__(self, value):
        i = self.ids.get(value)
        if i is None:
            i = self.ids[value] = len(self.ids)
        return i


def mlp(sizes):
    layers = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Model(nn.Module):
    def __init__(self, rows):
        super().__init__()
        self.emb = nn.ModuleDict({t: nn.EmbeddingBag(n, DIM, mode="mean", sparse=True)
                                  for t, n in rows["emb"].items()})
        for e in self.emb.values():
            nn.init.uniform_(e.weight, -0.05, 0.05)
        self.wide = nn.EmbeddingBag(rows["wide"], 1, mode="sum", sparse=True)
        nn.init.zeros_(self.wide.weight)
        self.linear = nn.Linear(len(REQ_DENSE) + len(IMP_DENSE), 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.req_tower = mlp([len(REQ_CAT) * DIM + len(REQ_DENSE), 32, 16])
        self.imp_tower = mlp([len(IMP_CAT) * DIM + len(IMP_DENSE), 32, 16])
        self.head = mlp([48, 16, 1])
        nn.init.zeros_(self.head[-1].weight)
        self.history = history_features() if HISTORY == "attention" else []
        self.att_scale = nn.Parameter(torch.ones(len(self.history)))
        self.att_gain = nn.Parameter(torch.ones(len(self.history)))
        # field-weighted (the default): one learnt weight per request-field x impression-field pair
        self.pair_weight = nn.Parameter(torch.ones(len(REQ_CAT) * len(IMP_CAT))) if CROSS != "sum" else None
        # last, so that without them every other initial weight is drawn as before
        if WIDE_CROSSES != "none":
            self.cross_rows = nn.Embedding(rows["crosses"] + 1, 1, sparse=True)  # row 0: no cross
            nn.init.zeros_(self.cross_rows.weight)
            if WIDE_CROSSES == "field-weighted":
                self.cross_weight = nn.Parameter(torch.ones(len(REQ_CAT) * len(IMP_CAT)))

    def forward(self, b):
        req = [self.emb[t](ids, offs) for (name, t), (ids, offs) in zip(REQ_CAT, b["req"])]
        imp = [self.emb[t](ids, offs) for (name, t), (ids, offs) in zip(IMP_CAT, b["imp"])]
        unit = b["unit"]
        attended = [k for k, _ in self.history]
        if self.pair_weight is not None:  # Σ_f Σ_g w_fg <e_r,f, e_i,g> (FwFM) instead of Σ_f e_r,f · Σ_g e_i,g
            sides = torch.stack([r if k not in attended else torch.zeros_like(r) for k, r in enumerate(req)], 1)
            dots = torch.einsum("nfd,ngd->nfg", sides[unit], torch.stack(imp, 1))  # pair (f, g) at f*|imp|+g
            fm = dots.reshape(len(unit), -1) @ self.pair_weight
        else:
            fm = (sum(r for k, r in enumerate(req) if k not in attended)[unit] * sum(imp)).sum(1)
        for a, (k, j) in enumerate(self.history):
            rows = nn.functional.embedding(b["hist"][a], self.emb[REQ_CAT[k][1]].weight, sparse=True)[unit]
            mask = b["hist_mask"][a][unit]
            target = imp[j]
            score = (rows * target.unsqueeze(1)).sum(2) * (self.att_scale[a] / math.sqrt(DIM))
            weight = torch.softmax(score.masked_fill(~mask, -1e9), 1) * mask  # empty history: all 0
            fm = fm + self.att_gain[a] * ((weight.unsqueeze(2) * rows).sum(1) * target).sum(1)
        wide = self.wide_part(b["wide_req"])[unit] + self.wide_part(b["wide_imp"])
        if WIDE_CROSSES != "none":  # b["crosses"]: per impression a row per field pair, 0 for none
            crosses = self.cross_rows(b["crosses"]).squeeze(2) * (b["crosses"] > 0)
            if WIDE_CROSSES == "field-weighted":
                crosses = crosses * self.cross_weight
            wide = wide + crosses.sum(1)
        dense = torch.cat([b["req_dense"][unit], b["imp_dense"]], 1)
        r = self.req_tower(torch.cat(req + [b["req_dense"]], 1))[unit]
        v = self.imp_tower(torch.cat(imp + [b["imp_dense"]], 1))
        head = self.head(torch.cat([r, v, r * v], 1)).squeeze(1)
        return self.linear(dense).squeeze(1) + wide + fm + (r * v).sum(1) + head


    def wide_part(self, bag):
        ids, offs = bag[0], bag[1]
        return self.wide(ids, offs, per_sample_weights=bag[2] if len(bag) > 2 else None).squeeze(1)


class Ftrl:
    """FTRL-Proximal per weight on sparse-gradient rows (McMahan et al., KDD 2013), in streamrec's
    order: n' = n + g^2, sigma = (sqrt(n') - sqrt(n)) / alpha, z' = z + g - sigma * w,
    w' = 0 if |z'| <= l1 else -(z' - sign(z') l1) / ((beta + sqrt(n')) / alpha + l2)."""

    def __init__(self, params, alpha, beta=1.0, l1=1.0, l2=1.0):
        self.params, self.alpha, self.beta, self.l1, self.l2 = params, alpha, beta, l1, l2
        self.state = [(torch.zeros_like(p.data), torch.zeros_like(p.data)) for p in params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p, (z, n) in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad.coalesce()
            rows, gv = g.indices()[0], g.values()
            n0, w = n[rows], p.data[rows]
            n1 = n0 + gv * gv
            z1 = z[rows] + gv - (n1.sqrt() - n0.sqrt()) / self.alpha * w
            z[rows], n[rows] = z1, n1
            p.data[rows] = torch.where(z1.abs() <= self.l1, torch.zeros_like(z1),
                                       -(z1 - z1.sign() * self.l1) / ((self.beta + n1.sqrt()) / self.alpha + self.l2))


def bags(lists):
    ids, offs = [], []
    for l in lists:
        offs.append(len(ids))
        ids.extend(l)
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offs, dtype=torch.long)


def cross_rows(units, imps, unit, crosses):
    """Per impression, per request-field x impression-field pair, the row of the pair of values
    (both single-valued) or 0."""
    out = []
    for i, k in zip(imps, unit):
        req = units[k]["request"]["features"]
        row = []
        for rn, _ in REQ_CAT:
            rv = req.get(rn, [])
            for iname, _ in IMP_CAT:
                iv = i["features"].get(iname, [])
                row.append(crosses((rn, rv[0], iname, iv[0])) + 1 if len(rv) == 1 and len(iv) == 1 else 0)
        out.append(row)
    return torch.tensor(out, dtype=torch.long).reshape(len(imps), len(REQ_CAT) * len(IMP_CAT))


def wide_bags(rows, cat, wide):
    """Per row a bag of its features' wide ids; pooled per feature (--wide-pooling per-feature),
    each value weighs 1 / the number of its feature's values, so a mean-pooled feature adds the
    mean of its values' weights; summed, every value weighs 1."""
    ids, offs = bags([[wide((n, v)) for n, _ in cat for v in f.get(n, [])] for f in rows])
    if WIDE_POOLING == "per-feature":
        return ids, offs, torch.tensor([1.0 / len(f[n]) for f in rows for n, _ in cat for _ in f.get(n, [])])
    return ids, offs


def encode(units, vocabs, wide, crosses):
    b = {"req": [], "imp": []}
    imps = [i for u in units for i in u["impressions"]]
    b["unit"] = torch.tensor([k for k, u in enumerate(units) for _ in u["impressions"]], dtype=torch.long)
    for name, t in REQ_CAT:
        b["req"].append(bags([[vocabs[t](v) for v in u["request"]["features"].get(name, [])] for u in units]))
    for name, t in IMP_CAT:
        b["imp"].append(bags([[vocabs[t](v) for v in i["features"].get(name, [])] for i in imps]))
    b["wide_req"] = wide_bags([u["request"]["features"] for u in units], REQ_CAT, wide)
    b["wide_imp"] = wide_bags([i["features"] for i in imps], IMP_CAT, wide)
    if WIDE_CROSSES != "none":
        b["crosses"] = cross_rows(units, imps, b["unit"].tolist(), crosses)
    b["req_dense"] = torch.tensor([[squash(u["request"]["dense"].get(n, 0.0)) for n in REQ_DENSE] for u in units],
                                  dtype=torch.float32).reshape(len(units), len(REQ_DENSE))
    b["imp_dense"] = torch.tensor([[squash(i["dense"].get(n, 0.0)) for n in IMP_DENSE] for i in imps],
                                  dtype=torch.float32).reshape(len(imps), len(IMP_DENSE))
    b["hist"], b["hist_mask"] = [], []
    for k, _ in (history_features() if HISTORY == "attention" else []):
        name, t = REQ_CAT[k]
        rows = [[vocabs[t](v) for v in u["request"]["features"].get(name, [])] for u in units]
        width = max(1, max(len(r) for r in rows))
        b["hist"].append(torch.tensor([r + [0] * (width - len(r)) for r in rows], dtype=torch.long))
        b["hist_mask"].append(torch.tensor([[True] * len(r) + [False] * (width - len(r)) for r in rows]))
    b["y"] = torch.tensor([float(i["labels"].get(LABEL, 0)) for i in imps])
    return b


def auc(p, y):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    # average ranks of ties
    ps = p[order]
    i = 0
    while i < len(ps):
        j = i
        while j + 1 < len(ps) and ps[j + 1] == ps[i]:
            j += 1
        if j > i:
            ranks[order[i:j + 1]] = (i + j + 2) / 2
        i = j + 1
    pos = y > 0.5
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def logloss(p, y):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("units")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spec")
    ap.add_argument("--quality")
    ap.add_argument("--last-frac", type=float, default=0.2)
    ap.add_argument("--adagrad-init", type=float, default=0.0,
                    help="Adagrad's initial_accumulator_value on embedding and wide rows (PyTorch's default 0)")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of the initial weights (7 when not given; when given, the row's name says it)")
    ap.add_argument("--cross", choices=["field-weighted", "sum"], default="field-weighted",
                    help="the factorised cross: a learnt weight per request x impression field pair"
                         " (FwFM, streamrec's default), or one dot of the sides' summed embeddings")
    ap.add_argument("--history-pooling", choices=["mean", "attention", "drop"], default="mean",
                    help="how request history features sharing a table with an impression feature are read")
    ap.add_argument("--wide-crosses", choices=["none", "request-impression", "field-weighted"], default="none",
                    help="a wide weight per pair of single-valued request and impression values; field-weighted:"
                         " and a learnt weight per field pair on them")
    ap.add_argument("--wide-pooling", choices=["per-feature", "sum"], default="per-feature",
                    help="a multi-valued feature's wide weights: their mean (as streamrec's default) or their sum")
    ap.add_argument("--wide-optimizer", choices=["adagrad", "ftrl"], default="adagrad",
                    help="how the wide rows (and the crosses' rows) learn: Adagrad, or FTRL-Proximal")
    a = ap.parse_args()
    global REQ_CAT, IMP_CAT, REQ_DENSE, IMP_DENSE, LABEL, HISTORY, CROSS, WIDE_CROSSES, WIDE_POOLING
    HISTORY, CROSS, WIDE_CROSSES, WIDE_POOLING = a.history_pooling, a.cross, a.wide_crosses, a.wide_pooling
    if a.spec:
        spec = json.load(open(a.spec))
        REQ_CAT = [tuple(f) for f in spec["request"]]
        IMP_CAT = [tuple(f) for f in spec["impression"]]
        REQ_DENSE, IMP_DENSE, LABEL = spec["request_dense"], spec["impression_dense"], spec["label"]
    if HISTORY == "drop":
        REQ_CAT = [REQ_CAT[k] for k in range(len(REQ_CAT)) if k not in dict(history_features())]
    torch.set_num_threads(a.threads)
    torch.manual_seed(7 if a.seed is None else a.seed)
    units = [json.loads(l) for l in open(a.units)]
    # tables in the order the features name them: the order the parameters are created, and so drawn,
    # in (a set's order would follow PYTHONHASHSEED and change the initial weights from run to run)
    vocabs = {t: Vocab() for t in dict.fromkeys(t for _, t in REQ_CAT + IMP_CAT)}
    wide, crosses = Vocab(), Vocab()
    chunks = [units[i:i + a.batch] for i in range(0, len(units), a.batch)]
    # encode every batch first, untimed, as streamrec's trainer gets units whose values its parallel
    # stages already hashed (and sizes the tables: the ids are then stable lookups)
    batches = [encode(c, vocabs, wide, crosses) for c in chunks]
    model = Model({"emb": {t: max(1, len(v.ids)) for t, v in vocabs.items()}, "wide": max(1, len(wide.ids)),
                   "crosses": len(crosses.ids)})
    sparse = list(model.emb.parameters())
    opt_e = torch.optim.Adagrad(sparse, lr=0.1, initial_accumulator_value=a.adagrad_init)
    wide_rows = list(model.wide.parameters()) + (list(model.cross_rows.parameters()) if WIDE_CROSSES != "none" else [])
    opt_w = (Ftrl(wide_rows, alpha=0.05) if a.wide_optimizer == "ftrl"
             else torch.optim.Adagrad(wide_rows, lr=0.05, initial_accumulator_value=a.adagrad_init))
    dense = [p for n, p in model.named_parameters() if not n.startswith(("emb.", "wide.", "cross_rows."))]
    opt_d = torch.optim.Adam(dense, lr=0.005)
    loss_fn = nn.BCEWithLogitsLoss(reduction="sum")
    preds, labels = [], []
    n = 0
    t0 = time.perf_counter()
    for b in batches:
        logits = model(b)
        preds.append(torch.sigmoid(logits).detach().numpy())
        labels.append(b["y"].numpy())
        loss = loss_fn(logits, b["y"])
        opt_e.zero_grad()
        opt_w.zero_grad()
        opt_d.zero_grad()
        loss.backward()
        for p in dense:  # streamrec averages the dense gradient over the batch
            if p.grad is not None:  # (the attention's scale and gain without a history in the batch)
                p.grad /= len(b["y"])
        opt_e.step()
        opt_w.step()
        opt_d.step()
        n += len(b["y"])
    secs = time.perf_counter() - t0
    if a.quality:
        p, y = np.concatenate(preds).astype(np.float64), np.concatenate(labels).astype(np.float64)
        # as the Java models cut it: Math.round (halves up), and none for a fraction of 0
        tail = slice(len(p) - int(math.floor(len(p) * a.last_frac + 0.5)), None)
        name = f"PyTorch {torch.__version__}, same model" + (
            f", Adagrad from {a.adagrad_init:g}" if a.adagrad_init else "") + (
            f", history {a.history_pooling}" if a.history_pooling != "mean" else "") + (
            ", summed cross" if a.cross == "sum" else "") + (
            {"none": "", "request-impression": ", wide crosses",
             "field-weighted": ", wide crosses weighted per field pair"}[a.wide_crosses]) + (
            ", FTRL wide rows" if a.wide_optimizer == "ftrl" else "") + (
            ", wide weights summed" if a.wide_pooling == "sum" else "") + (
            f", seed {a.seed}" if a.seed is not None else "")
        print(f"QUALITY {a.quality} | {name} | {len(p)} | {auc(p, y):.4f} | "
              f"{auc(p[tail], y[tail]):.4f} | {logloss(p, y):.4f} | {logloss(p[tail], y[tail]):.4f} | "
              f"{p.sum() / y.sum():.3f} | {p[tail].sum() / y[tail].sum():.3f} | {n / secs:.0f}")
        return
    p, y = np.concatenate(preds)[-WINDOW:], np.concatenate(labels)[-WINDOW:]
    print(f"RESULT PyTorch {torch.__version__} ({a.threads} threads) | {n / secs:.0f} | {auc(p, y):.4f}")


if __name__ == "__main__":
    main()
