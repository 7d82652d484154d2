"""Runs a prunekit ONNX export folder in Python onnxruntime, as a Python user would, for the parity test.

    tools/.venv/bin/python tools/python/onnx_embed.py --model DIR [--model DIR2 ...] --texts IN.json --out OUT.json

IN.json: a list of strings. Each folder's tokenizer is loaded with transformers' AutoTokenizer (from
the files in the folder, offline); each text runs alone (batch 1, no padding) and then all texts as
one padded batch. OUT.json: {DIR: {"single": [[...embedding...]], "batch": [[...]],
"last_hidden_state": [...] (first text, flattened), "inputs": [names], "outputs": [names]}}.
Several folders in one call because importing transformers is the slow part.
Exit status: 0 on success, 2 on bad arguments, 3 when onnxruntime is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, action="append")
    ap.add_argument("--texts", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    try:
        import onnxruntime as ort
    except ImportError as e:
        print(f"onnx_embed: error: onnxruntime is not installed ({e}); run bash tools/python/setup-venv.sh", file=sys.stderr)
        sys.exit(3)
    import numpy as np
    from transformers import AutoTokenizer

    with open(args.texts, encoding="utf8") as f:
        texts = json.load(f)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        print(f"onnx_embed: error: {args.texts} must hold a JSON list of strings", file=sys.stderr)
        sys.exit(2)
    result = {}
    for model in args.model:
        result[model] = embed(model, texts, AutoTokenizer, ort, np)
    with open(args.out, "w", encoding="utf8") as f:
        json.dump(result, f)


def embed(model, texts, AutoTokenizer, ort, np) -> dict:
    tok = AutoTokenizer.from_pretrained(model, local_files_only=True)
    session = ort.InferenceSession(os.path.join(model, "onnx", "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(enc):
        ids = np.asarray(enc["input_ids"], dtype=np.int64)
        feeds = {n: np.asarray(enc[n], dtype=np.int64) if n in enc else np.zeros_like(ids) for n in names}
        return session.run(["last_hidden_state", "sentence_embedding"], feeds)

    single = []
    first_hidden = None
    for t in texts:
        hidden, emb = run(tok([t], return_tensors="np"))
        single.append(emb[0].tolist())
        if first_hidden is None:
            first_hidden = hidden[0].reshape(-1).tolist()
    _, batch = run(tok(texts, padding=True, return_tensors="np"))
    return {"single": single, "batch": batch.tolist(), "last_hidden_state": first_hidden, "inputs": names, "outputs": [o.name for o in session.get_outputs()]}

if __name__ == "__main__":
    main()
