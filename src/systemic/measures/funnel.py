"""Funnel plots: compare localities at one time against the pooled rate.

Each locality's value (a proportion x/n or a rate x/n × ``per``) is judged
against the pooled target θ₀ = Σx / Σn with 95% and 99.8% limits
θ₀ ± z·sᵢ, where sᵢ = √(θ₀(1 − θ₀)/nᵢ) for a proportion and √(θ₀/nᵢ) for a
rate. Small localities sit in the wide mouth of the funnel, so they are not
singled out for the noise of small numbers.

With ``overdispersion`` (Spiegelhalter, *Statistics in Medicine* 24, 2005),
z-scores zᵢ = (yᵢ − θ₀)/sᵢ are winsorised at the 10th and 90th percentiles,
φ̂ = mean(z_w²), and when I·φ̂ > I − 1:

* ``"additive"`` (random effects): τ̂² = (Iφ̂ − (I − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ),
  wᵢ = 1/sᵢ², limits θ₀ ± z·√(sᵢ² + τ̂²);
* ``"multiplicative"``: limits θ₀ ± z·√φ̂·sᵢ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from systemic.measures.errors import SeriesError, SPCOptionError

FunnelKind = Literal["proportion", "rate"]
Overdispersion = Literal["none", "additive", "multiplicative"]
#: Two-sided normal quantiles for the 95% and 99.8% limits.
Z_95 = 1.959963984540054
Z_998 = 3.090232306167813


@dataclass(frozen=True)
class FunnelResult:
    """Localities with their values, z-scores and limits, and the funnel's parameters."""

    localities: pl.DataFrame
    target: float
    kind: FunnelKind
    per: float
    overdispersion: Overdispersion
    phi: float
    tau2: float

    def widening(self, denominator: float) -> float:
        """How many times wider than chance alone the limits are at ``denominator``.

        1.0 without an overdispersion adjustment, or when none was found
        (φ̂ ≤ 1); √φ̂ everywhere for ``multiplicative``; for ``additive`` it
        grows with the denominator (τ̂² matters more where sᵢ is small).

        >>> import polars as pl
        >>> frame = pl.DataFrame({"locality": list("ABCD"), "numerator": [10, 50, 20, 80],
        ...                       "denominator": [100, 100, 100, 100]})
        >>> round(funnel_plot(frame, overdispersion="multiplicative").widening(100), 2)
        4.78
        """
        s = _standard_error(self.target, np.asarray([denominator], dtype=float), self.kind)
        spread = _spread(s, self.phi, self.tau2, self.overdispersion)
        return float(spread[0] / s[0]) if s[0] > 0 else 1.0

    def limits_at(self, denominators: np.ndarray) -> pl.DataFrame:
        """The funnel's four limit curves at the given denominators (for drawing)."""
        n = np.asarray(denominators, dtype=float)
        s = _standard_error(self.target, n, self.kind)
        spread = _spread(s, self.phi, self.tau2, self.overdispersion)
        columns = {"denominator": n}
        for name, z in (("95", Z_95), ("998", Z_998)):
            low, high = _bounds(self.target, z * spread, self.kind)
            columns[f"lower_{name}"] = low * self.per
            columns[f"upper_{name}"] = high * self.per
        return pl.DataFrame(columns)


def _standard_error(theta: float, n: np.ndarray, kind: FunnelKind) -> np.ndarray:
    variance = theta * (1 - theta) if kind == "proportion" else theta
    return np.sqrt(variance / n)


def _spread(s: np.ndarray, phi: float, tau2: float, method: Overdispersion) -> np.ndarray:
    if method == "additive":
        return np.sqrt(s**2 + tau2)
    if method == "multiplicative":
        return s * math.sqrt(max(phi, 1.0))
    return s


def _bounds(theta: float, half: np.ndarray, kind: FunnelKind) -> tuple[np.ndarray, np.ndarray]:
    low = np.maximum(theta - half, 0.0)
    high = theta + half
    if kind == "proportion":
        high = np.minimum(high, 1.0)
    return low, high


def winsorise(z: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """Pull z-scores beyond the ``fraction`` and 1 − ``fraction`` quantiles in to them.

    >>> import numpy as np
    >>> winsorise(np.arange(11.0)).tolist()
    [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 9.0]
    """
    low, high = np.quantile(z, [fraction, 1 - fraction])
    return np.clip(z, low, high)


def funnel_plot(
    frame: pl.DataFrame,
    *,
    locality: str = "locality",
    numerator: str = "numerator",
    denominator: str = "denominator",
    kind: FunnelKind = "proportion",
    overdispersion: Overdispersion = "none",
    per: float = 1.0,
    target: float | None = None,
    winsor_fraction: float = 0.1,
) -> FunnelResult:
    """Place each locality in the funnel of its peers (compute only; draw separately).

    ``target`` (on the unscaled scale, e.g. 0.3 or 0.004) replaces the pooled
    rate when given. Columns of ``localities``: locality, numerator,
    denominator, value, z, lower_95, upper_95, lower_998, upper_998, position.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"locality": ["North", "South"],
    ...                       "numerator": [30, 70], "denominator": [100, 100]})
    >>> funnel_plot(frame).target
    0.5
    """
    if kind not in ("proportion", "rate"):
        raise SPCOptionError(f"unknown funnel kind {kind!r}; choose proportion or rate")
    if overdispersion not in ("none", "additive", "multiplicative"):
        raise SPCOptionError(
            f"unknown overdispersion {overdispersion!r}; choose none, additive or multiplicative"
        )
    for column in (locality, numerator, denominator):
        if column not in frame.columns:
            raise SeriesError(
                f"no column {column!r} (columns are: {', '.join(frame.columns)})",
                field=column,
                hint="name the locality, numerator and denominator columns",
            )
    table = frame.select(
        pl.col(locality).cast(pl.String).alias("locality"),
        pl.col(numerator).cast(pl.Float64).alias("numerator"),
        pl.col(denominator).cast(pl.Float64).alias("denominator"),
    )
    unusable = table.filter(
        pl.col("numerator").is_null()
        | pl.col("denominator").is_null()
        | (pl.col("denominator") <= 0)
        | (pl.col("numerator") < 0)
    )
    if unusable.height:
        raise SeriesError(
            f"locality {unusable['locality'][0]!r} has a missing, negative or zero count",
            field=denominator,
            hint="give every locality a count and a positive denominator, or leave it out",
        )
    if kind == "proportion" and (table["numerator"] > table["denominator"]).any():
        raise SeriesError(
            "a numerator exceeds its denominator",
            field=numerator,
            hint="a proportion's count must be part of its denominator",
        )
    x = table["numerator"].to_numpy()
    n = table["denominator"].to_numpy()
    theta = float(x.sum() / n.sum()) if target is None else float(target)
    y = x / n
    s = _standard_error(theta, n, kind)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - theta) / s
    phi, tau2 = 1.0, 0.0
    if overdispersion != "none" and table.height >= 2:
        z_w = winsorise(z, winsor_fraction)
        count = z.size
        phi = float(np.mean(z_w**2))
        if count * phi > count - 1:
            w = 1 / s**2
            tau2 = float((count * phi - (count - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    spread = _spread(s, phi, tau2, overdispersion)
    low95, high95 = _bounds(theta, Z_95 * spread, kind)
    low998, high998 = _bounds(theta, Z_998 * spread, kind)
    position = np.select(
        [y > high998, y > high95, y < low998, y < low95],
        ["above_99.8", "above_95", "below_99.8", "below_95"],
        "within",
    )
    localities = table.with_columns(
        value=pl.Series(y * per),
        z=pl.Series(z),
        lower_95=pl.Series(low95 * per),
        upper_95=pl.Series(high95 * per),
        lower_998=pl.Series(low998 * per),
        upper_998=pl.Series(high998 * per),
        position=pl.Series(position.astype(str)),
    )
    return FunnelResult(localities, theta, kind, per, overdispersion, phi, tau2)
