#!/usr/bin/python3
"""Independent reference for `sharptune prepare movielens`: rebuilds the records from the raw files with Python's
csv module and json.dumps, following the spec in issue 2, and prints them one per line.

usage: movielens_records.py latest|100k RATINGS MOVIES HISTORY_LEN THRESHOLD MODE [TEST_RATIO]
  MODE all:      every sample, in (userId, timeline) order, as train.json records
  MODE temporal: the test_raw.jsonl records of a temporal split with val ratio 0 and TEST_RATIO
"""
import csv, io, json, math, sys

INSTRUCTION = "Predict whether the user will like the candidate movie. Answer only with Yes or No."
SYSTEM = ("You are a movie recommendation assistant. Given a user's recent history and a candidate movie. "
          "Please begin your analysis with 'Yes' or 'No'.")


def read(fmt, ratings_path, movies_path):
    titles, ratings = {}, {}
    if fmt == "latest":
        with open(movies_path, encoding="utf-8-sig", newline="") as f:
            rows = csv.reader(f)
            assert next(rows) == ["movieId", "title", "genres"]
            for r in rows:
                if r:
                    titles[int(r[0])] = r[1].strip()
        with open(ratings_path, encoding="utf-8-sig", newline="") as f:
            rows = csv.reader(f)
            assert next(rows) == ["userId", "movieId", "rating", "timestamp"]
            for r in rows:
                if r:
                    ratings.setdefault(int(r[0]), []).append((int(r[3]), int(r[1]), float(r[2])))
    else:
        with open(movies_path, encoding="latin-1") as f:
            for line in f:
                if line.strip():
                    r = line.rstrip("\r\n").split("|")
                    titles[int(r[0])] = r[1].strip()
        with open(ratings_path, encoding="latin-1") as f:
            for line in f:
                if line.strip():
                    u, m, rating, ts = line.split("\t")
                    ratings.setdefault(int(u), []).append((int(ts), int(m), float(rating)))
    return titles, ratings


def record(titles, timeline, target, h, threshold):
    lines = [f"{i + 1}. {titles[m]} (rating ≈ {r:.1f})" for i, (_, m, r) in enumerate(timeline[target - h:target])]
    _, movie, rating = timeline[target]
    text = (f"User's last {h} watched movies:\n" + "\n".join(lines) + "\n\nCandidate movie:\n" + titles[movie] +
            "\n\nShould we recommend this movie to the user? Answer Yes or No.")
    return {"instruction": INSTRUCTION, "input": text, "output": "Yes" if rating >= threshold else "No",
            "system": SYSTEM, "history": []}


def main():
    fmt, ratings_path, movies_path, h, threshold, mode = sys.argv[1:7]
    h, threshold = int(h), float(threshold)
    test_ratio = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
    titles, ratings = read(fmt, ratings_path, movies_path)
    out = io.StringIO()
    for user in sorted(ratings):
        timeline = sorted(ratings[user])  # (timestamp, movieId) order
        m = len(timeline) - h
        if m <= 0:
            continue
        first = 0
        if mode == "temporal":
            first = m - min(m, math.floor(m * test_ratio + 0.5))
        for j in range(first, m):
            rec = record(titles, timeline, h + j, h, threshold)
            if mode == "temporal":
                ts, movie, rating = timeline[h + j]
                rec.update({"user_id": user, "movie_id": movie, "rating": rating, "timestamp": ts})
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    sys.stdout.buffer.write(out.getvalue().encode("utf-8"))


main()
