#!/usr/bin/env python3
"""Reference values for @prunekit/benchmarks-mteb's metrics.

Generates small synthetic embeddings and labels with a fixed numpy seed, computes every metric with
numpy / scipy / scikit-learn (retrieval with trec_eval's semantics implemented here, since
pytrec_eval is not in the reference stack), and writes one JSON fixture per task type to
tools/fixtures/data/metrics/. The TypeScript tests read the same embeddings and compare.

    tools/.venv/bin/python tools/metrics/reference_metrics.py [--out DIR]

Embeddings are stored as float32 values (written with float32 repr), so both sides compute from
identical numbers. Seeded choices that MTEB makes with numpy's RNG (undersampling, bootstrap
subsets) are replayed here with a port of the package's Rng (src/rng.ts) so both sides use the
same subsets; only the k-means internals use sklearn's own randomness.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.cluster import MiniBatchKMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, matthews_corrcoef, v_measure_score
from sklearn.metrics.pairwise import paired_cosine_distances, paired_euclidean_distances, paired_manhattan_distances
from sklearn.neighbors import KNeighborsClassifier

M32 = 0xFFFFFFFF
SEED = 20240607


# ---------------------------------------------------------------- port of src/rng.ts
def _imul(a: int, b: int) -> int:
    return (a * b) & M32


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed: int):
        st = seed & M32
        words = []
        for _ in range(4):
            st = (st + 0x9E3779B9) & M32
            z = st
            z = _imul(z ^ (z >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            z = (z ^ (z >> 16)) & M32
            words.append(z)
        self.s = words
        if not any(self.s):
            self.s[0] = 1

    def next_u32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = _imul(_rotl(_imul(s1, 5), 7), 9)
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def next(self) -> float:
        return self.next_u32() / 4294967296.0

    def int(self, n: int) -> int:
        return math.floor(self.next() * n)

    def shuffle(self, a: list) -> list:
        for i in range(len(a) - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a


def f32list(a: np.ndarray) -> list:
    """float32 values as Python floats (exact float32 values, printed round-trip)."""
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float32)]


# ---------------------------------------------------------------- retrieval (trec_eval semantics)
K_VALUES = [1, 3, 5, 10, 100, 1000]


def trec_rank(docs: dict[str, float]) -> list[tuple[str, float]]:
    # trec_eval sorts by (float) score descending, then docno descending by strcmp
    items = [(d, float(np.float32(s))) for d, s in docs.items()]
    return sorted(items, key=lambda t: (t[1], t[0].encode("utf-8")), reverse=True)


def trec_eval(qrels: dict, run: dict, k_values=K_VALUES) -> dict:
    per_query = {}
    for qid, judged in qrels.items():
        if qid not in run:
            continue
        ranked = trec_rank(run[qid])
        rels = [judged.get(d, 0) for d, _ in ranked]
        num_rel = sum(1 for g in judged.values() if g >= 1)
        ideal = sorted((g for g in judged.values() if g > 0), reverse=True)
        vals = {}
        for k in k_values:
            top = rels[:k]
            dcg = sum(g / math.log2(i + 2) for i, g in enumerate(top) if g > 0)
            idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal[:k]))
            hits = [i for i, g in enumerate(top) if g >= 1]
            ap = sum((n + 1) / (i + 1) for n, i in enumerate(hits))
            vals[f"ndcg_at_{k}"] = dcg / idcg if idcg > 0 else 0.0
            vals[f"map_at_{k}"] = ap / num_rel if num_rel else 0.0
            vals[f"recall_at_{k}"] = len(hits) / num_rel if num_rel else 0.0
            vals[f"precision_at_{k}"] = len(hits) / k
            vals[f"mrr_at_{k}"] = 1.0 / (hits[0] + 1) if hits else 0.0
        per_query[qid] = vals
    keys = next(iter(per_query.values())).keys()
    return {"scores": {key: float(np.mean([v[key] for v in per_query.values()])) for key in keys}, "per_query": per_query}


def exact_search(q_ids, q_emb, c_ids, c_emb, score_function, top_k, exclude_identical):
    q = q_emb.astype(np.float64)
    c = c_emb.astype(np.float64)
    if score_function == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        c = c / np.linalg.norm(c, axis=1, keepdims=True)
    s = (q @ c.T).astype(np.float32)
    run = {}
    for i, qid in enumerate(q_ids):
        docs = {d: float(s[i, j]) for j, d in enumerate(c_ids) if not (exclude_identical and d == qid)}
        run[qid] = dict(trec_rank(docs)[:top_k])
    return run


def gen_retrieval(rng: np.random.Generator) -> dict:
    dim, n_docs, n_q = 16, 120, 24
    c_emb = rng.normal(size=(n_docs, dim)).astype(np.float32)
    c_ids = [f"d{i:03d}" for i in range(n_docs)]
    # exact duplicates -> tied scores for every query (ties broken by doc id descending)
    for a, b in [(5, 6), (7, 40), (41, 42), (90, 91)]:
        c_emb[b] = c_emb[a]
    q_ids = [f"q{i:02d}" for i in range(n_q)]
    # queries near some documents; q03's id also exists in the corpus (identical-id exclusion)
    targets = rng.integers(0, n_docs, size=n_q)
    q_emb = (c_emb[targets] + 0.9 * rng.normal(size=(n_q, dim))).astype(np.float32)
    c_ids[100] = "q03"
    c_emb[100] = (q_emb[3] + 0.05 * rng.normal(size=dim)).astype(np.float32)  # would rank first
    qrels: dict[str, dict[str, int]] = {}
    for i, qid in enumerate(q_ids):
        if i in (20, 21):
            continue  # no judgments at all: not evaluated (BEIR keeps only queries with qrels)
        judged = {c_ids[targets[i]]: int(rng.integers(1, 3))}
        for j in rng.choice(n_docs, size=3, replace=False):
            judged[c_ids[j]] = int(rng.integers(0, 3))
        qrels[qid] = judged
    qrels["q04"] = {c_ids[1]: 0, c_ids[2]: 0}  # judged, nothing relevant: evaluates to 0
    qrels["q05"]["d006"] = 2  # a tied duplicate is relevant
    qrels["q06"]["unknown-doc"] = 1  # qrels naming a document absent from the corpus
    qrels["q03"]["q03"] = 1  # the query's own id: excluded from the run, still counts in R
    out = {"dim": dim, "corpus": {"ids": c_ids, "embeddings": f32list(c_emb)}, "queries": {"ids": q_ids, "embeddings": f32list(q_emb)}, "qrels": qrels, "cases": []}
    for score_function, top_k, k_values in [("cosine", 1000, K_VALUES), ("dot", 1000, K_VALUES), ("cosine", 10, [1, 3, 5, 10])]:
        run = exact_search(q_ids, q_emb, c_ids, c_emb, score_function, top_k, True)
        ev = trec_eval(qrels, run, k_values)
        out["cases"].append({"score_function": score_function, "top_k": top_k, "k_values": k_values, "run_top5": {q: list(run[q].keys())[:5] for q in q_ids}, "expected": ev["scores"], "per_query": ev["per_query"]})
    return out


# ---------------------------------------------------------------- reranking
def gen_reranking(rng: np.random.Generator) -> dict:
    dim = 12
    instances = []
    for i in range(20):
        q = rng.normal(size=dim)
        n_pos = 0 if i == 7 else int(rng.integers(1, 4))
        n_neg = 0 if i == 8 else int(rng.integers(3, 12))
        pos = [q + 1.2 * rng.normal(size=dim) for _ in range(n_pos)]
        neg = [rng.normal(size=dim) for _ in range(n_neg)]
        if i % 5 == 0 and pos and neg:
            neg[0] = pos[0].copy()  # positive and negative tie exactly
        instances.append({"query": q, "positive": pos, "negative": neg})
    aps, mrrs = [], []
    for inst in instances:
        if not inst["positive"] or not inst["negative"]:
            continue
        q = np.asarray(inst["query"], dtype=np.float32).astype(np.float64)
        cands = np.asarray(inst["positive"] + inst["negative"], dtype=np.float32).astype(np.float64)
        labels = np.array([1] * len(inst["positive"]) + [0] * len(inst["negative"]))
        scores = 1 - paired_cosine_distances(np.repeat(q[None, :], len(cands), axis=0), cands)
        aps.append(average_precision_score(labels, scores))
        order = np.argsort(-scores, kind="stable")[:10]
        hit = [r for r, j in enumerate(order) if labels[j] == 1]
        mrrs.append(1 / (hit[0] + 1) if hit else 0.0)
    return {
        "instances": [{"query": f32list([x["query"]])[0], "positive": f32list(np.array(x["positive"]).reshape(-1, dim)), "negative": f32list(np.array(x["negative"]).reshape(-1, dim))} for x in instances],
        "expected": {"map": float(np.mean(aps)), "mrr_at_10": float(np.mean(mrrs)), "evaluated": len(aps), "skipped": len(instances) - len(aps)},
    }


# ---------------------------------------------------------------- STS and pair classification
def paired_sims(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return {
        "cosine": 1 - paired_cosine_distances(a, b),
        "manhattan": -paired_manhattan_distances(a, b),
        "euclidean": -paired_euclidean_distances(a, b),
        "dot": np.sum(a * b, axis=1),
    }


def gen_sts(rng: np.random.Generator) -> dict:
    dim, n = 16, 60
    a = rng.normal(size=(n, dim)).astype(np.float32)
    noise = rng.uniform(0.1, 2.5, size=n)
    b = (a + noise[:, None] * rng.normal(size=(n, dim))).astype(np.float32)
    gold = np.round((5 - 2 * noise) * 5) / 5  # 0.2 steps: many tied gold scores
    b[10] = a[10]
    b[11] = a[11]  # identical pairs: cosine ties at 1
    sims = paired_sims(a, b)
    exp = {}
    for name in ["cosine", "manhattan", "euclidean"]:
        exp[f"{name}_pearson"] = float(stats.pearsonr(gold, sims[name])[0])
        exp[f"{name}_spearman"] = float(stats.spearmanr(gold, sims[name])[0])
    exp["main_score"] = exp["cosine_spearman"]
    return {"a": f32list(a), "b": f32list(b), "gold": [float(g) for g in gold], "expected": exp}


def best_thresholds(scores: np.ndarray, labels: np.ndarray, high_more_similar: bool) -> dict:
    # cuts between consecutive distinct values of the ranking (most similar first), never after
    # the last item; accuracy = (positives above + negatives below) / n; F1 of "above = positive"
    s = scores if high_more_similar else -scores
    order = np.argsort(-s, kind="stable")
    ss, ll = s[order], labels[order]
    n, total_pos = len(ss), labels.sum()
    pos_above = np.cumsum(ll)[:-1]
    neg_below = (n - total_pos) - (np.arange(1, n) - pos_above)
    valid = ss[:-1] != ss[1:]
    acc = np.where(valid, (pos_above + neg_below) / n, -1.0)
    prec = pos_above / np.arange(1, n)
    rec = pos_above / total_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(valid & (pos_above > 0), 2 * prec * rec / (prec + rec), -1.0)
    orig = scores[order]
    mids = (orig[:-1] + orig[1:]) / 2
    ia = int(np.argmax(acc))  # first maximum, like the strict '>' of an increasing scan
    if_ = int(np.argmax(f1))
    return {
        "accuracy": float(max(acc[ia], 0.0)),
        "accuracy_threshold": float(mids[ia]) if acc[ia] > 0 else -1.0,
        "f1": float(max(f1[if_], 0.0)),
        "f1_threshold": float(mids[if_]) if f1[if_] > 0 else 0.0,
        "precision": float(prec[if_]) if f1[if_] > 0 else 0.0,
        "recall": float(rec[if_]) if f1[if_] > 0 else 0.0,
        "ap": float(average_precision_score(labels, s)),
    }


def gen_pairs(rng: np.random.Generator) -> dict:
    dim, n = 16, 80
    a = rng.normal(size=(n, dim)).astype(np.float32)
    labels = (rng.uniform(size=n) < 0.45).astype(int)
    scale = np.where(labels == 1, 0.8, 1.6) + rng.uniform(0, 0.6, size=n)
    b = (a + scale[:, None] * rng.normal(size=(n, dim))).astype(np.float32)
    for i, j in [(3, 4), (20, 21), (50, 51)]:  # identical pairs -> tied scores in all four
        a[j], b[j] = a[i], b[i]
    labels[4], labels[3] = 0, 1  # a tie with mixed labels
    sims = paired_sims(a, b)
    exp = {}
    per = {
        "cosine": best_thresholds(sims["cosine"], labels, True),
        "dot": best_thresholds(sims["dot"], labels, True),
        "euclidean": best_thresholds(-sims["euclidean"], labels, False),
        "manhattan": best_thresholds(-sims["manhattan"], labels, False),
    }
    for name, d in per.items():
        for k, v in d.items():
            exp[f"{name}_{k}"] = v
    for k in ["accuracy", "f1", "precision", "recall", "ap"]:
        exp[f"max_{k}"] = max(d[k] for d in per.values())
    exp["main_score"] = exp["max_ap"]
    return {"a": f32list(a), "b": f32list(b), "labels": [int(x) for x in labels], "expected": exp}


# ---------------------------------------------------------------- classification
def undersample(labels, samples_per_label, idxs, rng: Rng):
    rng.shuffle(idxs)
    counts: dict = {}
    picked = []
    for i in idxs:
        l = labels[i]
        if counts.get(l, 0) < samples_per_label:
            picked.append(i)
            counts[l] = counts.get(l, 0) + 1
    return picked


def gen_classification(rng: np.random.Generator, n_classes: int, name: str) -> dict:
    dim = 16
    centers = rng.normal(size=(n_classes, dim)) * 1.0
    class_names = [f"c{chr(97 + c)}" for c in range(n_classes)]
    ytr = rng.integers(0, n_classes, size=40 * n_classes)
    yte = rng.integers(0, n_classes, size=30 * n_classes)
    Xtr = (centers[ytr] + 1.3 * rng.normal(size=(len(ytr), dim))).astype(np.float32)
    Xte = (centers[yte] + 1.3 * rng.normal(size=(len(yte), dim))).astype(np.float32)
    train_labels = [class_names[i] for i in ytr]
    test_labels = [class_names[i] for i in yte]
    n_exp, spl, seed = 10, 8, 42
    r = Rng(seed)
    idxs = list(range(len(train_labels)))
    experiments = []
    per_lr, per_knn = [], []
    for _ in range(n_exp):
        rows = undersample(train_labels, spl, idxs, r)
        experiments.append(rows)
        X = Xtr[rows].astype(np.float64)
        y = np.array([train_labels[i] for i in rows])
        clf = LogisticRegression(max_iter=100)
        clf.fit(X, y)
        pred = clf.predict(Xte.astype(np.float64))
        per_lr.append({
            "accuracy": float(accuracy_score(test_labels, pred)),
            "f1": float(f1_score(test_labels, pred, average="macro")),
            "f1_weighted": float(f1_score(test_labels, pred, average="weighted")),
            "n_iter": int(clf.n_iter_[0]),
            "coef": clf.coef_.tolist(),
            "intercept": clf.intercept_.tolist(),
        })
        knn = {}
        for metric in ["cosine", "euclidean"]:
            kn = KNeighborsClassifier(n_neighbors=3, metric=metric, algorithm="brute").fit(X, y)
            p = kn.predict(Xte.astype(np.float64))
            knn[f"accuracy_{metric}"] = float(accuracy_score(test_labels, p))
            knn[f"f1_{metric}"] = float(f1_score(test_labels, p, average="macro"))
        knn["accuracy"] = max(knn["accuracy_cosine"], knn["accuracy_euclidean"])
        knn["f1"] = max(knn["f1_cosine"], knn["f1_euclidean"])
        per_knn.append(knn)
    return {
        "name": name,
        "train": {"embeddings": f32list(Xtr), "labels": train_labels},
        "test": {"embeddings": f32list(Xte), "labels": test_labels},
        "options": {"nExperiments": n_exp, "samplesPerLabel": spl, "seed": seed},
        "experiments": experiments,
        "logreg": {"per_experiment": per_lr, "accuracy": float(np.mean([p["accuracy"] for p in per_lr])), "f1": float(np.mean([p["f1"] for p in per_lr]))},
        "knn": {"per_experiment": per_knn, "accuracy": float(np.mean([p["accuracy"] for p in per_knn])), "f1": float(np.mean([p["f1"] for p in per_knn]))},
    }


def gen_f1_cases() -> list:
    cases = []
    for yt, yp in [
        (["a", "b", "c", "a", "b", "c"], ["a", "c", "c", "a", "a", "c"]),
        (["a", "a", "b", "b"], ["a", "a", "a", "d"]),  # a predicted label absent from y_true
        (["x", "y", "y", "z", "z", "z"], ["x", "x", "x", "x", "x", "x"]),  # zero-division classes
        (["1", "1", "1", "0", "0", "0", "1", "0", "1", "1"], ["1", "0", "1", "0", "1", "0", "1", "0", "0", "1"]),  # binary
        (["0", "0", "0"], ["0", "0", "0"]),  # one class: MCC undefined (0)
    ]:
        labels = sorted(set(yt) | set(yp))
        cases.append({
            "y_true": yt, "y_pred": yp, "accuracy": float(accuracy_score(yt, yp)),
            "f1": float(f1_score(yt, yp, average="macro", zero_division=0)), "f1_weighted": float(f1_score(yt, yp, average="weighted", zero_division=0)),
            "mcc": float(matthews_corrcoef(yt, yp)),
            "f1_per_label": {l: float(f1_score(yt, yp, labels=[l], average="macro", zero_division=0)) for l in labels},
        })
    return cases


# ---------------------------------------------------------------- clustering
def kmeans_seed(seed: int, s: int) -> int:
    return (seed + 7919 * (s + 1)) & M32


def gen_clustering(rng: np.random.Generator) -> dict:
    dim, n, k = 16, 160, 4
    centers = rng.normal(size=(k, dim)) * 3.0
    y = rng.integers(0, k, size=n)
    X = (centers[y] + rng.normal(size=(n, dim))).astype(np.float32)
    labels = [f"topic{v}" for v in y]
    seed, n_subsets, subset_size, batch = 42, 10, 16384, 512
    r = Rng(seed)
    size = min(subset_size, n)
    subsets = [[r.int(n) for _ in range(size)] for _ in range(n_subsets)]
    v = []
    for s, idx in enumerate(subsets):
        sl = np.array([labels[i] for i in idx])
        # sklearn's own randomness decides which local optimum a single run lands in; the reference
        # per subset is the mean over 5 sklearn seeds (an estimate of its expected V-measure)
        runs = []
        for t in range(5):
            km = MiniBatchKMeans(n_clusters=np.unique(sl).size, batch_size=batch, n_init=1, init="k-means++", random_state=kmeans_seed(seed, s) + t)
            runs.append(float(v_measure_score(sl, km.fit_predict(X[idx].astype(np.float64)))))
        v.append(float(np.mean(runs)))
    vcases = []
    vr = np.random.default_rng(7)
    for t, p in [
        ([0, 0, 1, 1], [1, 1, 0, 0]),
        ([0, 0, 0, 0], [0, 1, 2, 3]),
        ([0, 1, 2, 3], [0, 0, 0, 0]),
        ([0, 0, 0, 0], [1, 1, 1, 1]),
        (vr.integers(0, 5, 200).tolist(), vr.integers(0, 4, 200).tolist()),
        (vr.integers(0, 3, 50).tolist(), vr.integers(0, 7, 50).tolist()),
    ]:
        vcases.append({"true": [str(a) for a in t], "pred": [int(b) for b in p], "v_measure": float(v_measure_score(t, p))})
    return {
        "embeddings": f32list(X), "labels": labels,
        "options": {"nSubsets": n_subsets, "subsetSize": subset_size, "batchSize": batch, "seed": seed},
        "subset_first5": [s[:5] for s in subsets],
        "v_measures": v, "v_measure": float(np.mean(v)), "v_measure_std": float(np.std(v)),
        "v_measure_cases": vcases,
    }


def gen_rng() -> dict:
    r = Rng(42)
    u32 = [r.next_u32() for _ in range(8)]
    r2 = Rng(7)
    return {"seed42_u32": u32, "seed7_int100": [r2.int(100) for _ in range(10)], "shuffle_seed3": Rng(3).shuffle(list(range(10)))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "fixtures" / "data" / "metrics"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    files = {
        "rng.json": gen_rng(),
        "retrieval.json": gen_retrieval(rng),
        "reranking.json": gen_reranking(rng),
        "sts.json": gen_sts(rng),
        "pair_classification.json": gen_pairs(rng),
        "classification_multiclass.json": gen_classification(rng, 4, "multiclass"),
        "classification_binary.json": gen_classification(rng, 2, "binary"),
        "f1_cases.json": gen_f1_cases(),
        "clustering.json": gen_clustering(rng),
    }
    for name, data in files.items():
        (out / name).write_text(json.dumps(data, separators=(",", ":")) + "\n")
        print(f"wrote {out / name} ({(out / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
