#!/usr/bin/python3
"""Proves reference_train.py on tiny random models of every architecture; exits 0 only if every check holds.

Checks (each on qwen3 tied, qwen2 untied with q/k/v biases, llama untied with a llama3 rope_scaling block,
mistral tied stored as BF16; config.json fields as tests/SharpTune.Tests/Models/RandomModels.cs writes them):
  1. LoRA with every B = 0: the step-0 loss, token accuracy and entropy equal those computed here, position by
     position, from reference_model.Model.forward's logits (same batches); every lora_A gradient is exactly 0;
     the unclipped grad norm is the L2 norm of the returned gradients.
  2. LoRA with random nonzero B: the loss equals that of reference_model.Model with the merged weights
     W + scaling * B @ A (scaling computed here: alpha / r, or alpha / sqrt(r) with use_rslora).
  3. Autograd vs central finite differences, all in float64 (the double copy of the model), for randomly chosen
     elements of the LoRA A/B tensors (nonzero B) and of the full-mode parameters (always including embeddings,
     the final norm, a layer norm, q_norm (qwen3), a q/k/v bias (qwen2), lm_head (untied)): relative error <= 1e-6.
  4. Gradient accumulation: one step on micro-batches [b1, b2] (different supervised counts) gives the gradient
     and loss of the concatenated-token loss (b1 and b2 as one padded batch); the mean of per-micro-batch means
     differs (so the check has teeth); the fp32 gradients agree with the float64 ones to 1e-4.
  5. Optimizer wiring: 4 steps of train() in float64 (cosine schedule with warmup, clipping, no_decay group)
     match an independent AdamW + schedule + clipping loop written here, in losses, lrs, grad norms and params.
  6. The stdin/stdout protocol: a subprocess answers a good request (fp32) and an error request in order.
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import reference_train as rt  # noqa: E402
from reference_model import Model  # noqa: E402

torch.set_num_threads(1)
RNG = np.random.default_rng(1234)
failures = []
counts = {"checks": 0, "fd": 0}


def check(ok, what):
    counts["checks"] += 1
    if not ok:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if dtype == "BF16":
            bits = arr.view(np.uint32).astype(np.uint64)
            bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")  # round to nearest even
            raw = bits.tobytes()
        else:
            raw = arr.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def config(arch, tied, hidden=24, layers=2, heads=4, kv=2, head_dim=6, inter=40, vocab=50, scaling=None, dtype="float32"):
    c = {"model_type": arch, "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
         "num_key_value_heads": kv, "head_dim": head_dim, "intermediate_size": inter, "vocab_size": vocab,
         "rms_norm_eps": 1e-6, "rope_theta": 500000.0 if arch == "llama" else 10000.0, "max_position_embeddings": 256,
         "tie_word_embeddings": tied, "torch_dtype": dtype, "attention_bias": arch == "qwen2",
         "eos_token_id": [vocab - 1]}
    if scaling:
        c["rope_scaling"] = scaling
    return c


def random_weights(c):
    h, q, kvd, i, v = c["hidden_size"], c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"], \
        c["intermediate_size"], c["vocab_size"]
    w = {}

    def add(name, mean, std, *shape):
        w[name] = (mean + std * RNG.standard_normal(shape)).astype(np.float32)

    add("model.embed_tokens.weight", 0, 1, v, h)
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        add(p + "input_layernorm.weight", 1, 0.1, h)
        add(p + "self_attn.q_proj.weight", 0, h ** -0.5, q, h)
        add(p + "self_attn.k_proj.weight", 0, h ** -0.5, kvd, h)
        add(p + "self_attn.v_proj.weight", 0, h ** -0.5, kvd, h)
        add(p + "self_attn.o_proj.weight", 0, q ** -0.5, h, q)
        if c["attention_bias"]:
            add(p + "self_attn.q_proj.bias", 0, 0.2, q)
            add(p + "self_attn.k_proj.bias", 0, 0.2, kvd)
            add(p + "self_attn.v_proj.bias", 0, 0.2, kvd)
        if c["model_type"] == "qwen3":
            add(p + "self_attn.q_norm.weight", 1, 0.2, c["head_dim"])
            add(p + "self_attn.k_norm.weight", 1, 0.2, c["head_dim"])
        add(p + "post_attention_layernorm.weight", 1, 0.1, h)
        add(p + "mlp.gate_proj.weight", 0, h ** -0.5, i, h)
        add(p + "mlp.up_proj.weight", 0, h ** -0.5, i, h)
        add(p + "mlp.down_proj.weight", 0, i ** -0.5, h, i)
    add("model.norm.weight", 1, 0.1, h)
    if not c["tie_word_embeddings"]:
        add("lm_head.weight", 0, h ** -0.5, v, h)
    return w


def write_model(directory, c, bf16=False):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(c, f)
    write_safetensors(os.path.join(directory, "model.safetensors"), random_weights(c), "BF16" if bf16 else "F32")


def write_adapter(directory, model_dir, r, alpha, b_std, rslora=False, dropout=0.0):
    """Every projection of every layer, PEFT key names; A ~ U(+-1/sqrt(in)), B ~ N(0, b_std) (0: zeros)."""
    os.makedirs(directory, exist_ok=True)
    base = Model(model_dir).w
    t = {}
    for name in base:
        if not name.endswith("_proj.weight"):
            continue
        out_f, in_f = base[name].shape
        stem = "base_model.model." + name[:-len(".weight")]
        t[stem + ".lora_A.weight"] = RNG.uniform(-in_f ** -0.5, in_f ** -0.5, (r, in_f)).astype(np.float32)
        t[stem + ".lora_B.weight"] = (b_std * RNG.standard_normal((out_f, r))).astype(np.float32)
    write_safetensors(os.path.join(directory, "adapter_model.safetensors"), t)
    cfg = {"peft_type": "LORA", "r": r, "lora_alpha": alpha, "lora_dropout": dropout, "use_rslora": rslora,
           "bias": "none", "task_type": "CAUSAL_LM",
           "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(cfg, f)
    return t, (alpha / math.sqrt(r) if rslora else alpha / r)


def batches(vocab):
    ids = lambda *shape: RNG.integers(0, vocab - 1, shape).tolist()  # noqa: E731
    a = ids(2, 7)
    a[1][4:] = [0, 0, 0]
    b1 = {"input_ids": a, "attention_mask": [[1] * 7, [1, 1, 1, 1, 0, 0, 0]],
          "labels": [[-100, -100] + a[0][2:], [-100] + a[1][1:4] + [-100] * 3]}
    c = ids(1, 5)
    b2 = {"input_ids": c, "attention_mask": [[1] * 5], "labels": [[-100, -100] + c[0][2:]]}
    return b1, b2  # b1: 5 + 3 supervised tokens (after the shift), b2: 3


def concat(b1, b2):
    width = max(len(b1["input_ids"][0]), len(b2["input_ids"][0]))
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for b in (b1, b2):
        for ids, m, lab in zip(b["input_ids"], b["attention_mask"], b["labels"]):
            pad = width - len(ids)
            out["input_ids"].append(ids + [0] * pad)
            out["attention_mask"].append(m + [0] * pad)
            out["labels"].append(lab + [-100] * pad)
    return out


def independent_metrics(logits_list, batch_list):
    """Loss, accuracy and entropy position by position (float64 on fp32 logits), no shifting helpers."""
    ce = ent = 0.0
    correct = n = 0
    for logits, b in zip(logits_list, batch_list):
        lg = logits.double()
        for row, labels in enumerate(b["labels"]):
            for t in range(len(labels) - 1):
                y = labels[t + 1]
                if y == -100:
                    continue
                lp = torch.log_softmax(lg[row, t], -1)
                ce -= float(lp[y])
                ent -= float((lp.exp() * lp).sum())
                correct += int(int(torch.argmax(logits[row, t])) == y)
                n += 1
    return ce / n, correct / n, ent / n, n


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def merged_model(model_dir, adapter, scaling):
    m = Model(model_dir)
    for key, a in adapter.items():
        if key.endswith(".lora_A.weight"):
            stem = key[len("base_model.model."):-len(".lora_A.weight")]
            b = adapter[key.replace("lora_A", "lora_B")]
            m.w[stem + ".weight"] = m.w[stem + ".weight"] + scaling * (torch.from_numpy(b) @ torch.from_numpy(a))
    return m


def request(model_dir, mode, adapter_dir, bs, **extra):
    r = {"id": "x", "model": model_dir, "mode": mode, "adapter": adapter_dir, "batches": bs, "steps": 1,
         "optimizer": {"lr": 1e-3}, "return_grads": True}
    r.update(extra)
    return r


def fd_check(name, model_dir, mode, adapter_dir, bs, picks):
    """Autograd (train() in float64) vs central differences of the float64 loss for elements chosen by picks."""
    ans = rt.train(request(model_dir, mode, adapter_dir, bs), dtype=torch.float64)
    model = rt.get_model(model_dir)
    params = rt.prepare(model, request(model_dir, mode, adapter_dir, bs), torch.float64)
    total = ans["supervised_tokens"]
    worst = 0.0
    for pname in picks(params):
        g = np.asarray(ans["grads"][pname])
        big = np.flatnonzero(np.abs(g) >= 1e-3 * np.abs(g).max())
        for idx in RNG.choice(big, size=min(2, big.size), replace=False):
            p = params[pname].data.view(-1)
            x0 = float(p[idx])
            h = 1e-5 * max(1.0, abs(x0))
            p[idx] = x0 + h
            lp = rt.step_loss(model, bs, total, backward=False)[0] / total
            p[idx] = x0 - h
            lm = rt.step_loss(model, bs, total, backward=False)[0] / total
            p[idx] = x0
            fd = (lp - lm) / (2 * h)
            err = abs(fd - g[idx]) / max(abs(g[idx]), abs(fd))
            worst = max(worst, err)
            counts["fd"] += 1
            check(err <= 1e-6, f"{name}: d loss / d {pname}[{idx}] autograd {g[idx]:.12g} vs finite difference {fd:.12g} (rel {err:.2e})")
    return worst


def main():
    tmp = tempfile.mkdtemp(prefix="reference-train-selfcheck-")
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    t0 = time.time()
    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 32}
    archs = [
        ("qwen3-tied", config("qwen3", True), False, False),
        ("qwen2-bias-untied", config("qwen2", False, heads=4, kv=1), False, True),
        ("llama-llama3-untied", config("llama", False, heads=3, kv=3, head_dim=8, scaling=llama3), False, False),
        ("mistral-tied-bf16", config("mistral", True, dtype="bfloat16"), True, False),
    ]
    worst_fd = 0.0
    for name, c, bf16, rslora in archs:
        mdir = os.path.join(tmp, name)
        write_model(mdir, c, bf16)
        b1, b2 = batches(c["vocab_size"])
        bs = [b1, b2]

        # 1. B = 0: LoRA loss == reference_model's own logits
        zdir = os.path.join(tmp, name + "-lora0")
        write_adapter(zdir, mdir, r=4, alpha=8, b_std=0.0)
        ans = rt.train(request(mdir, "lora", zdir, bs))
        ref = Model(mdir)
        with torch.no_grad():
            logits = [ref.forward(torch.tensor(b["input_ids"]), torch.tensor(b["attention_mask"])) for b in bs]
        loss, acc, ent, n = independent_metrics(logits, bs)
        check(ans["supervised_tokens"] == n == 11, f"{name}: supervised_tokens {ans['supervised_tokens']} vs {n}")
        check(abs(ans["losses"][0] - loss) <= 1e-6 * loss, f"{name}: B=0 loss {ans['losses'][0]} vs reference_model {loss}")
        check(ans["token_accuracy"][0] == acc, f"{name}: token accuracy {ans['token_accuracy'][0]} vs {acc}")
        check(abs(ans["entropy"][0] - ent) <= 1e-5 * ent, f"{name}: entropy {ans['entropy'][0]} vs {ent}")
        a_zero = all(not any(v) for k, v in ans["grads"].items() if "lora_A" in k)
        b_live = all(any(v) for k, v in ans["grads"].items() if "lora_B" in k)
        check(a_zero and b_live, f"{name}: with B = 0 every lora_A grad must be 0 and every lora_B grad nonzero")
        norm = math.sqrt(sum(float(np.sum(np.square(np.asarray(g, np.float64)))) for g in ans["grads"].values()))
        check(abs(ans["grad_norms"][0] - norm) <= 1e-5 * norm, f"{name}: unclipped grad norm {ans['grad_norms'][0]} vs {norm}")

        # 2. nonzero B: LoRA loss == merged-weight loss (scaling computed here)
        ldir = os.path.join(tmp, name + "-lora")
        adapter, scaling = write_adapter(ldir, mdir, r=4, alpha=8, b_std=0.3, rslora=rslora)
        ans = rt.train(request(mdir, "lora", ldir, bs))
        merged = merged_model(mdir, adapter, scaling)
        with torch.no_grad():
            logits = [merged.forward(torch.tensor(b["input_ids"]), torch.tensor(b["attention_mask"])) for b in bs]
        mloss = independent_metrics(logits, bs)[0]
        check(abs(ans["losses"][0] - mloss) <= 1e-5 * mloss, f"{name}: LoRA loss {ans['losses'][0]} vs merged weights {mloss}")
        check(abs(mloss - loss) > 1e-3 * loss, f"{name}: the LoRA delta should move the loss ({mloss} vs {loss})")

        # 3. finite differences (float64)
        worst_fd = max(worst_fd, fd_check(name + " lora", mdir, "lora", ldir, bs,
                                          lambda ps: list(RNG.choice(list(ps), size=4, replace=False))))

        def full_picks(ps):
            must = ["model.embed_tokens.weight", "model.norm.weight", "model.layers.1.input_layernorm.weight",
                    "model.layers.0.self_attn.q_norm.weight", "model.layers.1.self_attn.k_proj.bias", "lm_head.weight"]
            chosen = [m for m in must if m in ps]
            rest = [p for p in ps if p not in chosen]
            return chosen + list(RNG.choice(rest, size=3, replace=False))

        worst_fd = max(worst_fd, fd_check(name + " full", mdir, "full", None, bs, full_picks))

        # 4. accumulation == concatenated-token loss
        for mode, adir in (("lora", ldir), ("full", None)):
            acc2 = rt.train(request(mdir, mode, adir, [b1, b2]), dtype=torch.float64)
            cat = rt.train(request(mdir, mode, adir, [concat(b1, b2)]), dtype=torch.float64)
            g1 = rt.train(request(mdir, mode, adir, [b1]), dtype=torch.float64)["grads"]
            g2 = rt.train(request(mdir, mode, adir, [b2]), dtype=torch.float64)["grads"]
            keys = list(acc2["grads"])
            flat = lambda gs: np.concatenate([np.asarray(gs[k]) for k in keys])  # noqa: E731
            err = rel(flat(acc2["grads"]), flat(cat["grads"]))
            naive = rel(0.5 * (flat(g1) + flat(g2)), flat(cat["grads"]))
            check(err <= 1e-10, f"{name} {mode}: accumulated gradient vs concatenated loss gradient rel {err:.2e}")
            check(abs(acc2["losses"][0] - cat["losses"][0]) <= 1e-12 * cat["losses"][0], f"{name} {mode}: accumulated loss vs concatenated")
            check(naive > 1e-3, f"{name} {mode}: the mean of micro-batch means should differ (rel {naive:.2e})")
            f32 = rt.train(request(mdir, mode, adir, [b1, b2]))
            err32 = rel(flat(f32["grads"]), flat(acc2["grads"]))
            check(err32 <= 1e-4, f"{name} {mode}: fp32 gradient vs float64 rel {err32:.2e}")

    # 5. optimizer wiring vs an independent AdamW loop (float64), qwen2 full (biases) and qwen3 lora
    for name, mode, adir in (("qwen2-bias-untied", "full", None), ("qwen3-tied", "lora", os.path.join(tmp, "qwen3-tied-lora"))):
        mdir = os.path.join(tmp, name)
        b1, b2 = batches(50)
        steps, lr, betas, eps, wd, clip = 4, 2e-2, (0.8, 0.95), 1e-6, 0.1, 0.05
        sched = {"type": "cosine", "warmup_steps": 1, "total_steps": 5}
        model = rt.get_model(mdir)
        names = list(rt.prepare(model, {"mode": mode, "adapter": adir}))
        no_decay = [n for n in names if n.endswith("norm.weight") or n.endswith(".bias")] or names[:2]
        req = request(mdir, mode, adir, [b1, b2], steps=steps, return_grads=False, return_params=True, no_decay=no_decay,
                      optimizer={"lr": lr, "betas": list(betas), "eps": eps, "weight_decay": wd, "max_grad_norm": clip},
                      schedule=sched)
        ans = rt.train(req, dtype=torch.float64)
        params = rt.prepare(model, req, torch.float64)
        total = ans["supervised_tokens"]
        m = {n: torch.zeros_like(p) for n, p in params.items()}
        v = {n: torch.zeros_like(p) for n, p in params.items()}
        losses, lrs, norms = [], [], []
        for s in range(steps):
            for p in params.values():
                p.grad = None
            losses.append(rt.step_loss(model, [b1, b2], total, backward=True)[0] / total)
            f = s / 1 if s < 1 else max(0.0, 0.5 * (1 + math.cos(math.pi * (s - 1) / 4)))
            lrs.append(lr * f)
            norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params.values()))
            norms.append(norm)
            coef = min(1.0, clip / (norm + 1e-6))
            with torch.no_grad():
                for n, p in params.items():
                    g = p.grad * coef
                    m[n] = betas[0] * m[n] + (1 - betas[0]) * g
                    v[n] = betas[1] * v[n] + (1 - betas[1]) * g * g
                    mh, vh = m[n] / (1 - betas[0] ** (s + 1)), v[n] / (1 - betas[1] ** (s + 1))
                    decay = 0.0 if n in no_decay else wd
                    p.mul_(1 - lrs[-1] * decay).sub_(lrs[-1] * mh / (vh.sqrt() + eps))
        check(rel(ans["lrs"], lrs) <= 1e-15, f"opt {name}: lrs {ans['lrs']} vs {lrs}")
        check(rel(ans["losses"], losses) <= 1e-10, f"opt {name}: losses {ans['losses']} vs {losses}")
        check(rel(ans["grad_norms"], norms) <= 1e-10, f"opt {name}: grad norms {ans['grad_norms']} vs {norms}")
        check(max(norms) > clip, f"opt {name}: clipping should be active (norms {norms})")
        got = np.concatenate([np.asarray(ans["params"][n]) for n in names])
        want = np.concatenate([params[n].detach().numpy().reshape(-1) for n in names])
        check(rel(got, want) <= 1e-9, f"opt {name}: params after {steps} steps rel {rel(got, want):.2e}")

    # 6. the protocol, through a subprocess (fp32)
    mdir = os.path.join(tmp, "qwen3-tied")
    b1, b2 = batches(50)
    bad = os.path.join(tmp, "dropout-adapter")
    write_adapter(bad, mdir, r=2, alpha=4, b_std=0.1, dropout=0.05)
    good = request(mdir, "lora", os.path.join(tmp, "qwen3-tied-lora"), [b1, b2], steps=3, id="good",
                   schedule={"type": "linear", "warmup_steps": 1}, optimizer={"lr": 1e-3, "max_grad_norm": 1.0})
    lines = [json.dumps(good), json.dumps(dict(good, id="bad", adapter=bad)), json.dumps(dict(good, id="good2", return_grads=False))]
    proc = subprocess.run([sys.executable, os.path.join(HERE, "reference_train.py")], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, timeout=120)
    answers = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    check(proc.returncode == 0 and [a.get("id") for a in answers] == ["good", "bad", "good2"],
          f"protocol: rc {proc.returncode}, ids {[a.get('id') for a in answers]}, stderr {proc.stderr[-2000:]}")
    if len(answers) == 3:
        a, e, a2 = answers
        check(all(len(a.get(k, [])) == 3 for k in ("losses", "token_accuracy", "entropy", "grad_norms", "lrs")),
              f"protocol: per-step lists {a}")
        check(a.get("lrs") == [0.0, 1e-3 * 2 / 2, 1e-3 * 1 / 2], f"protocol: linear lrs {a.get('lrs')}")
        check("error" in e and "lora_dropout" in e["error"], f"protocol: error answer {e}")
        check("grads" in a and "grads" not in a2 and a2.get("losses") == a.get("losses"), "protocol: grads only when asked; reruns deterministic")
        check(a.get("losses", [0])[0] != a.get("losses", [0, 0])[-1], "protocol: the loss should move")

    summary = (f"reference_train selfcheck: {counts['checks'] - len(failures)}/{counts['checks']} checks passed, "
               f"{counts['fd']} finite-difference gradients (worst rel {worst_fd:.1e}), {len(archs)} architectures, "
               f"{time.time() - t0:.1f} s")
    print(summary if not failures else "FAILED " + summary + f"; first failure: {failures[0]}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
