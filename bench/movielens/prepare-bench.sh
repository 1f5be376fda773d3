#!/usr/bin/env bash
# Times `./sharptune prepare movielens` end to end (process start included), as BENCHMARKS.md reports it:
#  1. ml-latest-small (100,836 ratings) with hyperfine; target < 1.5 s wall.
#  2. a 10-million-rating synthetic MovieLens with /usr/bin/time -v; target < 30 s wall and < 2 GB peak RSS.
# usage: bench/movielens/prepare-bench.sh [SHARED_DATA_DIR (default ../shared/data)] [WORK_DIR (default a temp dir)]
# The 10M run writes about 10 GB of records to WORK_DIR; everything is deleted at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="${1:-$root/../shared/data}"
work="${2:-$(mktemp -d)}"
trap 'rm -rf "$work"' EXIT
cd "$root"
./sharptune version >/dev/null   # build first, so no run pays for it
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ -f "$data/ml-latest-small/ratings.csv" ]]; then
  hyperfine --warmup 2 --runs 15 --export-json "$work/small.json" \
    "./sharptune prepare movielens --ratings $data/ml-latest-small/ratings.csv --movies $data/ml-latest-small/movies.csv --out $work/small"
else
  echo "ml-latest-small absent under $data: skipping part 1"
fi

./sharptune prepare synthetic-movielens --out "$work/syn10m" --users 108500 --movies 20000 --seed 7
for run in 1 2; do
  /usr/bin/time -v ./sharptune prepare movielens --ratings "$work/syn10m/ratings.csv" --movies "$work/syn10m/movies.csv" \
    --out "$work/syn10m-out" --verbose 2>"$work/time.txt" >/dev/null
  grep -E '^prepare:' "$work/time.txt"
  echo "10M run $run: wall $(grep 'Elapsed (wall' "$work/time.txt" | awk '{print $NF}'), peak RSS $(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}') KB, output $(du -sh "$work/syn10m-out" | cut -f1)"
  rm -rf "$work/syn10m-out"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
