"""The same settings on Splink's Spark backend, in a local Spark session (small scale).

Skipped where the optional 'spark' extra or Java is absent (a fresh CI machine
may have neither); `make setup` does not install the extra.
"""

from __future__ import annotations

import shutil

import pytest

from .conftest import FEBRL_SETTINGS, linked_pairs, precision_recall, write_febrl4

pytest.importorskip("pyspark", reason="the optional 'spark' extra is not installed")
if not shutil.which("java"):
    pytest.skip("Java is not installed: Spark cannot start", allow_module_level=True)


@pytest.mark.slow
def test_spark_backend_links_like_duckdb(tmp_path, small_link):
    from systemic.data.linkage import link_files
    from systemic.data.linkage.model import local_spark_session

    spark = local_spark_session(cores=1)
    try:
        pa, pb, true = write_febrl4(tmp_path / "in", n=400)
        result = link_files(
            [pa, pb], FEBRL_SETTINGS, tmp_path / "out", backend="spark", spark=spark
        )
    finally:
        spark.stop()
    precision, recall = precision_recall(linked_pairs(result.links), true)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)
    assert result.quality["backend"] == "spark"
    # the same files and settings on DuckDB form nearly the same people
    duck = small_link[3]
    same = linked_pairs(duck.links) & linked_pairs(result.links)
    assert len(same) >= 0.98 * len(linked_pairs(duck.links))
