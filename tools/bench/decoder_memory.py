"""PyTorch side of tools/bench/decoder-memory.mjs: the same encode and GAPrune-statistics workload on a
decoder embedder with sentence-transformers / transformers (float32, CPU), printing one JSON line.

    tools/.venv/bin/python tools/bench/decoder_memory.py MODEL_DIR WORK.json
"""

import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
from sentence_transformers import SentenceTransformer


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    model_dir, work_file = sys.argv[1], sys.argv[2]
    work = json.load(open(work_file))
    t = time.perf_counter()
    st = SentenceTransformer(model_dir, device="cpu", model_kwargs={"dtype": torch.float32})
    load_s = time.perf_counter() - t
    load_rss = rss_mb()
    texts = work["texts"]
    st.encode(texts[:4], batch_size=work["encode_batch"])  # warm-up
    t = time.perf_counter()
    st.encode(texts, batch_size=work["encode_batch"])
    enc_s = time.perf_counter() - t
    encode_rss = rss_mb()
    # GAPrune statistics: InfoNCE (scale 20, in-batch + hard negatives) gradients of the MLP matrices, Fisher + mean grad
    model = st[0].auto_model
    for name, p in model.named_parameters():
        p.requires_grad_(".mlp." in name)
    mlp = [p for n, p in model.named_parameters() if ".mlp." in n]
    fisher = [torch.zeros_like(p) for p in mlp]
    mean = [torch.zeros_like(p) for p in mlp]
    prompt = st.prompts.get("query", "")

    def embed(xs):
        f = st.tokenize(xs)
        out = st({k: v for k, v in f.items()})
        return out["sentence_embedding"]

    t = time.perf_counter()
    n = 0
    for split in ("domain", "general"):
        for batch in work[split]:
            q = embed([prompt + x["query"] for x in batch])
            p = embed([x["positive"] for x in batch] + [x["negative"] for x in batch])
            logits = 20 * q @ p.T
            loss = F.cross_entropy(logits, torch.arange(len(batch)))
            model.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for i, w in enumerate(mlp):
                    fisher[i] += w.grad**2
                    mean[i] += w.grad
            n += len(batch)
    grad_s = time.perf_counter() - t
    print(json.dumps({
        "load_s": load_s, "load_rss_mb": load_rss, "encode_texts_per_s": len(texts) / enc_s, "encode_rss_mb": encode_rss,
        "gaprune_triplets_per_s": n / grad_s, "peak_rss_mb": rss_mb(),
        "params": sum(p.numel() for p in model.parameters()), "mlp_params": sum(p.numel() for p in mlp),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
