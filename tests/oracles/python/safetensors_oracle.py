#!/usr/bin/python3
"""Independent safetensors reader/writer (numpy + torch, no safetensors package) for SharpTune's parity tests.

  safetensors_oracle.py write OUT.safetensors SEED   write random F32/F16/BF16 tensors; print them as JSON
  safetensors_oracle.py read FILE.safetensors        parse a file; print its tensors as JSON

JSON printed: {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values": [float, ...]}}}, values widened
to float64 (exact for all three dtypes).
"""
import json
import struct
import sys

import numpy as np
import torch


def to_values(dtype, raw, shape):
    if dtype == "F32":
        arr = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    elif dtype == "F16":
        arr = np.frombuffer(raw, dtype="<f2").astype(np.float64)
    elif dtype == "BF16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        arr = bits.view(np.float32).astype(np.float64)
    else:
        raise SystemExit(f"unsupported dtype {dtype}")
    n = int(np.prod(shape)) if shape else 1
    assert arr.size == n, (arr.size, shape)
    return arr.tolist()


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    out = {"metadata": header.pop("__metadata__", {}), "tensors": {}}
    for name, t in header.items():
        b, e = t["data_offsets"]
        out["tensors"][name] = {"dtype": t["dtype"], "shape": t["shape"], "values": to_values(t["dtype"], body[b:e], t["shape"])}
    return out


def write(path, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tensors = {
        "z.f32": ("F32", rng.standard_normal((3, 4)).astype("<f4")),
        "a.f16": ("F16", (rng.standard_normal((5,)) * 3).astype("<f2")),
        "m.bf16": ("BF16", torch.randn(2, 3, 2).to(torch.bfloat16)),
        "s.scalar": ("F32", np.array(7.25, dtype="<f4")),
    }
    # Data in a different order from the header's key order, as safetensors' own writer does (it sorts by dtype).
    order = ["m.bf16", "a.f16", "z.f32", "s.scalar"]
    header, chunks, offset = {"__metadata__": {"format": "pt", "writer": "oracle"}}, [], 0
    for name in order:
        dtype, t = tensors[name]
        raw = t.view(torch.int16).numpy().astype("<i2").tobytes() if dtype == "BF16" else t.tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header = {k: header[k] for k in ["__metadata__", "z.f32", "s.scalar", "a.f16", "m.bf16"]}
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    # The expected values come from the source tensors, not from reading the file back.
    out = {"metadata": header["__metadata__"], "tensors": {}}
    for name, (dtype, t) in tensors.items():
        values = t.to(torch.float64).reshape(-1).tolist() if dtype == "BF16" else t.astype(np.float64).reshape(-1).tolist()
        out["tensors"][name] = {"dtype": dtype, "shape": list(t.shape), "values": values}
    return out


if __name__ == "__main__":
    if sys.argv[1] == "read":
        result = read(sys.argv[2])
    else:
        result = write(sys.argv[2], int(sys.argv[3]))
    json.dump(result, sys.stdout)
