"""Token ids and text pairs for the demo encoder, with the bundled tokenizer.

  python3 prepare_data.py BUILD_DIR TOKENIZER_DIR CARRY_DIR

BUILD_DIR is build_corpus.py's output (corpus.txt, pairs.jsonl) from ../shared/tools/mini-encoder.
Unlike that recipe's tokenize_corpus.py this trains no tokenizer: it uses TOKENIZER_DIR (the bundled
tiny-encoder's WordPiece 8192), so the demo model reads the bundled demo data exactly as tiny-encoder does.
Paragraph order (shuffled, seed 0) and the 95/5 pair split by grouping key follow the recipe, so the
2000 held-out (headword, definition) pairs are comparable with the shared models' model cards.
Writes CARRY_DIR/ids.npy.xz (uint16 ids, each paragraph followed by [SEP]; xz keeps the GPU call's
working tree under its size limit), CARRY_DIR/tokenizer/, pairs_train.jsonl.gz, pairs_eval.jsonl.
"""
import gzip, hashlib, io, json, lzma, os, random, shutil, sys
import numpy as np
from transformers import BertTokenizerFast

build, tokdir, carry = sys.argv[1:4]
os.makedirs(f"{carry}/tokenizer", exist_ok=True)
tok = BertTokenizerFast.from_pretrained(tokdir)
assert len(tok) == 8192 and tok.convert_tokens_to_ids(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) == [0, 1, 2, 3, 4]
tok.save_pretrained(f"{carry}/tokenizer")

lines = [l for l in open(f"{build}/corpus.txt", encoding="utf-8").read().split("\n") if l]
random.Random(0).shuffle(lines)
chunks = []
for i in range(0, len(lines), 20000):
    for ids in tok(lines[i:i + 20000], add_special_tokens=False)["input_ids"]:
        chunks.append(np.asarray(ids + [tok.sep_token_id], dtype=np.uint16))
arr = np.concatenate(chunks)
buf = io.BytesIO()
np.save(buf, arr)
with lzma.open(f"{carry}/ids.npy.xz", "wb", preset=6) as f:
    f.write(buf.getvalue())


def held(key):  # the recipe's split: a headword / synset is on one side only
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % 20 == 0


pairs = [json.loads(l) for l in open(f"{build}/pairs.jsonl", encoding="utf-8")]
train = [p for p in pairs if not held(p["k"])]
heldout = [p for p in pairs if held(p["k"])]
random.Random(0).shuffle(train)
with gzip.open(f"{carry}/pairs_train.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as f:
    for p in train:
        f.write(json.dumps({"a": p["a"], "b": p["b"], "s": p["src"]}) + "\n")
defs = [p for p in heldout if p["src"].endswith("-def")]
random.Random(0).shuffle(defs)
seen_a, seen_b, ev = set(), set(), []
for p in defs:
    if p["a"].lower() in seen_a or p["b"].lower() in seen_b:
        continue
    seen_a.add(p["a"].lower()); seen_b.add(p["b"].lower()); ev.append(p)
    if len(ev) == 2000:
        break
with open(f"{carry}/pairs_eval.jsonl", "w", encoding="utf-8") as f:
    for p in ev:
        f.write(json.dumps(p) + "\n")
print(json.dumps({"tokens": int(arr.size), "paragraphs": len(lines), "unk_rate": float((arr == tok.unk_token_id).mean()),
                  "ids_xz_MiB": round(os.path.getsize(f"{carry}/ids.npy.xz") / 2**20, 1), "pairs_train": len(train),
                  "pairs_heldout": len(heldout), "eval_pairs": len(ev)}))
