"""PyTorch leg of tools/bench/onnx-speed.mjs: times dense and compacted BERT folders in PyTorch.

    tools/.venv/bin/python tools/bench/onnx_speed_torch.py --spec SPEC.json --out OUT.json

SPEC.json: {"seq_len": 128, "repeats": 3, "repeats_b1": 5, "threads": 2,
            "models": [{"key": "...", "dir": "..."}]}
A compacted folder (config.json "prunekit_layers" with whole heads removed: no qk_dims/v_dims/
input_features) is built as a BertModel whose per-layer Linear modules have the compacted shapes;
transformers 5 infers the head count from the projection width and scales by the original head
size, which is what prunekit's forward does. Inputs are the same deterministic token ids as the Node
side. OUT.json: {key: {"b1_ms": best, "b32_ms": best, "embedding_b1": [...]}} (forward + mean pooling).
"""
import argparse
import json
import os
import time

import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertModel


def build(folder: str) -> BertModel:
    raw = json.load(open(os.path.join(folder, "config.json")))
    layers = raw.pop("prunekit_layers", None)
    cfg = BertConfig(**{k: v for k, v in raw.items() if k not in ("architectures",)})
    model = BertModel(cfg, add_pooling_layer=False)
    state = load_file(os.path.join(folder, "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
    if layers:
        hidden = cfg.hidden_size
        for l, s in enumerate(layers):
            if any(k in s for k in ("qk_dims", "v_dims", "input_features")):
                raise SystemExit(f"{folder}: layer {l} has partial heads or gathered inputs; this benchmark builds whole-head compaction only")
            layer = model.encoder.layer[l]
            width = s["num_heads"] * s["head_dim"]
            att = layer.attention.self
            att.query = torch.nn.Linear(hidden, width)
            att.key = torch.nn.Linear(hidden, width)
            att.value = torch.nn.Linear(hidden, width)
            for name in ("num_attention_heads", "all_head_size"):
                if hasattr(att, name):
                    setattr(att, name, s["num_heads"] if name == "num_attention_heads" else width)
            layer.attention.output.dense = torch.nn.Linear(width, hidden)
            layer.intermediate.dense = torch.nn.Linear(hidden, s["intermediate_size"])
            layer.output.dense = torch.nn.Linear(s["intermediate_size"], hidden)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"{folder}: state dict mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def inputs(vocab: int, batch: int, seq: int):
    n = batch * seq
    ids = torch.tensor([2 if i % seq == 0 else 5 + ((i * 7919) % (vocab - 10)) for i in range(n)], dtype=torch.long).reshape(batch, seq)
    return ids, torch.ones_like(ids), torch.zeros_like(ids)


def encode(model, x):
    ids, mask, types = x
    h = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    m = mask.unsqueeze(-1).float()
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    spec = json.load(open(a.spec))
    torch.set_num_threads(spec["threads"])
    seq = spec["seq_len"]
    out = {}
    models = [(m["key"], build(m["dir"])) for m in spec["models"]]
    data = {}
    with torch.inference_mode():
        for key, model in models:
            vocab = model.config.vocab_size
            data[key] = {"b1": inputs(vocab, 1, seq), "b32": inputs(vocab, 32, seq), "t1": [], "t32": []}
            encode(model, data[key]["b1"])
            encode(model, data[key]["b32"])
        # interleaved rounds, best time kept (load from other processes hits every variant alike)
        for r in range(max(spec["repeats"], spec["repeats_b1"])):
            for key, model in models:
                d = data[key]
                if r < spec["repeats_b1"]:
                    t0 = time.perf_counter(); encode(model, d["b1"]); d["t1"].append((time.perf_counter() - t0) * 1000)
                if r < spec["repeats"]:
                    t0 = time.perf_counter(); encode(model, d["b32"]); d["t32"].append((time.perf_counter() - t0) * 1000)
        for key, model in models:
            d = data[key]
            out[key] = {"b1_ms": min(d["t1"]), "b32_ms": min(d["t32"]), "embedding_b1": encode(model, d["b1"])[0].tolist()}
    json.dump(out, open(a.out, "w"))


if __name__ == "__main__":
    main()
