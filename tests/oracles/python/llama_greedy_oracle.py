#!/usr/bin/python3
"""Greedy decoding with an independent numpy implementation of transformers' LlamaForCausalLM forward pass.

  llama_greedy_oracle.py MODEL_DIR STEPS

Reads MODEL_DIR/config.json, MODEL_DIR/model.safetensors (parsed here: 8-byte length, JSON header, raw F32 data) and
MODEL_DIR/tokenizer.json (for decoding only), starts from BOS, and prints the decoded text of STEPS greedy tokens
(fewer if BOS comes next) the way llama2.c's run.c prints them (the space SentencePiece prepends to the first word is dropped). Used to check
that a converted llama2.c checkpoint (wq/wk permuted to rotate-half RoPE) reproduces llama2.c's own output.
"""
import json
import os
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    out = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t["dtype"]
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(body[b:e], dtype="<f4").reshape(t["shape"]).astype(np.float64)
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def step(cfg, w, token, pos, cache):
    """One position of the forward pass with a key/value cache; returns the logits."""
    hidden, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or hidden // nh
    eps = cfg["rms_norm_eps"]
    inv_freq = 1.0 / (cfg.get("rope_theta", 10000.0) ** (np.arange(0, hd, 2) / hd))
    emb = np.concatenate([pos * inv_freq, pos * inv_freq])
    cos, sin = np.cos(emb), np.sin(emb)
    x = w["model.embed_tokens.weight"][token]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (w[p + "self_attn.q_proj.weight"] @ h).reshape(nh, hd)
        k = (w[p + "self_attn.k_proj.weight"] @ h).reshape(nkv, hd)
        v = (w[p + "self_attn.v_proj.weight"] @ h).reshape(nkv, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        ks, vs = cache.setdefault(l, ([], []))
        ks.append(k)
        vs.append(v)
        K, V = np.stack(ks), np.stack(vs)  # [T, nkv, hd]
        rep = nh // nkv
        K, V = np.repeat(K, rep, axis=1), np.repeat(V, rep, axis=1)
        scores = np.einsum("hd,thd->ht", q, K) / np.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attn = np.einsum("ht,thd->hd", scores, V).reshape(nh * hd)
        x = x + w[p + "self_attn.o_proj.weight"] @ attn
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = w[p + "mlp.gate_proj.weight"] @ h
        up = w[p + "mlp.up_proj.weight"] @ h
        x = x + w[p + "mlp.down_proj.weight"] @ ((gate / (1 + np.exp(-gate))) * up)
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return head @ x


def decode(pieces, ids):
    out = bytearray()
    for i, t in enumerate(ids):
        p = pieces[t]
        if len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
            out += bytes([int(p[3:5], 16)])
        else:
            s = p.replace("\u2581", " ")
            if i == 0 and s.startswith(" "):
                s = s[1:]
            out += s.encode("utf-8")
    return out.decode("utf-8", errors="replace")


def main():
    model, steps = sys.argv[1], int(sys.argv[2])
    cfg = json.load(open(os.path.join(model, "config.json")))
    w = load_safetensors(os.path.join(model, "model.safetensors"))
    tok = json.load(open(os.path.join(model, "tokenizer.json"), encoding="utf-8"))
    pieces = {i: p for p, i in tok["model"]["vocab"].items()}
    bos = cfg["bos_token_id"]
    ids, cache = [bos], {}
    while len(ids) <= steps:
        nxt = int(np.argmax(step(cfg, w, ids[-1], len(ids) - 1, cache)))
        if nxt == bos:
            break
        ids.append(nxt)
    sys.stdout.write(decode(pieces, ids[1:]))


if __name__ == "__main__":
    main()
