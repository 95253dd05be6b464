"""MiniLM as an ONNX graph against an independent NumPy forward pass, and its cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from systemic.demand.classify import cross_fit
from systemic.demand.embed import (
    MAX_TOKENS,
    MiniLM,
    embed_cached,
    load_tokenizer,
    load_weights,
)
from tests.demand.minilm_reference import reference_embedding

TEXTS = [
    "chasing repair for boiler reported 3 weeks ago",
    "hi",
    "bin MISSED again!! whole street done but not hers, 3rd time",
]


@pytest.fixture(scope="module")
def fp32() -> MiniLM:
    return MiniLM("fp32", threads=1)


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    w, tok = load_weights(), load_tokenizer()
    return np.vstack([reference_embedding(tok.encode(t).ids, w) for t in TEXTS])


def test_fp32_graph_matches_the_reference(reference: np.ndarray, fp32: MiniLM) -> None:
    e = fp32.embed(TEXTS)
    assert np.abs(e - reference).max() < 1e-5
    assert np.linalg.norm(e, axis=1) == pytest.approx(1.0, abs=1e-5)


def test_int8_graph_is_close_and_order_is_kept(reference: np.ndarray) -> None:
    # texts of different lengths go through in length order: rows come back in input order
    e = MiniLM.shared().embed(TEXTS)
    cosine = (e * reference).sum(axis=1)
    assert cosine.min() > 0.95


def test_no_pytorch_is_installed() -> None:
    import importlib.util

    assert importlib.util.find_spec("torch") is None
    assert importlib.util.find_spec("sentence_transformers") is None


def test_embeddings_are_cached_by_content(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = embed_cached(TEXTS, tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 1
    again = embed_cached(TEXTS, tmp_path, model=_Refuse())  # type: ignore[arg-type]
    assert np.array_equal(first, again)
    embed_cached(TEXTS[:2], tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_repeated_texts_are_embedded_once_and_classify_as_if_each_row_were(
    fp32: MiniLM,
) -> None:
    notes = [
        "bin missed again",
        "Bin  MISSED again",  # same tokens: lower case, spacing
        "chasing repair for boiler reported 3 weeks ago",
        "book a GP appointment",
        "still no one has come about the damp",
        "new claim for council tax support",
    ]
    texts = [notes[i] for i in (0, 1, 2, 3, 4, 5, 0, 2, 3, 3, 4, 5, 1, 0, 5, 2)]
    with _feeds(fp32) as seen:
        once = fp32.embed(texts)
    # five distinct token sequences, each through the model once
    assert sum(rows for rows, _ in seen) == 5
    assert fp32.last_stats is not None and fp32.last_stats.distinct == 5
    every_row = np.vstack([fp32.embed([t]) for t in texts])
    assert np.abs(once - every_row).max() < 1e-5
    y = np.array([1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1])
    labelled = np.arange(12)
    a = cross_fit(once, labelled, y[labelled], folds=2)
    b = cross_fit(every_row, labelled, y[labelled], folds=2)
    assert np.abs(a.p_failure - b.p_failure).max() < 1e-5


def test_batches_are_padded_to_their_longest_text(fp32: MiniLM) -> None:
    texts = ["hi"] * 3 + [f"note {i} " + "word " * i for i in range(1, 40)]
    fp32.batch_size = 8
    try:
        with _feeds(fp32) as seen:
            fp32.embed(texts)
    finally:
        fp32.batch_size = 32
    stats = fp32.last_stats
    assert stats is not None
    lengths = sorted(len(e.ids) for e in fp32.tokenizer.encode_batch(sorted(set(texts))))
    expected = sum(max(lengths[s : s + 8]) * len(lengths[s : s + 8]) for s in range(0, 40, 8))
    assert sum(rows * width for rows, width in seen) == expected  # what the model ran on
    assert (stats.distinct, stats.tokens, stats.padded_tokens) == (40, sum(lengths), expected)
    assert stats.padded_tokens < 1.2 * stats.tokens  # not padded to the longest text of all


def test_texts_are_cut_at_max_length(fp32: MiniLM) -> None:
    long = "tenant rang again about the leak under the sink " * 20
    short = MiniLM("fp32", threads=1, max_length=8)
    e = short.embed([long, "hi"])
    assert short.last_stats is not None and short.last_stats.truncated == 1
    assert short.last_stats.padded_tokens == 2 * 8
    cut = load_tokenizer(8).encode(long).ids
    assert len(cut) == 8
    assert np.abs(e[0] - reference_embedding(cut, load_weights())).max() < 1e-5
    assert fp32.max_length == MAX_TOKENS == 128
    fp32.embed([long])
    assert fp32.last_stats is not None and fp32.last_stats.tokens == 128
    with pytest.raises(ValueError, match="max_length"):
        load_tokenizer(1000)


def test_the_cache_key_holds_the_length(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embed_cached(TEXTS[:2], tmp_path, model=_Fake(128))  # type: ignore[arg-type]
    embed_cached(TEXTS[:2], tmp_path, model=_Fake(64))  # type: ignore[arg-type]
    assert len(list(tmp_path.glob("*.npy"))) == 2


@contextmanager
def _feeds(model: MiniLM) -> Iterator[list[tuple[int, int]]]:
    """Record the (rows, tokens) shape of every batch the model's session runs."""
    seen: list[tuple[int, int]] = []
    session = model.session

    class Recording:
        def run(self, names, feeds):  # type: ignore[no-untyped-def]
            seen.append(feeds["input_ids"].shape)
            return session.run(names, feeds)

    model.session = Recording()  # type: ignore[assignment]
    try:
        yield seen
    finally:
        model.session = session


class _Fake:
    precision = "int8"

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return np.full((len(texts), 384), self.max_length, np.float32)


class _Refuse:
    precision = "int8"
    max_length = MAX_TOKENS

    def embed(self, texts):  # type: ignore[no-untyped-def]
        raise AssertionError("should have come from the cache")
