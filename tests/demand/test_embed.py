"""MiniLM as an ONNX graph against an independent NumPy forward pass, and its cache."""

from __future__ import annotations

import numpy as np
import pytest

from systemic.demand.embed import MiniLM, embed_cached, load_tokenizer, load_weights
from tests.demand.minilm_reference import reference_embedding

TEXTS = [
    "chasing repair for boiler reported 3 weeks ago",
    "hi",
    "bin MISSED again!! whole street done but not hers, 3rd time",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    w, tok = load_weights(), load_tokenizer()
    return np.vstack([reference_embedding(tok.encode(t).ids, w) for t in TEXTS])


def test_fp32_graph_matches_the_reference(reference: np.ndarray) -> None:
    e = MiniLM("fp32", threads=1).embed(TEXTS)
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


class _Refuse:
    precision = "int8"

    def embed(self, texts):  # type: ignore[no-untyped-def]
        raise AssertionError("should have come from the cache")
