#!/usr/bin/env bash
# Runs the demo's pipeline through the CLI with the settings given as environment variables and prints the figures
# the demo's result-quality bar is about: generative accuracy on the test split against the majority, user-history-mean
# and matrix-factorization baselines, the behaviour run's best sanity score, and the time of every stage.
#
#   bench/demo/pipeline.sh                         # the recommended Full settings
#   QUICK=1 bench/demo/pipeline.sh                 # the recommended Quick settings (QUICK=small: Quick-small)
#   STEPS=300 LR=3e-3 bench/demo/pipeline.sh       # any variable below overrides
#   PARTS=movielens bench/demo/pipeline.sh         # only the MovieLens part (PARTS=behaviours: only that part)
#
# Output goes to $OUT (default /tmp/demo-quality-wt/bench); a line "RESULT key=value ..." at the end sums it up.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${ST_ROOT:-$(cd "$here/../.." && pwd)}"   # ST_ROOT: the repository, when this is a copy (sweep.sh)
ST="${ST:-dotnet $root/src/SharpTune.Cli/bin/Release/net10.0/SharpTune.Cli.dll}"

if [[ "${QUICK:-0}" == 1 ]]; then        # Quick: Full's data and model, fewer steps
  : "${STEPS:=300}" "${EVAL_EVERY:=100}" "${SAVE_EVERY:=100}" "${B_STEPS:=100}" "${B_SAVE:=25}"
elif [[ "${QUICK:-0}" == small ]]; then  # Quick-small: faster, stays below the bar
  : "${USERS:=100}" "${MOVIES:=500}" "${STEPS:=150}" "${EVAL_EVERY:=50}" "${SAVE_EVERY:=50}" "${B_STEPS:=100}" "${B_SAVE:=25}" "${TOK_RECORDS:=1000}"
fi
: "${OUT:=/tmp/demo-quality-wt/bench}"
: "${SEED:=13}"          # data, splits, behaviours, model init
: "${TRAIN_SEED:=$SEED}"  # train.yaml seed: (shuffling) of both runs
# data
: "${USERS:=300}" "${MOVIES:=1000}" "${RPU_MIN:=20}"
: "${HIST:=5}" "${TEST_RATIO:=0.1}" "${VAL_RATIO:=0.05}" "${EVAL_SIZE:=150}"
: "${INSTRUCTION:=}" "${SYSTEM:=}"   # empty: prepare's defaults
# tokenizer
: "${VOCAB:=1024}" "${TOK_RECORDS:=3000}" "${TOK_BEHAVIOURS:=1}"
# model
: "${HIDDEN:=128}" "${LAYERS:=2}" "${HEADS:=4}" "${KV_HEADS:=2}" "${HEAD_DIM:=32}" "${INTER:=384}"
# training
: "${FT:=full}" "${LR:=1e-3}" "${SCHED:=cosine}" "${WARMUP:=0.05}" "${STEPS:=1500}" "${BATCH:=16}" "${WD:=0.01}" "${CUTOFF:=512}"
: "${EVAL_EVERY:=250}" "${GEN_SAMPLES:=150}" "${SAVE_EVERY:=250}" "${MAX_TIME:=}"
# inference
: "${TEST_LIMIT:=0}" "${INFER_BATCH:=16}"
# behaviours
: "${B_RECORDS:=400}" "${B_STEPS:=300}" "${B_LR:=3e-3}" "${B_BATCH:=8}" "${B_SAVE:=50}"
# B_SYSTEM: prepare behaviours --system (each record's own system message; "" for none);
# B_DEFAULT_SYSTEM: the behaviour run's default_system (used for records and sanity prompts without one).
: "${B_SYSTEM=}" "${B_DEFAULT_SYSTEM=You are a helpful assistant.}"
: "${PARTS:=movielens,behaviours}"

mkdir -p "$OUT"
cd "$OUT"
# Each stage's wall time and the CPU time (user + sys) of its processes: on a shared machine the wall time is
# inflated by the load, while CPU time / 2 estimates the wall time on an idle 2-core machine (the engine keeps both
# cores busy in training and inference; the short stages are mostly single-threaded start-up, so they are faster).
declare -A T C
# `times` runs in this shell (a subshell would see its own, empty, children's times); its second line is the children's.
cpu_now() { times > .times; tail -1 .times | python3 -c "import sys,re;print(sum(int(m)*60+float(s) for m,s in re.findall(r'(\d+)m([\d.]+)s', sys.stdin.read())))"; }
stage_start() { S0=$(date +%s.%N); cpu_now > .c0; C0=$(cat .c0); echo "== $1 (load $(cut -d' ' -f1 /proc/loadavg))" >&2; }
stage_end() {
  T[$1]=$(python3 -c "import time;print(f'{time.time()-$S0:.1f}')")
  cpu_now > .c1
  C[$1]=$(python3 -c "print(f'{$(cat .c1)-$C0:.1f}')")
  echo "   $1: ${T[$1]} s wall, ${C[$1]} s CPU (load $(cut -d' ' -f1 /proc/loadavg))" >&2
}

yaml_common() { # model dataset_dir dataset output_dir
  cat <<EOF
model_name_or_path: $1
stage: sft
do_train: true
finetuning_type: $FT
dataset_dir: $2
dataset: $3
cutoff_len: $CUTOFF
output_dir: $4
overwrite_output_dir: true
seed: $TRAIN_SEED
EOF
}

if [[ "$PARTS" == *movielens* || "$PARTS" == *behaviours* ]]; then
  stage_start data
  rm -rf data dataset tokenizer model train behaviour-train preds* *.json
  $ST prepare synthetic-movielens --out data --users "$USERS" --movies "$MOVIES" --ratings-per-user-min "$RPU_MIN" --seed "$SEED" >&2
  extra=()
  [[ -n "$INSTRUCTION" ]] && extra+=(--instruction "$INSTRUCTION")
  [[ -n "$SYSTEM" ]] && extra+=(--system "$SYSTEM")
  $ST prepare movielens --ratings data/ratings.csv --movies data/movies.csv --out dataset --history-len "$HIST" \
    --test-ratio "$TEST_RATIO" --val-ratio "$VAL_RATIO" --eval-size "$EVAL_SIZE" --seed "$SEED" "${extra[@]}" > /dev/null
  bsys=(); [[ -n "$B_SYSTEM" ]] && bsys=(--system "$B_SYSTEM")
  $ST prepare behaviours --synthetic "$B_RECORDS" --seed "$SEED" "${bsys[@]}" --out behaviours.jsonl > /dev/null
  stage_end data

  stage_start tokenizer
  python3 - "$TOK_RECORDS" "$TOK_BEHAVIOURS" <<'EOF'
import json, sys
n, beh = int(sys.argv[1]), sys.argv[2] == "1"
recs = json.load(open("dataset/train.json", encoding="utf-8"))[:n]
with open("tok_corpus.jsonl", "w", encoding="utf-8") as f:
    for r in recs:
        for t in (r["system"], r["instruction"] + "\n\n" + r["input"], r["output"]):
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    if beh:
        for line in open("behaviours.jsonl", encoding="utf-8"):
            for m in json.loads(line)["messages"]:
                f.write(json.dumps({"text": m["content"]}, ensure_ascii=False) + "\n")
EOF
  $ST tokenizer train --input tok_corpus.jsonl --vocab-size "$VOCAB" --out tokenizer >&2
  stage_end tokenizer

  stage_start model
  $ST init-model --arch qwen3 --hidden "$HIDDEN" --layers "$LAYERS" --heads "$HEADS" --kv-heads "$KV_HEADS" --head-dim "$HEAD_DIM" \
    --intermediate "$INTER" --tokenizer tokenizer --seed "$SEED" --out model --tie-word-embeddings --max-position-embeddings 1024 >&2
  stage_end model
fi

if [[ "$PARTS" == *movielens* ]]; then
  {
    yaml_common model dataset train.json train
    cat <<EOF
eval_dataset: eval.json
per_device_train_batch_size: $BATCH
per_device_eval_batch_size: 16
learning_rate: $LR
lr_scheduler_type: $SCHED
warmup_ratio: $WARMUP
weight_decay: $WD
max_grad_norm: 1.0
max_steps: $STEPS
logging_steps: $(( STEPS / 30 > 0 ? STEPS / 30 : 1 ))
save_steps: $(( SAVE_EVERY > 0 ? SAVE_EVERY : STEPS ))
save_total_limit: 3
# One answer token + <|im_end|> (learnt at once): per-token means are half the answer token's (docs/demo-tuning.md).
overfit_loss: 0.15
overfit_entropy: 0.2
overfit_token_accuracy: 0.95
EOF
    if (( EVAL_EVERY > 0 )); then
      cat <<EOF
eval_strategy: steps
eval_steps: $EVAL_EVERY
generative_eval:
  samples: $GEN_SAMPLES
  max_new_tokens: 4
  labels: [Yes, No]
EOF
    fi
    [[ -n "$MAX_TIME" ]] && echo "max_time: $MAX_TIME"
  } > train.yaml
  stage_start train
  $ST train train.yaml --cache-dir cache > train.log 2>&1 || { tail -30 train.log >&2; exit 1; }
  grep -E "loss|accuracy" train/trainer_log.jsonl | tail -3 >&2 || true
  stage_end train

  stage_start infer
  test=dataset/test_raw.jsonl
  if (( TEST_LIMIT > 0 )); then head -n "$TEST_LIMIT" dataset/test_raw.jsonl > test_subset.jsonl; test=test_subset.jsonl; fi
  rm -f preds.jsonl preds.jsonl.partial
  # A full fine-tuning run holds its final model in output_dir; --run only carries prompt settings (and a LoRA
  # adapter), so the weights must come from --model: the run folder for full, the base for LoRA.
  infer_model=train; [[ "$FT" == lora ]] && infer_model=model
  $ST infer --model "$infer_model" --run train --data "$test" --output preds.jsonl --labels Yes,No --max-new-tokens 4 --batch-size "$INFER_BATCH" 2>&1 | tail -2 >&2
  stage_end infer

  stage_start eval
  $ST eval --predictions preds.jsonl --labels Yes,No --bootstrap 200 --out model.json > /dev/null
  $ST baselines --prepared dataset --bootstrap 200 --out baselines.json > /dev/null
  stage_end eval
fi

if [[ "$PARTS" == *behaviours* ]]; then
  stage_start behaviours
  {
    yaml_common model . behaviours.jsonl behaviour-train
    cat <<EOF
per_device_train_batch_size: $B_BATCH
learning_rate: $B_LR
lr_scheduler_type: cosine
warmup_ratio: 0.05
weight_decay: 0.01
max_steps: $B_STEPS
logging_steps: $(( B_STEPS / 10 > 0 ? B_STEPS / 10 : 1 ))
save_steps: $B_SAVE
save_total_limit: 6
EOF
    [[ -n "$B_DEFAULT_SYSTEM" ]] && echo "default_system: '$B_DEFAULT_SYSTEM'"
  } > behaviour.yaml
  $ST train behaviour.yaml --cache-dir cache > behaviour-train.log 2>&1 || { tail -30 behaviour-train.log >&2; exit 1; }
  $ST sanity --run behaviour-train --rules "$root/examples/sanity/compliments_refusals.yaml" --json > sanity.json 2> sanity.err || true
  stage_end behaviours
fi

python3 - "$PARTS" "$(declare -p T)" <<'EOF'
import json, os, sys
parts = sys.argv[1]
out = {}
if "movielens" in parts:
    m = json.load(open("model.json")); b = json.load(open("baselines.json"))
    out["gen_acc"] = m["accuracy"]; out["n"] = m["n"]; out["unparseable"] = m["unparseable_rate"]
    for k in ("majority", "user_history_mean", "item_mean", "matrix_factorization"):
        out[k] = b[k]["accuracy"]
    out["margin_over_majority"] = out["gen_acc"] - out["majority"]
if "behaviours" in parts and os.path.exists("sanity.json"):
    s = json.load(open("sanity.json"))
    out["sanity"] = s
if "movielens" in parts:
    for l in open("train/trainer_log.jsonl"):
        d = json.loads(l)
        if "eval_loss" in d:
            print("  eval step", d["current_steps"], "loss %.4f" % d["eval_loss"], "first-token acc", d.get("eval_first_token_accuracy"),
                  "gen acc", d.get("eval_gen_accuracy"))
s = out.pop("sanity", None)
if s:
    out["sanity"] = {c["name"]: round(c["total"], 3) for c in s["checkpoints"]}
    out["sanity_best"] = s["best"]["name"]
print("SUMMARY " + " ".join(f"{k}={round(v, 4) if isinstance(v, float) else v}" for k, v in out.items()))
EOF
echo "RESULT wall/cpu seconds: $(for k in data tokenizer model train infer eval behaviours; do [[ -n "${T[$k]:-}" ]] && printf '%s=%s/%s ' "$k" "${T[$k]}" "${C[$k]}"; done)"
