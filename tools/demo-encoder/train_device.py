"""Train the bundled demo encoder on one GPU with the shared models' recipe.

  python3 train_device.py mlm RECIPE DATA_DIR MINUTES OUT_PREFIX
  python3 train_device.py contrastive RECIPE DATA_DIR MLM_PREFIX MINUTES OUT_PREFIX

RECIPE is ../shared/tools/mini-encoder/train.py (carried to the GPU machine beside the data, never
committed here): the MLM pretraining that built ../shared/models/tiny-encoder and mini-encoder, on the
same Debian-text corpus and pairs (DATA_DIR, from build_corpus.py and prepare_data.py). Only the shape
differs: 4 layers of 4 heads instead of tiny-encoder's 2 of 2, so that the layers carry the model's
quality (on tiny-encoder, pruning half of every layer at random often *raises* the demo's finance score).
The recipe keys its learning rates by config name; the demo shape is registered under tiny's name and
so pretrains with tiny's learning rate (1.5e-3: the same width).

The contrastive step is the recipe's objective (mean pooling, symmetric in-batch negatives, scale 20,
duplicate texts masked out of the negatives, AdamW with 5% warm-up and linear decay, time budget), run
here in fp32: the recipe's bf16-autocast step gave a NaN loss from the first logged step on this shape
(4 heads of 32 dimensions; the same code trained tiny-encoder's 2 heads of 64), and fp32 did not.
A non-finite loss stops the run with an error instead of saving a broken model.
"""
import gzip, importlib.util, json, random, sys, time
import torch, torch.nn.functional as F

DEMO = dict(num_hidden_layers=4, hidden_size=128, num_attention_heads=4, intermediate_size=512)


def load_recipe(path):
    spec = importlib.util.spec_from_file_location("recipe", path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    recipe.CONFIGS["tiny"] = DEMO
    return recipe


def contrastive(r, data, mlm_prefix, minutes, out, peak=4e-4, batch=1024, scale=20.0):
    from transformers import BertModel, BertTokenizerFast
    dev = r.dev
    tok = BertTokenizerFast.from_pretrained(f"{data}/tokenizer")
    pairs = [json.loads(l) for l in gzip.open(f"{data}/pairs_train.jsonl.gz", "rt", encoding="utf-8")]
    evals = [json.loads(l) for l in open(f"{data}/pairs_eval.jsonl", encoding="utf-8")]
    torch.manual_seed(0); random.seed(0)
    model = BertModel(r.config("tiny"))  # pooler kept (unused by mean pooling) so loaders see no missing keys
    sd = {k[len("bert."):]: v for k, v in r.load_shards(mlm_prefix).items() if k.startswith("bert.")}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert all(k.startswith("pooler.") for k in missing) and not unexpected, (missing, unexpected)
    model.to(dev)

    def pretok(texts, maxlen=64):
        t = tok(texts, truncation=True, max_length=maxlen, padding="max_length", return_tensors="pt")
        return t["input_ids"].to(dev), t["attention_mask"].sum(1).to(dev)

    def enc(ids, lens):
        T = int(lens.max())
        att = (torch.arange(T, device=dev)[None] < lens[:, None]).long()
        h = model(input_ids=ids[:, :T], attention_mask=att).last_hidden_state
        return F.normalize(r.mean_pool(h, att), dim=-1)

    A, LA = pretok([p["a"] for p in pairs]); Bt, LB = pretok([p["b"] for p in pairs])
    EA, ELA = pretok([p["a"] for p in evals]); EB, ELB = pretok([p["b"] for p in evals])
    key = {}
    ga = torch.tensor([key.setdefault(p["a"].lower(), len(key)) for p in pairs], device=dev)
    gb = torch.tensor([key.setdefault(p["b"].lower(), len(key)) for p in pairs], device=dev)

    def evaluate():
        model.eval()
        with torch.no_grad():
            a = torch.cat([enc(EA[i:i + 500], ELA[i:i + 500]) for i in range(0, len(evals), 500)])
            b = torch.cat([enc(EB[i:i + 500], ELB[i:i + 500]) for i in range(0, len(evals), 500)])
            rank = (a @ b.T).argsort(1, descending=True)
            gold = torch.arange(len(evals), device=dev)[:, None]
            res = {f"recall@{k}": (rank[:, :k] == gold).any(1).float().mean().item() for k in (1, 10)}
        model.train()
        return {**res, "candidates": len(evals)}

    before = evaluate()
    print(f"contrastive: {len(pairs)} train pairs, before {before}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=0.01)
    lab = torch.arange(batch, device=dev)
    eye = torch.eye(batch, dtype=torch.bool, device=dev)
    budget, start, step = minutes * 60, time.time(), 0
    while (frac := (time.time() - start) / budget) < 1:
        for g in opt.param_groups:
            g["lr"] = r.lr_at(frac, peak, 0.05)
        idx = torch.randint(0, len(pairs), (batch,), device=dev)
        s = enc(A[idx], LA[idx]) @ enc(Bt[idx], LB[idx]).T * scale
        dup = ((ga[idx][:, None] == ga[idx][None]) | (gb[idx][:, None] == gb[idx][None])) & ~eye
        s = s.masked_fill(dup, -1e4)
        loss = (F.cross_entropy(s, lab) + F.cross_entropy(s.T, lab)) / 2
        if not torch.isfinite(loss):
            raise SystemExit(f"non-finite contrastive loss at step {step}: nothing saved")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 250 == 0:
            print(f"cl step {step} loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)
    after = evaluate()
    res = {"config": "demo", "shape": DEMO, "steps": step, "batch": batch, "scale": scale, "peak_lr": peak, "precision": "fp32",
           "train_seconds": round(time.time() - start, 1), "pairs_train": len(pairs), "pairs_seen": step * batch,
           "heldout_before": before, "heldout_after": after}
    print("RESULT " + json.dumps(res), flush=True)
    r.save_shards(model, out, {"result": res, "config": r.config("tiny").to_dict(), "kind": "BertModel"})


if __name__ == "__main__":
    if sys.argv[1] == "mlm":
        rec = load_recipe(sys.argv[2])
        rec.mlm("tiny", sys.argv[3], float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "contrastive":
        rec = load_recipe(sys.argv[2])
        contrastive(rec, sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6])
    else:
        raise SystemExit(f"unknown step {sys.argv[1]!r}: mlm or contrastive")
