"""sentence-transformers side of tools/bench/encode-speed.mjs: sentences/s for one model folder.

    tools/.venv/bin/python tools/bench/encode_speed.py MODEL_DIR SENTENCES.json BATCH_SIZE REPEATS
prints one JSON line {"sentences_per_s": ..., "seconds": [...], "threads": ...}
"""
import json
import sys
import time

import torch
from sentence_transformers import SentenceTransformer

model_dir, sentences_file, batch_size, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sentences = json.load(open(sentences_file))
model = SentenceTransformer(model_dir, device="cpu")
model.encode(sentences[:64], batch_size=batch_size)  # warm-up
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    model.encode(sentences, batch_size=batch_size)
    times.append(time.perf_counter() - t0)
best = min(times)
print(json.dumps({"sentences_per_s": len(sentences) / best, "seconds": times, "threads": torch.get_num_threads(), "max_seq_length": model.max_seq_length}))
