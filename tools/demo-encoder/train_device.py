"""Train the bundled demo encoder on one GPU with the shared models' recipe.

  python3 train_device.py mlm RECIPE DATA_DIR MINUTES OUT_PREFIX
  python3 train_device.py contrastive RECIPE DATA_DIR MLM_PREFIX MINUTES OUT_PREFIX

RECIPE is ../shared/tools/mini-encoder/train.py (carried to the GPU machine beside the data, never
committed here): the MLM pretraining and contrastive tuning that built ../shared/models/tiny-encoder and
mini-encoder, on the same Debian-text corpus and pairs (DATA_DIR: build_corpus.py, tokenize_corpus.py,
then prepare_data.py). Only the shape differs: 4 layers of 4 heads instead of tiny-encoder's 2 of 2, so
that the layers carry the model's quality (on tiny-encoder, pruning half of every layer at random often
*raises* the demo's finance score). The recipe keys its learning rates by config name; the demo shape is
registered under tiny's name and so trains with tiny's rates (MLM 1.5e-3, contrastive 4e-4: the same width).

The contrastive step runs with autocast off (fp32): under the recipe's bf16 autocast this shape (4 heads
of 32 dimensions; tiny-encoder's 2 heads of 64 trained fine) gave a NaN loss from the first logged step.
The saved weights are checked finite, so a diverged run fails instead of leaving a broken model.
"""
import contextlib, importlib.util, sys
import torch

DEMO = dict(num_hidden_layers=4, hidden_size=128, num_attention_heads=4, intermediate_size=512)


def load_recipe(path):
    spec = importlib.util.spec_from_file_location("recipe", path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    recipe.CONFIGS["tiny"] = DEMO
    return recipe


def contrastive_fp32(recipe, data, mlm_prefix, minutes, out):
    autocast = torch.autocast
    torch.autocast = lambda *a, **k: contextlib.nullcontext()  # the recipe calls torch.autocast(dev, dtype=bf16)
    try:
        recipe.contrastive("tiny", data, mlm_prefix, minutes, out)
    finally:
        torch.autocast = autocast
    bad = [k for k, v in recipe.load_shards(out).items() if not torch.isfinite(v).all()]
    if bad:
        raise SystemExit(f"{out}: non-finite weights after contrastive tuning ({', '.join(bad[:3])}...)")


if __name__ == "__main__":
    step, rec = sys.argv[1], load_recipe(sys.argv[2])
    if step == "mlm":
        rec.mlm("tiny", sys.argv[3], float(sys.argv[4]), sys.argv[5])
    elif step == "contrastive":
        contrastive_fp32(rec, sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6])
    else:
        raise SystemExit(f"unknown step {step!r}: mlm or contrastive")
