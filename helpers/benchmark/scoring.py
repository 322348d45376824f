"""Scoring a benchmark the way AlgoPerf does: time to target, studies, performance profiles.

- :func:`time_to_target`: the first time (step or second) at which a run reaches its target.
- :func:`per_workload_time`: the fastest trial of each study, then the median over studies.
- :func:`performance_ratios`: each method's time over the fastest method's, per workload.
- :func:`performance_profile`: the fraction of workloads a method solves within a factor tau
  of the fastest (Dolan and Moré, 2002).
- :func:`algoperf_score`: the area under the profile from tau = 1 to 4, divided by 3.

A run that never reaches its target has an infinite time. It stays infinite through the
median and the ratios, so a method that never solves a workload gets no credit for it, and a
workload that no method solves counts against every method (the profile divides by the
number of all workloads). This is the rule of the AlgoPerf benchmark (Dahl et al., 2023;
``scoring/performance_profile.py`` of ``mlcommons/algorithmic-efficiency``). Introduced in
the chapter *Benchmarking optimizers*.
"""

from __future__ import annotations

import math

import numpy as np

from helpers import _checks as check

__all__ = [
    "MAX_TAU",
    "algoperf_score",
    "per_workload_time",
    "performance_profile",
    "performance_ratios",
    "time_to_target",
]

#: AlgoPerf's upper limit of the profile and of its integral: a method more than 4 times
#: slower than the fastest gets no credit on that workload.
#: Introduced in the chapter *Benchmarking optimizers*.
MAX_TAU = 4.0


def time_to_target(times, metrics, target) -> float:
    """The first time at which ``metrics`` reaches ``target`` (at or below it), else ``inf``.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    times : array_like
        Non-decreasing times of the evaluations: steps, or seconds of training.
    metrics : array_like
        The validation metric at each of those times, lower is better; NaN (a diverged run)
        never reaches the target.
    target : float
        The value to reach.

    Returns
    -------
    float
        ``times[i]`` for the first ``i`` with ``metrics[i] <= target``; ``inf`` if none.

    Examples
    --------
    >>> time_to_target([10, 20, 30], [0.9, 0.4, 0.2], target=0.5)
    20.0
    """
    times = check.to_array("times", times, ndim=1)
    metrics = check.to_array("metrics", metrics, ndim=1)
    target = check.to_real("target", target)
    if len(times) != len(metrics):
        raise ValueError(
            f"Invalid metrics: times and metrics must have the same length, got "
            f"{len(times)} and {len(metrics)}"
        )
    if np.isnan(times).any() or (np.diff(times) < 0).any():
        raise ValueError("Invalid times: times must be non-decreasing numbers")
    reached = np.flatnonzero(metrics <= target)  # NaN compares False: never reached
    return float(times[reached[0]]) if len(reached) else math.inf


def per_workload_time(times) -> float:
    """AlgoPerf's time of one method on one workload: median over studies of the fastest trial.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    times : array_like
        Shape ``(num_studies, trials_per_study)``: each trial's time to target, ``inf`` for a
        trial that missed it.

    Returns
    -------
    float
        ``median_j min_i times[j, i]``; ``inf`` when the median study missed the target.
    """
    times = _times("times", times, ndim=2)
    return float(np.median(times.min(axis=1)))


def performance_ratios(times) -> np.ndarray:
    """Each method's time divided by the fastest method's time, workload by workload.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    times : array_like
        Shape ``(num_methods, num_workloads)``, positive, ``inf`` for a miss.

    Returns
    -------
    numpy.ndarray
        Same shape, each entry ``>= 1`` or ``inf``; a workload that no method solved is
        ``inf`` for all.
    """
    times = _times("times", times, ndim=2)
    best = times.min(axis=0)
    with np.errstate(invalid="ignore"):
        ratios = times / best
    return np.where(np.isfinite(best), ratios, np.inf)


def performance_profile(times, taus) -> np.ndarray:
    """The fraction of all workloads on which each method is within ``tau`` of the fastest.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    times : array_like
        Shape ``(num_methods, num_workloads)``, positive, ``inf`` for a miss.
    taus : array_like
        The factors ``tau >= 1`` at which to evaluate the profile.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_methods, len(taus))``: ``rho_s(tau) = #{w : r_sw <= tau} / num_workloads``.
    """
    ratios = performance_ratios(times)
    taus = check.to_array("taus", taus, ndim=1)
    if np.isnan(taus).any() or (taus < 1).any():
        raise ValueError("Invalid taus: every tau must be a number >= 1")
    return (ratios[:, :, None] <= taus[None, None, :]).mean(axis=1)


def algoperf_score(times, max_tau: float = MAX_TAU) -> np.ndarray:
    """AlgoPerf's benchmark score: the area under the profile from 1 to ``max_tau``, normalised.

    Introduced in the chapter *Benchmarking optimizers*.

    ``B_s = 1 / (max_tau - 1) * integral_1^max_tau rho_s(tau) dtau``. The profile is a step
    function, so the integral is exact: each workload adds ``(max_tau - r) / (max_tau - 1)``
    when its ratio ``r`` is at most ``max_tau``, and nothing otherwise; the score is the mean
    over all workloads, in ``[0, 1]``, and 1 means fastest everywhere. (AlgoPerf's code
    integrates 100 points with the trapezoidal rule, which approximates this.)

    Parameters
    ----------
    times : array_like
        Shape ``(num_methods, num_workloads)``, positive, ``inf`` for a miss.
    max_tau : float
        The upper limit, > 1; AlgoPerf uses 4.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_methods,)``.
    """
    ratios = performance_ratios(times)
    max_tau = check.to_real("max_tau", max_tau, 1.0, math.inf, low_open=True, high_open=True)
    credit = np.where(ratios <= max_tau, (max_tau - ratios) / (max_tau - 1), 0.0)
    return credit.mean(axis=1)


def _times(name: str, times, ndim: int) -> np.ndarray:
    times = check.to_array(name, times, ndim=ndim)
    if times.size == 0:
        raise ValueError(f"Invalid {name}: {name} must not be empty")
    if np.isnan(times).any() or (times <= 0).any():
        raise ValueError(f"Invalid {name}: times must be positive numbers or inf (a miss)")
    return times
