"""Distils ../shared/models/mini-encoder into a small Qwen3-architecture decoder embedder (GPU run).

    python3 tools/decoder-embedder/train_distill.py .distill OUT_DIR MINUTES

Student: Qwen3Model, hidden 256, 4 layers, 4 query / 2 KV heads of head_dim 64, SwiGLU MLP 512,
vocab 8192 (the teacher's WordPiece tokenizer: its post-processor ends every text with [SEP], which
is the last token the embedder pools), tied embeddings, causal attention, last-token pooling,
L2-normalised. Loss: 1 - cos(student, teacher) on the teacher's normalised embeddings of
.distill/texts.txt (the teacher is encoded once, on the GPU), plus an in-batch contrastive term
(scale 20) on the same targets so the student keeps the teacher's neighbourhoods. AdamW, lr 1e-3,
warmup 5%, cosine decay, bf16 autocast, batch 256, max 64 tokens, time budget MINUTES.
Writes OUT_DIR/decoder-embedder (HF + sentence-transformers folder, fp32) and OUT_DIR/result.json with
the STS-B test Spearman (cosine) of student and teacher.
"""

import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer, Qwen3Config, Qwen3Model

torch.manual_seed(0)


def ranks(x):
    # average ranks for ties, as scipy.stats.rankdata (the GPU machine may lack scipy)
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        r[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


@torch.no_grad()
def encode(model, tok, texts, pooling, dev, bs=512):
    out = []
    for i in range(0, len(texts), bs):
        f = tok(texts[i : i + bs], truncation=True, max_length=128, padding=True, return_tensors="pt").to(dev)
        h = model(**f).last_hidden_state.float()
        m = f["attention_mask"]
        if pooling == "mean":
            e = (h * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp(min=1e-9)
        else:  # last token (right padding)
            e = h[torch.arange(h.shape[0], device=dev), m.sum(1) - 1]
        out.append(F.normalize(e, dim=-1))
    return torch.cat(out)


def stsb(model, tok, pooling, rows, dev):
    a = encode(model, tok, [r["sentence1"] for r in rows], pooling, dev)
    b = encode(model, tok, [r["sentence2"] for r in rows], pooling, dev)
    return spearman((a * b).sum(-1).cpu().numpy(), [r["score"] for r in rows])


def main() -> int:
    data, out, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3])
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    t0 = time.time()
    texts = [t for t in open(os.path.join(data, "texts.txt"), encoding="utf-8").read().split("\n") if t]
    test = [json.loads(l) for l in open(os.path.join(data, "stsb_test.jsonl"), encoding="utf-8") if l.strip()]
    tok = AutoTokenizer.from_pretrained(os.path.join(data, "teacher"))
    teacher = AutoModel.from_pretrained(os.path.join(data, "teacher")).to(dev).eval()  # mean pooling (its 1_Pooling)
    targets = encode(teacher, tok, texts, "mean", dev, bs=1024)
    teacher_score = stsb(teacher, tok, "mean", test, dev)
    print(f"teacher encoded {len(texts)} texts in {time.time() - t0:.0f}s; teacher STS-B test spearman {teacher_score:.4f}", flush=True)

    cfg = Qwen3Config(
        vocab_size=tok.vocab_size, hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, head_dim=64, max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=10000.0,
        tie_word_embeddings=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id, bos_token_id=tok.cls_token_id,
        architectures=["Qwen3Model"], attention_dropout=0.0,
    )
    model = Qwen3Model(cfg).to(dev)
    # start from the teacher's word embeddings (same tokenizer, same width)
    with torch.no_grad():
        model.embed_tokens.weight.copy_(teacher.embeddings.word_embeddings.weight)
    enc = tok(texts, truncation=True, max_length=64, padding=False)["input_ids"]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    budget = minutes * 60
    start = time.time()
    bs = 256
    step = 0
    est_steps = None
    order = np.random.default_rng(0).permutation(len(texts))
    pos = 0
    model.train()
    while True:
        el = time.time() - start
        if el > budget:
            break
        if step == 50:
            est_steps = int(50 * budget / el)
        total = est_steps or 10_000
        lr = 1e-3 * min(1.0, (step + 1) / max(1, int(0.05 * total))) * (0.5 * (1 + math.cos(math.pi * min(1.0, step / total))))
        for g in opt.param_groups:
            g["lr"] = lr
        if pos + bs > len(order):
            order = np.random.default_rng(step).permutation(len(texts))
            pos = 0
        idx = order[pos : pos + bs]
        pos += bs
        batch = [enc[i] for i in idx]
        width = max(len(x) for x in batch)
        ids = torch.full((bs, width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((bs, width), dtype=torch.long)
        for i, x in enumerate(batch):
            ids[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        ids, mask = ids.to(dev), mask.to(dev)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
            h = model(input_ids=ids, attention_mask=mask).last_hidden_state
        last = mask.sum(1) - 1
        emb = F.normalize(h.float()[torch.arange(bs, device=dev), last], dim=-1)
        tgt = targets[torch.as_tensor(idx, device=dev)]
        loss = (1 - (emb * tgt).sum(-1)).mean() + 0.1 * F.cross_entropy(20 * emb @ tgt.T, torch.arange(bs, device=dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 200 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr:.2e} {time.time() - start:.0f}s", flush=True)
        step += 1

    model.eval()
    model.float()
    folder = os.path.join(out, "decoder-embedder")
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder)
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        p = os.path.join(data, "teacher", f)
        if os.path.exists(p):
            shutil.copyfile(p, os.path.join(folder, f))
    os.makedirs(os.path.join(folder, "1_Pooling"), exist_ok=True)
    json.dump([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], open(os.path.join(folder, "modules.json"), "w"), indent=2)
    json.dump({"max_seq_length": 128, "do_lower_case": False}, open(os.path.join(folder, "sentence_bert_config.json"), "w"), indent=2)
    json.dump({"model_type": "SentenceTransformer", "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"},
              open(os.path.join(folder, "config_sentence_transformers.json"), "w"), indent=2)
    json.dump({"word_embedding_dimension": 256, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": True, "include_prompt": True},
              open(os.path.join(folder, "1_Pooling", "config.json"), "w"), indent=2)
    student_score = stsb(model.to(dev), tok, "last", test, dev)
    result = {
        "steps": step, "batch": bs, "minutes": minutes, "texts": len(texts), "final_loss": loss.item(),
        "params": sum(p.numel() for p in model.parameters()),
        "stsb_test_spearman_student": student_score, "stsb_test_spearman_teacher": teacher_score,
        "torch": torch.__version__, "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu",
    }
    json.dump(result, open(os.path.join(out, "result.json"), "w"), indent=2)
    print("RESULT", json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
