"""Writes a BERT-base-sized sentence-transformers model with random weights (for speed benchmarks).

    tools/.venv/bin/python tools/bench/make_random_bert.py OUT_DIR [--tokenizer-from DIR]

12 layers, hidden 768, 12 heads, FFN 3072 (BERT-base), vocabulary and tokenizer taken from
--tokenizer-from (default ../shared/models/mini-encoder), mean pooling. Deterministic (seed 0).
"""
import argparse
import json
import os
import shutil

import torch
from transformers import BertConfig, BertModel

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--tokenizer-from", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "models", "mini-encoder"))
args = ap.parse_args()
src = os.path.abspath(args.tokenizer_from)
vocab = json.load(open(os.path.join(src, "config.json")))["vocab_size"]
torch.manual_seed(0)
cfg = BertConfig(vocab_size=vocab, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512)
model = BertModel(cfg).eval()
model.save_pretrained(args.out, safe_serialization=True)
for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json"]:
    if os.path.exists(os.path.join(src, f)):
        shutil.copy(os.path.join(src, f), os.path.join(args.out, f))
os.makedirs(os.path.join(args.out, "1_Pooling"), exist_ok=True)
pool = json.load(open(os.path.join(src, "1_Pooling", "config.json")))
pool["word_embedding_dimension"] = 768
json.dump(pool, open(os.path.join(args.out, "1_Pooling", "config.json"), "w"), indent=2)
print(f"wrote {args.out}: {sum(p.numel() for p in model.parameters()):,} parameters")
