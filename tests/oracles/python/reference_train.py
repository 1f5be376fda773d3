#!/usr/bin/python3
"""Reference SFT training steps for SharpTune's training parity tests (torch + numpy only; no transformers/peft).

The forward is reference_model.Model (Llama, Mistral, Qwen2, Qwen3 as transformers computes them); this script adds
what transformers' Trainer + PEFT + torch do around it, in fp32 on the CPU, deterministically:

Loss (transformers' ForCausalLMLoss with num_items_in_batch):
  labels are aligned with input_ids; logits at position t predict labels[t+1] (labels padded at the end with -100),
  ignore_index -100. For the micro-batches b of ONE optimizer step, with N = number of labels != -100 over all of them:
      loss = sum_b sum_t CE_t / N,      CE_t = -log_softmax(logits_t)[label]   (fp32 log_softmax + nll_loss(sum))
  Each micro-batch is backpropagated as (its CE sum) / N, so the accumulated .grad is the gradient of `loss`.
  token_accuracy = #(argmax(logits_t) == label) / N;  entropy = sum_t (-sum_v p_v log p_v) / N, p = softmax(logits_t);
  both over the same supervised positions t of all micro-batches. Attention: reference_model's 4-D causal + padding
  mask (finfo(fp32).min), positions 0..T-1, right padding (attention_mask 0).

LoRA (PEFT, lora_dropout 0): for every adapter tensor pair
  base_model.model.model.layers.{L}.{self_attn|mlp}.{q|k|v|o|gate|up|down}_proj.lora_A.weight  [r, in]
  base_model.model.model.layers.{L}.{self_attn|mlp}.{...}_proj.lora_B.weight                   [out, r]
      y = F.linear(x, W, bias) + F.linear(F.linear(x, A), B) * scaling,
      scaling = lora_alpha / r   (lora_alpha / sqrt(r) with use_rslora)
  Base weights are frozen; the trainable parameters are every A and B, named exactly as in the file.
  Refused (error answer): lora_dropout > 0, use_dora, bias != "none", fan_in_fan_out, modules_to_save,
  rank_pattern/alpha_pattern, any other adapter key, shape mismatches.
Full fine-tuning: every checkpoint tensor is trainable (HF names); a tied model trains only
  model.embed_tokens.weight (used by the embedding and the head, so its gradient is the sum of both).

Optimizer: torch.optim.AdamW(groups, lr, betas, eps, weight_decay, foreach=False); group 1 = trainable names not in
  no_decay (weight_decay), group 2 = no_decay names (weight_decay 0). Per step:
      zero grads; forward+backward every micro-batch; grad_norm = ||all grads||_2 (as clip_grad_norm_: the norm of the
      per-tensor norms); clip_grad_norm_(params, max_grad_norm) when max_grad_norm is not null;
      optimizer.step(); scheduler.step()
  Schedules (torch.optim.lr_scheduler.LambdaLR, lr = base_lr * f(step), step = 0-based index of the update),
  w = warmup_steps, T = total_steps (default: steps), as transformers' get_*_schedule_with_warmup:
      constant: f = step / max(1, w) if step < w else 1
      linear:   f = step / max(1, w) if step < w else max(0, (T - step) / max(1, T - w))
      cosine:   f = step / max(1, w) if step < w else max(0, 0.5 * (1 + cos(pi * 0.5 * 2 * progress))),
                progress = (step - w) / max(1, T - w)

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
  {"id": s, "model": DIR, "mode": "lora"|"full", "adapter": DIR (lora),
   "batches": [{"input_ids": [[..]], "labels": [[..]], "attention_mask": [[..]] (optional, default all 1)}, ...],
   "steps": n (default 1),
   "optimizer": {"lr": x, "betas": [b1, b2], "eps": e, "weight_decay": wd, "max_grad_norm": null|x},
   "no_decay": [names], "schedule": {"type": ..., "warmup_steps": w, "total_steps": T} (optional),
   "return_grads": bool, "return_params": bool (optional: the trainable values after the last step)}
  -> {"id", "losses": [..], "token_accuracy": [..], "entropy": [..], "grad_norms": [..], "lrs": [..],
      "supervised_tokens": N, "grads": {name: [flat row-major]} (return_grads; step 0, before clipping),
      "params": {name: [flat row-major]} (return_params)}
  The lists have one entry per step, measured on that step's forward (before its update); lrs[i] is the lr the
  i-th update used. On an error: {"id", "error": message}, and the next request is read.

Training loop (a request with "loop"): transformers' Trainer._inner_training_loop for one process, a map-style
dataset and SequentialSampler (LLaMA-Factory's disable_shuffling), written out from trainer.py:
  {"loop": {"samples": [{"input_ids": [..], "labels": [..]}, ...], "batch_size": B, "accumulation": GA,
            "epochs": E, "max_steps": -1|n, "warmup_ratio": r, "warmup_steps": w, "logging_steps": k, "pad_id": p}}
  len_dataloader = ceil(n / B) (the last batch may be smaller); each batch right-padded to its longest sample
  (input_ids with pad_id, labels -100, attention_mask 0);
  updates_per_epoch = max(len // GA + (len % GA > 0), 1); max_steps = ceil(E * updates_per_epoch) unless max_steps > 0;
  epochs entered = ceil(E) (or ceil(max_steps / updates_per_epoch)); per epoch: remainder = len % GA or GA,
  total_updates = len // GA + (remainder < GA), update u takes GA batches except the last, which takes remainder;
  num_items_in_batch = shifted supervised labels of the update's batches; loss = sum CE / num_items_in_batch;
  clip, AdamW, scheduler (warmup = warmup_steps or ceil(warmup_ratio * max_steps), total = max_steps);
  global_step += 1; stop when global_step >= max_steps; every logging_steps updates the logged loss is the mean of
  the step losses since the last log (transformers' tr_loss / (global_step - _globalstep_last_logged), unrounded).
  -> {"id", "step_losses", "logged_losses", "logged_steps", "grad_norms", "lrs", "max_steps", "params"}
"""
import json
import math
import os
import re
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from reference_model import Model, load_safetensors  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)
torch.use_deterministic_algorithms(True)

IGNORE = -100
LORA_KEY = re.compile(
    r"^base_model\.model\.(model\.layers\.\d+\.(?:self_attn\.(?:q_proj|k_proj|v_proj|o_proj)|mlp\.(?:gate_proj|up_proj|down_proj)))"
    r"\.lora_([AB])\.weight$")


class TrainModel(Model):
    """reference_model.Model whose projections may carry LoRA: self.lora maps a module name to (A, B, scaling)."""

    def __init__(self, directory):
        super().__init__(directory)
        self.base = self.w  # the checkpoint as loaded (fp32); each request builds self.w from it
        self.lora = {}

    def linear(self, x, name, bias=False):
        y = super().linear(x, name, bias)
        lora = self.lora.get(name)
        if lora is not None:
            a, b, scaling = lora
            y = y + F.linear(F.linear(x, a), b) * scaling
        return y


_models = {}


def get_model(directory):
    if directory not in _models:
        _models[directory] = TrainModel(directory)
    return _models[directory]


def load_adapter(directory, model):
    """Reads a PEFT folder; returns (ordered {key: fp32 tensor}, {module: (A key, B key)}, scaling)."""
    with open(os.path.join(directory, "adapter_config.json")) as f:
        cfg = json.load(f)
    if float(cfg.get("lora_dropout", 0.0) or 0.0) > 0:
        raise ValueError(f"lora_dropout {cfg['lora_dropout']} > 0 is not supported (the oracle is deterministic)")
    if cfg.get("use_dora"):
        raise ValueError("use_dora is not supported")
    if cfg.get("bias", "none") != "none":
        raise ValueError(f"adapter bias {cfg['bias']!r} is not supported (only 'none')")
    if cfg.get("fan_in_fan_out"):
        raise ValueError("fan_in_fan_out is not supported")
    if cfg.get("modules_to_save"):
        raise ValueError("modules_to_save is not supported")
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        raise ValueError("rank_pattern / alpha_pattern are not supported")
    r = int(cfg["r"])
    alpha = float(cfg["lora_alpha"])
    scaling = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
    tensors = load_safetensors(os.path.join(directory, "adapter_model.safetensors"))
    modules = {}
    for key, t in tensors.items():
        m = LORA_KEY.match(key)
        if m is None:
            raise ValueError(f"unsupported adapter tensor {key}")
        module, which = m.group(1), m.group(2)
        weight = model.base.get(module + ".weight")
        if weight is None:
            raise ValueError(f"adapter tensor {key}: the model has no {module}.weight")
        out_f, in_f = weight.shape
        want = [r, in_f] if which == "A" else [out_f, r]
        if list(t.shape) != want:
            raise ValueError(f"adapter tensor {key}: shape {list(t.shape)}, expected {want} (r = {r})")
        modules.setdefault(module, {})[which] = key
    for module, pair in modules.items():
        if set(pair) != {"A", "B"}:
            raise ValueError(f"adapter module {module} lacks lora_{'B' if 'A' in pair else 'A'}")
    return tensors, {m: (p["A"], p["B"]) for m, p in modules.items()}, scaling


def prepare(model, req, dtype=torch.float32):
    """Sets model.w / model.lora / model.compute_dtype for req; returns {name: trainable leaf tensor} (file order)."""
    model.compute_dtype = dtype
    mode = req.get("mode")
    if mode == "full":
        model.lora = {}
        model.w = {k: v.to(dtype).clone().requires_grad_(True) for k, v in model.base.items()
                   if not (model.tied and k == "lm_head.weight")}  # tied: the head is embed_tokens
        return dict(model.w)
    if mode == "lora":
        if not req.get("adapter"):
            raise ValueError("lora mode needs 'adapter'")
        model.w = {k: v.to(dtype) for k, v in model.base.items()}
        tensors, modules, scaling = load_adapter(req["adapter"], model)
        params = {k: t.to(dtype).clone().requires_grad_(True) for k, t in tensors.items()}
        model.lora = {m: (params[a], params[b], scaling) for m, (a, b) in modules.items()}
        return params
    raise ValueError(f"mode must be 'lora' or 'full', not {mode!r}")


def tensors_of(mb, vocab):
    ids = torch.tensor(mb["input_ids"], dtype=torch.long)
    if ids.dim() != 2 or ids.numel() == 0:
        raise ValueError("input_ids must be a non-empty [B][T] array")
    labels = torch.tensor(mb["labels"], dtype=torch.long)
    mask = torch.tensor(mb["attention_mask"], dtype=torch.long) if mb.get("attention_mask") is not None else torch.ones_like(ids)
    if labels.shape != ids.shape or mask.shape != ids.shape:
        raise ValueError(f"labels {list(labels.shape)} / attention_mask {list(mask.shape)} must match input_ids {list(ids.shape)}")
    if ids.min() < 0 or ids.max() >= vocab:
        raise ValueError(f"input_ids outside [0, {vocab})")
    bad = (labels != IGNORE) & ((labels < 0) | (labels >= vocab))
    if bad.any():
        raise ValueError(f"labels outside [0, {vocab}) and not {IGNORE}")
    return ids, labels, mask


def supervised_count(batches, vocab):
    total = 0
    for mb in batches:
        _, labels, _ = tensors_of(mb, vocab)
        total += int((labels[:, 1:] != IGNORE).sum())
    return total


def step_loss(model, batches, total, backward):
    """Forward (and backward, scaled by 1/total) of every micro-batch; returns (CE sum, #correct, entropy sum)."""
    vocab = model.cfg["vocab_size"]
    ce_total, correct, entropy = 0.0, 0, 0.0
    for mb in batches:
        ids, labels, mask = tensors_of(mb, vocab)
        with torch.set_grad_enabled(backward):
            logits = model.forward(ids, mask).to(model.compute_dtype)  # transformers: logits.float()
            shift = F.pad(labels, (0, 1), value=IGNORE)[:, 1:].reshape(-1)
            flat = logits.reshape(-1, logits.shape[-1])
            logp = F.log_softmax(flat, dim=-1)
            ce = F.nll_loss(logp, shift, ignore_index=IGNORE, reduction="sum")
            if backward:
                (ce / total).backward()
        with torch.no_grad():
            sel = shift != IGNORE
            lp = logp.detach()[sel]
            correct += int((flat.detach()[sel].argmax(-1) == shift[sel]).sum())
            entropy += float(-(lp.exp() * lp).sum())
            ce_total += float(ce.detach())
    return ce_total, correct, entropy


def lr_lambda(schedule, steps):
    kind = (schedule or {}).get("type", "constant")
    w = int((schedule or {}).get("warmup_steps", 0) or 0)
    t = (schedule or {}).get("total_steps")
    t = int(steps if t is None else t)

    def constant(step):
        return float(step) / float(max(1.0, w)) if step < w else 1.0

    def linear(step):
        if step < w:
            return float(step) / float(max(1, w))
        return max(0.0, float(t - step) / float(max(1, t - w)))

    def cosine(step):
        if step < w:
            return float(step) / float(max(1, w))
        progress = float(step - w) / float(max(1, t - w))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))

    fns = {"constant": constant, "linear": linear, "cosine": cosine}
    if kind not in fns:
        raise ValueError(f"unknown schedule type {kind!r}")
    return fns[kind]


def grad_norm(params):
    """The global L2 norm exactly as torch.nn.utils.clip_grad_norm_ computes it (norm of the per-tensor norms)."""
    grads = [p.grad.detach() for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    return torch.norm(torch.stack([torch.norm(g, 2.0) for g in grads]), 2.0)


def flat(t):
    return t.detach().reshape(-1).tolist()


def train(req, dtype=torch.float32):
    model = get_model(req["model"])
    params = prepare(model, req, dtype)
    batches = req["batches"]
    if not batches:
        raise ValueError("no batches")
    steps = int(req.get("steps", 1))
    total = supervised_count(batches, model.cfg["vocab_size"])
    if total == 0:
        raise ValueError("no supervised tokens (every shifted label is -100)")
    o = req.get("optimizer") or {}
    lr = float(o["lr"])
    betas = tuple(float(b) for b in o.get("betas", (0.9, 0.999)))
    eps = float(o.get("eps", 1e-8))
    wd = float(o.get("weight_decay", 0.0))
    max_norm = o.get("max_grad_norm")
    no_decay = list(req.get("no_decay") or [])
    unknown = [n for n in no_decay if n not in params]
    if unknown:
        raise ValueError(f"no_decay names that are not trainable parameters: {unknown}")
    order = list(params)
    decay = [params[n] for n in order if n not in no_decay]
    nodecay = [params[n] for n in order if n in no_decay]
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": wd})
    if nodecay:
        groups.append({"params": nodecay, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, weight_decay=wd, amsgrad=False, foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(req.get("schedule"), steps))
    plist = [params[n] for n in order]
    out = {"id": req.get("id"), "losses": [], "token_accuracy": [], "entropy": [], "grad_norms": [], "lrs": [],
           "supervised_tokens": total}
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        ce, correct, ent = step_loss(model, batches, total, backward=True)
        out["losses"].append(ce / total)
        out["token_accuracy"].append(correct / total)
        out["entropy"].append(ent / total)
        if step == 0 and req.get("return_grads"):
            out["grads"] = {n: flat(params[n].grad) if params[n].grad is not None else [0.0] * params[n].numel()
                            for n in order}
        if max_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(plist, float(max_norm))
        else:
            norm = grad_norm(plist)
        out["grad_norms"].append(float(norm))
        out["lrs"].append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    if req.get("return_params"):
        out["params"] = {n: flat(params[n]) for n in order}
    return out


def collate(samples, pad_id):
    width = max(len(s["input_ids"]) for s in samples)
    ids, labels, mask = [], [], []
    for s in samples:
        n = len(s["input_ids"])
        ids.append(list(s["input_ids"]) + [pad_id] * (width - n))
        labels.append(list(s["labels"]) + [IGNORE] * (width - n))
        mask.append([1] * n + [0] * (width - n))
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def train_loop(req, dtype=torch.float32):
    model = get_model(req["model"])
    params = prepare(model, req, dtype)
    L = req["loop"]
    samples = L["samples"]
    n, bs, ga = len(samples), int(L["batch_size"]), int(L["accumulation"])
    len_dataloader = math.ceil(n / bs)
    per_epoch = max(len_dataloader // ga + int(len_dataloader % ga > 0), 1)
    max_steps_arg = int(L.get("max_steps", -1))
    if max_steps_arg > 0:
        max_steps = max_steps_arg
        num_epochs = max_steps // per_epoch + int(max_steps % per_epoch > 0)
    else:
        max_steps = math.ceil(float(L["epochs"]) * per_epoch)
        num_epochs = math.ceil(float(L["epochs"]))
    warmup = int(L.get("warmup_steps", 0) or 0) or math.ceil(float(L.get("warmup_ratio", 0.0)) * max_steps)
    logging_steps = int(L.get("logging_steps", 1))
    o = req.get("optimizer") or {}
    max_norm = o.get("max_grad_norm")
    order = list(params)
    opt = torch.optim.AdamW([{"params": [params[k] for k in order], "weight_decay": float(o.get("weight_decay", 0.0))}],
                            lr=float(o["lr"]), betas=tuple(float(b) for b in o.get("betas", (0.9, 0.999))),
                            eps=float(o.get("eps", 1e-8)), amsgrad=False, foreach=False)
    kind = (req.get("schedule") or {}).get("type", "constant")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda({"type": kind, "warmup_steps": warmup, "total_steps": max_steps}, max_steps))
    plist = [params[k] for k in order]
    vocab = model.cfg["vocab_size"]
    out = {"id": req.get("id"), "step_losses": [], "logged_losses": [], "logged_steps": [], "grad_norms": [], "lrs": [],
           "max_steps": max_steps}
    global_step, tr_loss, last_logged, stop = 0, 0.0, 0, False
    for epoch in range(num_epochs):
        batches = [collate(samples[i:i + bs], int(L.get("pad_id", 0))) for i in range(0, n, bs)]
        steps_in_epoch = len(batches)
        remainder = steps_in_epoch % ga
        if remainder == 0:
            remainder = ga
        total_updates = steps_in_epoch // ga + int(remainder < ga)
        it = iter(batches)
        for u in range(total_updates):
            num_batches = ga if u != total_updates - 1 else remainder
            mbs = [next(it) for _ in range(num_batches)]
            total = supervised_count(mbs, vocab)
            opt.zero_grad(set_to_none=True)
            ce, _, _ = step_loss(model, mbs, total, backward=True)
            loss = ce / total
            norm = torch.nn.utils.clip_grad_norm_(plist, float(max_norm)) if max_norm is not None else grad_norm(plist)
            out["grad_norms"].append(float(norm))
            out["lrs"].append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
            global_step += 1
            out["step_losses"].append(loss)
            tr_loss += loss
            if global_step % logging_steps == 0:
                out["logged_losses"].append(tr_loss / (global_step - last_logged))
                out["logged_steps"].append(global_step)
                tr_loss, last_logged = 0.0, global_step
            if global_step >= max_steps:
                stop = True
                break
        if stop:
            break
    out["params"] = {k: flat(params[k]) for k in order}
    return out


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            answer = train_loop(req) if req.get("loop") else train(req)
            try:
                text = json.dumps(answer, allow_nan=False)
            except ValueError:
                raise ValueError("non-finite value (NaN/Inf) in the answer")
        except Exception as e:  # noqa: BLE001 - every failure becomes an error answer
            traceback.print_exc(file=sys.stderr)
            text = json.dumps({"id": rid, "error": f"{type(e).__name__}: {e}"})
        print(text, flush=True)


if __name__ == "__main__":
    main()
