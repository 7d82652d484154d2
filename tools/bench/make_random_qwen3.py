"""A random-weight model of Qwen3-Embedding-0.6B's shape, for memory/throughput benchmarks (never committed).

    tools/.venv/bin/python tools/bench/make_random_qwen3.py OUT_DIR [--layers 28]

Shape as Qwen3-Embedding-0.6B's config.json: hidden 1024, 28 layers, 16 query / 8 KV heads of head_dim
128, MLP 3072, vocab 151669, tied embeddings, rms_norm_eps 1e-6, rope_theta 1e6; weights stored bf16
(as the released checkpoint) in two shards. The tokenizer and sentence-transformers files (last-token
pooling, Normalize, a query prompt) come from the small BPE fixture tools/fixtures/data/decoders/qwen3-embed,
whose ids are all below the vocabulary size.
"""

import argparse
import os
import shutil
import sys

import torch
from transformers import Qwen3Config, Qwen3Model

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "data", "decoders", "qwen3-embed")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=28)
    args = ap.parse_args()
    cfg = Qwen3Config(
        vocab_size=151669, hidden_size=1024, intermediate_size=3072, num_hidden_layers=args.layers, num_attention_heads=16,
        num_key_value_heads=8, head_dim=128, max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=True, pad_token_id=151643, eos_token_id=151643, architectures=["Qwen3Model"],
    )
    torch.manual_seed(0)
    with torch.device("meta"):
        model = Qwen3Model(cfg)
    model = model.to_empty(device="cpu").to(torch.bfloat16)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.fill_(1.0)
            else:
                p.copy_((torch.randn(p.shape, generator=g) * 0.02).to(torch.bfloat16))
    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, max_shard_size="700MB")
    for f in os.listdir(FIXTURE):
        if f in ("config.json", "model.safetensors", "reference.safetensors"):
            continue
        src = os.path.join(FIXTURE, f)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(tmp, f))
    # pooling dimension of the real model
    import json

    pc = os.path.join(tmp, "1_Pooling", "config.json")
    c = json.load(open(pc))
    c["word_embedding_dimension"] = 1024
    json.dump(c, open(pc, "w"), indent=2)
    shutil.rmtree(args.out, ignore_errors=True)
    os.replace(tmp, args.out)
    n = sum(p.numel() for p in model.parameters())
    print(f"{args.out}: {n / 1e6:.1f}M parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
