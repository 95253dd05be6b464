"""Funnel plots against the formulas of Spiegelhalter (2005), worked independently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from systemic.measures import SeriesError, funnel_plot
from systemic.measures.chart import write_funnel_chart

LOCALITIES = pl.DataFrame(
    {
        "locality": ["North", "South", "East", "West", "Centre"],
        "failure": [30, 90, 20, 160, 45],
        "contacts": [100, 300, 100, 400, 150],
    }
)


def test_proportion_limits_by_hand() -> None:
    result = funnel_plot(
        LOCALITIES, locality="locality", numerator="failure", denominator="contacts"
    )
    theta = 345 / 1050
    assert result.target == pytest.approx(theta)
    n = np.array([100, 300, 100, 400, 150.0])
    s = np.sqrt(theta * (1 - theta) / n)
    table = result.localities
    assert table["upper_95"].to_list() == pytest.approx((theta + norm.ppf(0.975) * s).tolist())
    assert table["lower_998"].to_list() == pytest.approx((theta - norm.ppf(0.999) * s).tolist())
    # East: 0.20 against a 95% lower limit of 0.2365 (n = 100) -> below 95%, inside 99.8%
    assert table.filter(pl.col("locality") == "East")["position"][0] == "below_95"
    # West: 0.40 with n = 400: upper 95% = 0.3745, upper 99.8% = 0.4012 -> above 95%
    assert table.filter(pl.col("locality") == "West")["position"][0] == "above_95"
    assert table.filter(pl.col("locality") == "Centre")["position"][0] == "within"


def test_rate_per_thousand() -> None:
    frame = pl.DataFrame(
        {"locality": ["A", "B", "C"], "numerator": [50, 120, 30], "denominator": [10e3, 20e3, 9e3]}
    )
    result = funnel_plot(frame, kind="rate", per=1000)
    theta = 200 / 39e3
    s = np.sqrt(theta / np.array([10e3, 20e3, 9e3]))
    assert result.localities["value"].to_list() == pytest.approx([5.0, 6.0, 30 / 9])
    assert result.localities["upper_998"].to_list() == pytest.approx(
        ((theta + norm.ppf(0.999) * s) * 1000).tolist()
    )


def overdispersed(seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = rng.integers(500, 5000, 30)
    p = np.clip(rng.normal(0.3, 0.05, 30), 0.05, 0.95)
    return pl.DataFrame(
        {
            "locality": [f"L{i}" for i in range(30)],
            "numerator": rng.binomial(n, p),
            "denominator": n,
        }
    )


def test_additive_overdispersion_by_hand() -> None:
    frame = overdispersed()
    result = funnel_plot(frame, overdispersion="additive")
    x = frame["numerator"].to_numpy().astype(float)
    n = frame["denominator"].to_numpy().astype(float)
    theta = x.sum() / n.sum()
    s = np.sqrt(theta * (1 - theta) / n)
    z = (x / n - theta) / s
    lo, hi = np.percentile(z, [10, 90])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = 1 / s**2
    tau2 = (30 * phi - 29) / (w.sum() - (w**2).sum() / w.sum())
    assert phi > 1.5 and tau2 > 0  # the spread between localities is real
    assert result.phi == pytest.approx(phi)
    assert result.tau2 == pytest.approx(tau2)
    expected = theta + norm.ppf(0.975) * np.sqrt(s**2 + tau2)
    assert result.localities["upper_95"].to_list() == pytest.approx(expected.tolist())
    plain = funnel_plot(frame)
    flagged = lambda r: int((r.localities["position"] != "within").sum())  # noqa: E731
    assert flagged(result) < flagged(plain)


def test_multiplicative_overdispersion() -> None:
    frame = overdispersed()
    result = funnel_plot(frame, overdispersion="multiplicative")
    plain = funnel_plot(frame)
    ratio = (result.localities["upper_95"] - result.target) / (
        plain.localities["upper_95"] - plain.target
    )
    assert ratio.to_list() == pytest.approx([np.sqrt(result.phi)] * 30)


def test_no_overdispersion_leaves_limits_alone() -> None:
    rng = np.random.default_rng(3)
    n = np.full(20, 2000)
    frame = pl.DataFrame(
        {
            "locality": [f"L{i}" for i in range(20)],
            "numerator": rng.binomial(n, 0.3),
            "denominator": n,
        }
    )
    result = funnel_plot(frame, overdispersion="additive")
    # binomial noise only: winsorised phi is below (I-1)/I, so tau2 stays 0
    assert result.phi < 19 / 20 and result.tau2 == 0.0


def test_bad_funnel_input() -> None:
    frame = LOCALITIES.with_columns(pl.lit(0).alias("zero"))
    with pytest.raises(SeriesError, match="positive denominator"):
        funnel_plot(frame, locality="locality", numerator="failure", denominator="zero")


def test_funnel_chart_renders(tmp_path: Path) -> None:
    result = funnel_plot(overdispersed(), overdispersion="additive")
    svg, png = write_funnel_chart(result, tmp_path, title="Failure demand by locality")
    assert png.stat().st_size > 10_000 and "L12" in svg.read_text()
