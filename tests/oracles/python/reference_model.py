#!/usr/bin/python3
"""Reference decoder forward for SharpTune's parity tests (numpy + torch only; no transformers).

Implements Llama, Mistral, Qwen2 and Qwen3 as transformers' *ForCausalLM do with eager attention: RMSNorm in
fp32 (x * rsqrt(mean(x^2) + eps), then weight * x.to(input_dtype)), rotate_half RoPE (with llama3 frequency
scaling), Qwen3's per-head q/k RMSNorm before RoPE, Qwen2's q/k/v biases, grouped-query attention with the
4-D causal + padding mask (finfo.min), softmax in fp32, SwiGLU MLP, tied or separate lm_head. Weights are
read from model.safetensors, parsed here (8-byte header length, JSON header, raw F32/BF16/F16 data), and
widened to fp32; all compute is fp32.

Reads JSON requests, one per line, from stdin; writes one JSON answer per line to stdout:
  {"id": s, "model": DIR, "op": "logits", "ids": [[...], ...], "mask": [[...], ...]}
      -> {"id": s, "logits": [[[vocab floats] per unmasked position] per sequence]}
  {"id": s, "model": DIR, "op": "greedy", "prompts": [[...], ...], "max_new_tokens": N, "eos": [ids]}
      -> {"id": s, "tokens": [[generated ids, ending at the first eos if any] per prompt]}
"""
import json
import math
import struct
import sys

import numpy as np
import torch

torch.set_num_threads(1)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        raw = data[base + begin:base + end]
        shape = meta["shape"]
        dtype = meta["dtype"]
        if dtype == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dtype == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        out[name] = torch.from_numpy(arr.reshape(shape).copy())
    return out


class Model:
    def __init__(self, directory):
        with open(f"{directory}/config.json") as f:
            self.cfg = json.load(f)
        self.w = load_safetensors(f"{directory}/model.safetensors")
        c = self.cfg
        self.type = c["model_type"]
        self.hidden = c["hidden_size"]
        self.layers = c["num_hidden_layers"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads", self.heads)
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.theta = c.get("rope_theta", 10000.0)
        self.tied = c.get("tie_word_embeddings", False)
        self.inv_freq = self.rope_inv_freq(c.get("rope_scaling"))
        # The dtype RMSNorm and the attention softmax widen to: fp32, as transformers does. (reference_train's
        # self-check sets float64 on a double copy of the weights for its finite-difference gradient check.)
        self.compute_dtype = torch.float32

    def rope_inv_freq(self, scaling):
        d = self.head_dim
        inv = 1.0 / (self.theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
        if scaling is None:
            return inv
        kind = scaling.get("rope_type", scaling.get("type"))
        assert kind == "llama3", kind
        factor = scaling["factor"]
        low = scaling["low_freq_factor"]
        high = scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wavelen = old / low
        high_wavelen = old / high
        wavelen = 2 * math.pi / inv
        inv_llama = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        return torch.where(medium, smoothed, inv_llama)

    def rms(self, x, weight):
        dtype = x.dtype
        x = x.to(self.compute_dtype)
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.eps)
        return weight * x.to(dtype)

    @staticmethod
    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def linear(self, x, name, bias=False):
        """The projection `name` (e.g. model.layers.0.self_attn.q_proj); reference_train overrides it to add LoRA."""
        y = torch.nn.functional.linear(x, self.w[name + ".weight"], self.w.get(name + ".bias") if bias else None)
        return y

    def forward(self, ids, mask):
        """ids, mask: LongTensor [B, T] (right padding). Returns logits [B, T, V]."""
        B, T = ids.shape
        H, KV, D = self.heads, self.kv_heads, self.head_dim
        x = self.w["model.embed_tokens.weight"][ids]
        position_ids = torch.arange(T)[None, :].expand(B, T)
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # [B, 1, T, D]
        neg = torch.finfo(torch.float32).min
        causal = torch.full((T, T), neg).triu(1)
        m = causal[None, None].expand(B, 1, T, T).clone()
        m = m.masked_fill(mask[:, None, None, :] == 0, neg)
        bias = self.type == "qwen2" or self.cfg.get("attention_bias", False)
        # Llama and Qwen3 put attention_bias on o_proj too; Qwen2's biases are on q, k and v only.
        o_bias = self.type in ("llama", "qwen3") and self.cfg.get("attention_bias", False)
        for i in range(self.layers):
            p = f"model.layers.{i}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])
            q = self.linear(h, p + "self_attn.q_proj", bias).view(B, T, H, D)
            k = self.linear(h, p + "self_attn.k_proj", bias).view(B, T, KV, D)
            v = self.linear(h, p + "self_attn.v_proj", bias).view(B, T, KV, D).transpose(1, 2)
            if self.type == "qwen3":
                q = self.rms(q, self.w[p + "self_attn.q_norm.weight"])
                k = self.rms(k, self.w[p + "self_attn.k_norm.weight"])
            q, k = q.transpose(1, 2), k.transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
            scores = torch.matmul(q, k.transpose(2, 3)) * (D ** -0.5) + m
            probs = torch.nn.functional.softmax(scores, dim=-1, dtype=self.compute_dtype)
            o = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H * D)
            x = x + self.linear(o, p + "self_attn.o_proj", o_bias)
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])
            g = self.linear(h, p + "mlp.gate_proj")
            u = self.linear(h, p + "mlp.up_proj")
            x = x + self.linear(torch.nn.functional.silu(g) * u, p + "mlp.down_proj")
        x = self.rms(x, self.w["model.norm.weight"])
        head = self.w["model.embed_tokens.weight"] if self.tied else self.w["lm_head.weight"]
        return torch.nn.functional.linear(x, head)


def main():
    models = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        directory = req["model"]
        if directory not in models:
            models[directory] = Model(directory)
        model = models[directory]
        with torch.no_grad():
            if req["op"] == "logits":
                ids = torch.tensor(req["ids"], dtype=torch.long)
                mask = torch.tensor(req["mask"], dtype=torch.long)
                logits = model.forward(ids, mask)
                out = []
                for b in range(ids.shape[0]):
                    keep = mask[b].nonzero().flatten()
                    out.append(logits[b, keep].tolist())
                print(json.dumps({"id": req["id"], "logits": out}), flush=True)
            elif req["op"] == "greedy":
                eos = set(req.get("eos", []))
                results = []
                for prompt in req["prompts"]:
                    seq = list(prompt)
                    gen = []
                    for _ in range(req["max_new_tokens"]):
                        ids = torch.tensor([seq], dtype=torch.long)
                        logits = model.forward(ids, torch.ones_like(ids))
                        tok = int(torch.argmax(logits[0, -1]).item())
                        gen.append(tok)
                        seq.append(tok)
                        if tok in eos:
                            break
                    results.append(gen)
                print(json.dumps({"id": req["id"], "tokens": results}), flush=True)
            else:
                raise ValueError(f"unknown op {req['op']}")


if __name__ == "__main__":
    main()
