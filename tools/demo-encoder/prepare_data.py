"""Token ids for the demo encoder, with the bundled tokenizer.

  python3 prepare_data.py BUILD_DIR TOKENIZER_DIR CARRY_DIR

Run after the shared recipe's own steps (../shared/tools/mini-encoder):
  build_corpus.py BUILD_DIR; tokenize_corpus.py BUILD_DIR CARRY_DIR
tokenize_corpus.py writes the pairs (95/5 split by grouping key, the 2000 held-out headword -> definition
pairs of the shared models' cards) and ids from a tokenizer it trains afresh. That tokenizer is not the
bundled one (40 of its 8192 tokens differ from tiny-encoder's, measured), so this replaces CARRY_DIR's
tokenizer/ with TOKENIZER_DIR's (tiny-encoder's WordPiece 8192: the demo model then reads the bundled demo
data exactly as tiny-encoder does) and re-encodes the corpus in the recipe's order (paragraphs shuffled
with seed 0, each followed by [SEP]). The ids are written xz-compressed (ids.npy.xz) to keep the GPU call's
working tree under its size limit; CARRY_DIR/ids.npy is removed.
"""
import io, json, lzma, os, random, shutil, sys
import numpy as np
from transformers import BertTokenizerFast

build, tokdir, carry = sys.argv[1:4]
tok = BertTokenizerFast.from_pretrained(tokdir)
assert len(tok) == 8192 and tok.convert_tokens_to_ids(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) == [0, 1, 2, 3, 4]
shutil.rmtree(f"{carry}/tokenizer", ignore_errors=True)
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
if os.path.exists(f"{carry}/ids.npy"):
    os.remove(f"{carry}/ids.npy")
print(json.dumps({"tokens": int(arr.size), "paragraphs": len(lines), "unk_rate": float((arr == tok.unk_token_id).mean()),
                  "ids_xz_MiB": round(os.path.getsize(f"{carry}/ids.npy.xz") / 2**20, 1)}))
