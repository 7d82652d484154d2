"""Python half of tools/bench/tokenizer-speed.mjs: HF fast tokenizer (transformers 5) on the same sentences.
Prints sentences/s for per-sentence calls and one batch call, as JSON."""
import json
import sys
import time

from transformers import AutoTokenizer

folder, sentences_file = sys.argv[1], sys.argv[2]
texts = json.load(open(sentences_file, encoding="utf-8"))
tok = AutoTokenizer.from_pretrained(folder)
max_len = int(tok.model_max_length)
tok(texts[:50], truncation=True, max_length=max_len)  # warm-up

best_single, best_batch = float("inf"), float("inf")
for _ in range(3):
    t = time.perf_counter()
    for s in texts:
        tok(s, truncation=True, max_length=max_len)
    best_single = min(best_single, time.perf_counter() - t)
    t = time.perf_counter()
    tok(texts, truncation=True, max_length=max_len, padding="longest")
    best_batch = min(best_batch, time.perf_counter() - t)
print(json.dumps({"n": len(texts), "singlePerSec": len(texts) / best_single, "batchPerSec": len(texts) / best_batch}))
