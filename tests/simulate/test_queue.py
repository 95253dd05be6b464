"""A single service with Poisson arrivals and exponential service is an M/M/c queue.

The engine works in discrete time: arrivals are Bernoulli per person per step
(Poisson in the limit of many people) and interventions end with a fixed
chance p per step (geometric: exponential in the limit p -> 0). So the
engine's mean wait should approach the Erlang C value as the step shrinks
relative to the service time. We check both: agreement within Monte Carlo
error plus an O(p) allowance at a fine step, and that a coarser step is
further from Erlang C. Erlang C is computed here, independently of the engine.
Each locality holds its own queue, so one run gives independent replications.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from systemic.simulate import load_scenario, run
from tests.simulate.scenarios import single_queue

SERVERS = 3
UTILISATION = 0.7
REPLICAS = 10


def erlang_c_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue of M/M/c (Erlang C), in the time unit of the rates."""
    a = arrival_rate / service_rate
    assert a < servers
    below = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / math.factorial(servers) * servers / (servers - a)
    p_wait = top / (below + top)
    return p_wait / (servers * service_rate - arrival_rate)


def test_erlang_c_reference_matches_a_textbook_value() -> None:
    # M/M/1 (Erlang C reduces to rho / (mu - lambda)): lambda 0.5, mu 1 -> Wq = 1.
    assert erlang_c_wait(1, 0.5, 1.0) == pytest.approx(1.0)
    # M/M/2, lambda 1, mu 1: P(wait) = 1/3, Wq = (1/3) / (2 - 1) = 1/3.
    assert erlang_c_wait(2, 1.0, 1.0) == pytest.approx(1 / 3)


def _wait_ratios(p: float, steps: int, seed: int) -> np.ndarray:
    """Simulated / Erlang C mean wait per replica (using each replica's arrival rate)."""
    sc = load_scenario(
        single_queue(
            people=1000,
            servers=SERVERS,
            arrivals_per_step=UTILISATION * SERVERS * p,
            completion_per_step=p,
            steps=steps,
            replicas=REPLICAS,
        )
    )
    r = run(sc, seed=seed)
    per = r.steps.group_by("locality").agg(
        pl.col("queue_joins").sum(), pl.col("wait_steps").sum(), pl.col("admissions").sum()
    )
    # The queue never holds more people than capacity plus the waiting list.
    assert (r.services.filter(service="gp")["in_service"] <= SERVERS).all()
    lam = per["queue_joins"].to_numpy() / sc.steps
    waits = per["wait_steps"].to_numpy() / per["admissions"].to_numpy()
    reference = np.array([erlang_c_wait(SERVERS, x, p) for x in lam])
    return waits / reference


@pytest.mark.slow
def test_mean_wait_converges_to_erlang_c() -> None:
    fine = _wait_ratios(p=0.05, steps=8000, seed=11)
    se = fine.std(ddof=1) / math.sqrt(fine.size)
    # Monte Carlo error (3 standard errors) plus 6% for the discrete step at p = 0.05.
    assert abs(fine.mean() - 1.0) < 3 * se + 0.06, (fine.mean(), se)
    coarse = _wait_ratios(p=0.25, steps=1600, seed=11)
    # A coarse step undercounts waits (completions and starts share a step):
    # the error shrinks as the step gets finer.
    assert abs(coarse.mean() - 1.0) > abs(fine.mean() - 1.0)
