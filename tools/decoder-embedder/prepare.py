"""Prepares the carried folder for the GPU distillation run of the small Qwen3 decoder embedder.

    tools/.venv/bin/python tools/decoder-embedder/prepare.py .distill

Writes .distill/teacher (a copy of ../shared/models/mini-encoder), .distill/texts.txt (unlabelled
sentences from the train splits / corpora of ../shared/datasets: STS-B train, SST-2, CoLA, MRPC, RTE,
banking77, SciCite, ChemProt and financial phrasebank train splits, SciFact / BoolQ / TAT-QA / chemlit
corpora split into sentences; no STS-B dev/test text) and .distill/stsb_test.jsonl (for the score only).
"""

import json
import os
import random
import re
import shutil
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("PRUNEKIT_SHARED_DIR") or next(
    p for p in (os.path.join(REPO, "..", "shared"), os.path.join(REPO, "..", "..", "shared"), "/work/shared") if os.path.isdir(p)
)
D = os.path.join(SHARED, "datasets")


def rows(rel):
    with open(os.path.join(D, rel), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def sentences(text):
    for s in re.split(r"(?<=[.!?])\s+", text):
        s = s.strip()
        if 20 <= len(s) <= 400:
            yield s


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    texts = []
    for r in rows("glue_stsb/train.jsonl"):
        texts += [r["sentence1"], r["sentence2"]]
    for rel, keys in [
        ("glue_sst2/train.jsonl", ["text", "sentence"]), ("glue_cola/train.jsonl", ["text", "sentence"]),
        ("glue_mrpc/train.jsonl", ["sentence1", "sentence2"]), ("glue_rte/train.jsonl", ["sentence1", "sentence2"]),
        ("banking77/train.jsonl", ["text"]), ("scicite/train.jsonl", ["text", "string"]),
        ("chemprot/train.jsonl", ["text"]), ("financial_phrasebank/train.jsonl", ["text", "sentence"]),
    ]:
        if not os.path.exists(os.path.join(D, rel)):
            continue
        for r in rows(rel):
            for k in keys:
                if isinstance(r.get(k), str):
                    texts.append(r[k])
    for rel in ["scifact/corpus.jsonl", "boolq_retrieval/corpus.jsonl", "tatqa_retrieval/corpus.jsonl", "chemlit_qa_retrieval/corpus.jsonl"]:
        if not os.path.exists(os.path.join(D, rel)):
            continue
        for r in rows(rel):
            texts += list(sentences((r.get("title") or "") + ". " + (r.get("text") or "")))
    texts = sorted({t.strip().replace("\n", " ") for t in texts if t and t.strip()})
    random.Random(0).shuffle(texts)
    with open(os.path.join(out, "texts.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    shutil.copyfile(os.path.join(D, "glue_stsb", "test.jsonl"), os.path.join(out, "stsb_test.jsonl"))
    shutil.rmtree(os.path.join(out, "teacher"), ignore_errors=True)
    shutil.copytree(os.path.join(SHARED, "models", "mini-encoder"), os.path.join(out, "teacher"))
    print(f"{len(texts)} texts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
