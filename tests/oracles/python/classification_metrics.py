#!/usr/bin/python3
"""Reference metrics for `sharptune eval`, computed with scikit-learn (Debian's python3-sklearn) and numpy.

usage: classification_metrics.py PREDICTIONS.jsonl LABELS POSITIVE RESAMPLES SEED
  Reads the predictions file itself (label, answer: a label or null = unparseable, p or scores) and prints one JSON
  object: accuracy, macro_f1, per_class, confusion (with the unparseable column), unparseable, and when every record
  has p or scores: roc_auc, log_loss, best_threshold, best_threshold_accuracy; with RESAMPLES > 0 the percentile
  bootstrap intervals, resampling with an independent SplitMix64 (the documented generator) seeded with SEED.
"""
import json, sys
import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, log_loss, precision_recall_fscore_support,
                             roc_auc_score)

from splitmix64 import SplitMix64

UNPARSEABLE = "\x00unparseable"


def main():
    path, labels, positive, resamples, seed = sys.argv[1:6]
    labels = labels.split(",")
    resamples, seed = int(resamples), int(seed)
    records = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    y_true = [r["label"] for r in records]
    y_pred = [r["answer"] if r["answer"] is not None else UNPARSEABLE for r in records]
    out = {"n": len(records), "unparseable": sum(1 for a in y_pred if a == UNPARSEABLE)}
    out["accuracy"] = accuracy_score(y_true, y_pred)
    out["macro_f1"] = f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out["per_class"] = {l: {"precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])} for i, l in enumerate(labels)}
    cm = confusion_matrix(y_true, y_pred, labels=labels + [UNPARSEABLE])
    out["confusion"] = {l: {**{m: int(cm[i][j]) for j, m in enumerate(labels)}, "unparseable": int(cm[i][len(labels)])}
                        for i, l in enumerate(labels)}
    if all("p" in r or "scores" in r for r in records):
        probs = []
        for r in records:
            if "p" in r:
                probs.append(r["p"])
            else:
                s = np.array([r["scores"][l] for l in labels])
                e = np.exp(s - s.max())
                probs.append(float(e[labels.index(positive)] / e.sum()))
        probs = np.array(probs)
        y = np.array([1 if t == positive else 0 for t in y_true])
        out["roc_auc"] = roc_auc_score(y, probs) if 0 < y.sum() < len(y) else None
        out["log_loss"] = log_loss(y, probs, labels=[0, 1])
        best_t, best_acc = None, -1.0
        for t in sorted(set(probs.tolist())):
            acc = accuracy_score(y, (probs >= t).astype(int))
            if acc > best_acc:
                best_t, best_acc = t, acc
        out["best_threshold"], out["best_threshold_accuracy"] = best_t, best_acc
    if resamples > 0:
        rng = SplitMix64(seed)
        n = len(records)
        accs, f1s = [], []
        for _ in range(resamples):
            idx = [rng.next_below(n) for _ in range(n)]
            t = [y_true[i] for i in idx]
            q = [y_pred[i] for i in idx]
            accs.append(accuracy_score(t, q))
            f1s.append(f1_score(t, q, labels=labels, average="macro", zero_division=0))
        out["intervals"] = {"accuracy": np.percentile(accs, [2.5, 97.5]).tolist(),
                            "macro_f1": np.percentile(f1s, [2.5, 97.5]).tolist()}
    print(json.dumps(out))


main()
