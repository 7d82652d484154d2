"""PyTorch side of tools/bench/gradient-throughput.mjs: triplets/s of forward + backward under the
GAPrune InfoNCE loss (mean pooling, cosine x 20, in-batch + hard negatives), gradients w.r.t. the
MLP weight matrices only (as prunekit's statistics), eval mode, and the peak RSS.

    tools/.venv/bin/python tools/bench/gradient_throughput.py MODEL_DIR TRIPLETS.json BATCH BATCHES
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

model_dir, triplets_file, batch, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
triplets = json.load(open(triplets_file))
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()
for name, p in model.named_parameters():
    p.requires_grad = ("intermediate.dense.weight" in name) or ("output.dense.weight" in name and "attention" not in name)
trained = [p for p in model.parameters() if p.requires_grad]
accumulators = [(torch.zeros_like(p), torch.zeros_like(p)) for p in trained]


def embed(texts):
    enc = tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    h = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def step(chunk):
    q = embed([t["query"] for t in chunk])
    p = embed([t["positive"] for t in chunk])
    n = embed([t["negative"] for t in chunk])
    cand = torch.cat([p, n], 0)
    scores = F.cosine_similarity(q[:, None, :], cand[None, :, :], dim=-1) * 20.0
    loss = F.cross_entropy(scores, torch.arange(len(chunk)))
    model.zero_grad()
    loss.backward()
    # accumulate g^2 and g in place, as prunekit's statistics do
    with torch.no_grad():
        for p_, (sq, s) in zip(trained, accumulators):
            sq.addcmul_(p_.grad, p_.grad)
            s.add_(p_.grad)


chunks = [triplets[i * batch:(i + 1) * batch] for i in range(batches)]
step(chunks[0])  # warm-up
t0 = time.perf_counter()
for c in chunks:
    step(c)
dt = time.perf_counter() - t0
print(json.dumps({"triplets_per_s": batch * batches / dt, "seconds": dt, "threads": torch.get_num_threads(),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
