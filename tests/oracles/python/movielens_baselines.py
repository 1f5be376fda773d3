#!/usr/bin/python3
"""Independent reference for the deterministic baselines of `sharptune baselines` on an ml-latest dataset prepared
with the default user split: rebuilds timelines and the user split from ratings.csv (the documented SplitMix64
shuffle), checks that its test records are those of test_raw.jsonl, and scores majority, user_history_mean and
item_mean with the definitions of docs/evaluation.md; metrics by scikit-learn.

usage: movielens_baselines.py RATINGS.csv PREPARED_DIR
"""
import csv, json, math, os, sys
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score

from splitmix64 import SplitMix64



def best_threshold(values, yes):
    """Among the distinct values, the t maximizing accuracy of 'Yes when value >= t'; ties: the smallest t."""
    values, yes = np.asarray(values), np.asarray(yes)
    best_t, best_right = None, -1
    for t in np.unique(values):  # ascending
        right = int(np.sum((values >= t) == yes))
        if right > best_right:
            best_t, best_right = float(t), right
    return best_t


def metrics(y_true, y_pred, score=None):
    labels = ["Yes", "No"]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    out = {"n": len(y_true), "accuracy": accuracy_score(y_true, y_pred),
           "macro_f1": f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
           "per_class": {l: {"precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])} for i, l in enumerate(labels)},
           "confusion": {l: {m: int(cm[i][j]) for j, m in enumerate(labels)} for i, l in enumerate(labels)}}
    if score is not None:
        out["roc_auc"] = roc_auc_score([1 if t == "Yes" else 0 for t in y_true], score)
    return out


def main():
    ratings_path, prepared = sys.argv[1:3]
    summary = json.load(open(os.path.join(prepared, "summary.json"), encoding="utf-8"))
    o = summary["options"]
    assert o["split"] == "user" and o["format"] == "latest", "the oracle covers the default user split of ml-latest files"
    h, seed = o["history_len"], o["seed"]
    threshold = math.ceil(round(o["rating_threshold"] * 10, 6))
    timelines = {}
    with open(ratings_path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for r in rows:
            if r:
                timelines.setdefault(int(r[0]), []).append((int(r[3]), int(r[1]), round(float(r[2]) * 10)))
    for t in timelines.values():
        t.sort()  # (timestamp, movieId)
    kept = [u for u in sorted(timelines) if len(timelines[u]) > h]
    rng = SplitMix64(seed)
    for i in range(len(kept) - 1, 0, -1):
        j = rng.next_below(i + 1)
        kept[i], kept[j] = kept[j], kept[i]
    n_test = min(len(kept), math.floor(len(kept) * o["test_ratio"] + 0.5))
    n_val = min(math.floor(len(kept) * o["val_ratio"] + 0.5), len(kept) - n_test)
    test_users, train_users = set(kept[:n_test]), set(kept[n_test + n_val:])

    def samples(users):
        out = []  # (user, history [(ts, movie, tenths)], candidate (ts, movie, tenths))
        for u in sorted(users):
            t = timelines[u]
            for k in range(h, len(t)):
                out.append((u, t[k - h:k], t[k]))
        return out

    train, test = samples(train_users), samples(test_users)
    raw = [json.loads(l) for l in open(os.path.join(prepared, "test_raw.jsonl"), encoding="utf-8")]
    assert [(r["user_id"], r["movie_id"], r["timestamp"]) for r in raw] == [(u, c[1], c[0]) for u, _, c in test], \
        "the oracle's test records differ from test_raw.jsonl"

    yes_train = [c[2] >= threshold for _, _, c in train]
    y_test = ["Yes" if c[2] >= threshold else "No" for _, _, c in test]
    out = {"train_samples": len(train), "test_samples": len(test)}

    majority = "Yes" if sum(yes_train) >= len(yes_train) - sum(yes_train) else "No"
    out["majority"] = metrics(y_test, [majority] * len(test))

    def thresholded(stat):
        t = best_threshold([stat(s) for s in train], yes_train)
        values = [stat(s) for s in test]
        m = metrics(y_test, ["Yes" if v >= t else "No" for v in values], values)
        m["threshold"] = t
        return m

    out["user_history_mean"] = thresholded(lambda s: sum(r for _, _, r in s[1]) / (10 * h))
    sums, counts = {}, {}
    for u in train_users:
        for _, movie, r in timelines[u]:
            sums[movie] = sums.get(movie, 0) + r
            counts[movie] = counts.get(movie, 0) + 1
    global_mean = sum(sums.values()) / (10 * sum(counts.values()))
    out["item_mean"] = thresholded(lambda s: sums[s[2][1]] / (10 * counts[s[2][1]]) if s[2][1] in counts else global_mean)
    out["unseen_test_movies"] = sum(1 for s in test if s[2][1] not in counts)
    print(json.dumps(out))


main()
