"""The PyTorch peer of `sharptune infer` (generation): greedy generation over the same prompt token ids, in batches.

Loads a Hugging Face Qwen3 folder's model.safetensors (fp32; written by `sharptune init-model`) into the peer's
plain-PyTorch Qwen3 (../shared/peer-pytorch/qwen3_torch.py, its tuned set-up from the environment), then for each
batch of `--batch` prompts runs the peer's greedy_generate (prefill with logits at the last position, then one
decode step per new token, static KV cache). Prints and writes JSON: model seconds (prefill + decode, weights
loading excluded), prompt and generated tokens, tokens/s.

Usage: peer_infer.py --model DIR --ids IDS.json --new 8 --batch 8 [--json OUT] [--peer DIR]
"""
import argparse
import json
import os
import struct
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--ids", required=True)
ap.add_argument("--new", type=int, default=8)
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--json")
ap.add_argument("--peer", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "peer-pytorch"))
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.peer))

from common import peak_rss_mib, setup_threads, torch  # noqa: E402
import numpy as np  # noqa: E402
from qwen3_torch import Qwen3Config, Qwen3ForCausalLM, greedy_generate  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{name}: dtype {info['dtype']}; this peer loader reads F32 only")
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data, dtype=np.float32, count=(b - a) // 4, offset=a).reshape(info["shape"]).copy())
    return out


threads = setup_threads()
c = json.load(open(os.path.join(args.model, "config.json")))
cfg = Qwen3Config("folder", c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                  c["num_key_value_heads"], c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"],
                  c["intermediate_size"], c["rms_norm_eps"], c["rope_theta"])
model = Qwen3ForCausalLM(cfg, lora_r=0, seed=0).eval()
state = {k.removeprefix("model."): v for k, v in read_safetensors(os.path.join(args.model, "model.safetensors")).items() if k != "lm_head.weight"}
missing, unexpected = model.load_state_dict(state, strict=False)
if missing or unexpected:
    raise SystemExit(f"weights do not match the peer model: missing {missing}, unexpected {unexpected}")
ids = json.load(open(args.ids))["ids"]
warm = torch.tensor(ids[:args.batch])
greedy_generate(model, warm, 2)  # warm-up (one-time allocations), not timed
seconds = prefill = 0.0
prompt_tokens = generated = 0
first = None
for i in range(0, len(ids), args.batch):
    batch = torch.tensor(ids[i:i + args.batch])
    t = {}
    t0 = time.perf_counter()
    out = greedy_generate(model, batch, args.new, t)
    seconds += time.perf_counter() - t0
    prefill += t["prefill_s"]
    prompt_tokens += batch.numel()
    generated += out.numel()
    if first is None:
        first = out[0].tolist()
res = {"records": len(ids), "seconds": seconds, "prefill_seconds": prefill, "prompt_tokens": prompt_tokens, "generated_tokens": generated,
       "tokens_per_s": (prompt_tokens + generated) / seconds, "records_per_s": len(ids) / seconds, "threads": threads,
       "peak_rss_mib": peak_rss_mib(), "first_ids": first}
print(json.dumps(res))
if args.json:
    json.dump(res, open(args.json, "w"))
