"""Benchmarking optimizers the way AlgoPerf does, at the scale of a laptop CPU.

A :class:`Workload` is a model, its data, a loss and a validation target; a
:class:`Submission` is an optimizer with its search space. :func:`study_plan` deals
quasi-random points of the space (:func:`sobol_search`) into studies, :func:`run_study` trains
them, and :func:`time_to_target`, :func:`per_workload_time`, :func:`performance_profile` and
:func:`algoperf_score` score them. ``helpers.benchmark.workloads`` holds the course's
workloads. Introduced in the chapter *Benchmarking optimizers*.
"""

import json
from importlib import resources

from helpers.benchmark.scoring import (
    MAX_TAU,
    algoperf_score,
    per_workload_time,
    performance_profile,
    performance_ratios,
    time_to_target,
)
from helpers.benchmark.study import (
    Hyperparameter,
    Study,
    Submission,
    TargetSetting,
    Trial,
    Workload,
    run_study,
    run_trial,
    set_target,
    sobol_search,
    study_plan,
)

__all__ = [
    "MAX_TAU",
    "Hyperparameter",
    "Study",
    "Submission",
    "TargetSetting",
    "Trial",
    "Workload",
    "algoperf_score",
    "load_study",
    "per_workload_time",
    "performance_profile",
    "performance_ratios",
    "run_study",
    "run_trial",
    "set_target",
    "sobol_search",
    "study_plan",
    "time_to_target",
]


def load_study() -> dict:
    """The course's committed benchmark study (``make benchmark`` reruns it).

    Introduced in the chapter *Benchmarking optimizers*.

    Returns
    -------
    dict
        ``"meta"`` (how it ran, how long it took), ``"workloads"`` (targets and how they were
        set), ``"submissions"`` (search spaces) and ``"trials"`` (one dict per trial: its
        workload, submission, study, trial, seed, point, validation curve, times to target).
    """
    text = resources.files("helpers.benchmark").joinpath("results/study.json").read_text("utf-8")
    return json.loads(text)
