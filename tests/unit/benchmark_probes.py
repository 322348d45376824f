"""Valid calls of every public callable of helpers.benchmark, for tests/unit/test_properties.py.

``PROBES`` holds ``(name, function, valid_kwargs)`` triples that test_properties turns into
its ``Spec`` entries; ``RECORDS`` the result records; ``MODULES`` the modules whose
``__all__`` must all be probed. Kept in a file of its own so that the shared property test
needs only a few lines for the chapter *Benchmarking optimizers*.
"""

from __future__ import annotations

import math

import numpy as np
import torch

import helpers.benchmark as benchmark
from helpers.benchmark import workloads

MODULES = (benchmark, workloads)


class _Parabola(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))

    def forward(self, X=None):
        return (self.x**2).sum()


_SPACE = {"lr": benchmark.Hyperparameter(0.01, 0.4)}
_GD = benchmark.Submission("GD", lambda params, lr=0.1: torch.optim.SGD(params, lr=lr), _SPACE)
_TIMES = [[1.0, 2.0, math.inf], [2.0, 1.0, 4.0]]


def _workload_kwargs(target=1e-3):
    return {
        "name": "parabola",
        "make_model": lambda seed: _Parabola(),
        "batches": lambda seed: iter(lambda: (None, None), 0),
        "loss_fn": lambda value, y: value,
        "validate": lambda model: model().item(),
        "step_budget": 8,
        "eval_every": 2,
        "target": target,
        "metric": "f(x)",
    }


def _workload(target=1e-3):
    return benchmark.Workload(**_workload_kwargs(target))


def _method(factory, name):
    def call(**kwargs):
        return getattr(factory(), name)(**kwargs)

    call.__name__ = name
    return call


PROBES = [
    (
        "benchmark.time_to_target",
        benchmark.time_to_target,
        lambda: {"times": [0, 1, 2], "metrics": [1.0, 0.5, 0.1], "target": 0.5},
    ),
    ("benchmark.per_workload_time", benchmark.per_workload_time, lambda: {"times": _TIMES}),
    ("benchmark.performance_ratios", benchmark.performance_ratios, lambda: {"times": _TIMES}),
    (
        "benchmark.performance_profile",
        benchmark.performance_profile,
        lambda: {"times": _TIMES, "taus": [1.0, 2.0]},
    ),
    (
        "benchmark.algoperf_score",
        benchmark.algoperf_score,
        lambda: {"times": _TIMES, "max_tau": 4.0},
    ),
    (
        "benchmark.Hyperparameter",
        benchmark.Hyperparameter,
        lambda: {"low": 1e-3, "high": 1.0, "log": True},
    ),
    (
        "benchmark.Hyperparameter.from_unit",
        _method(lambda: benchmark.Hyperparameter(1e-3, 1.0), "from_unit"),
        lambda: {"u": 0.5},
    ),
    (
        "benchmark.Submission",
        benchmark.Submission,
        lambda: {"name": "GD", "make": _GD.make, "search_space": _SPACE},
    ),
    ("benchmark.Workload", benchmark.Workload, _workload_kwargs),
    (
        "benchmark.sobol_search",
        benchmark.sobol_search,
        lambda: {"search_space": _SPACE, "num_points": 4, "seed": 0},
    ),
    (
        "benchmark.study_plan",
        benchmark.study_plan,
        lambda: {"search_space": _SPACE, "num_studies": 2, "trials_per_study": 2, "seed": 0},
    ),
    (
        "benchmark.run_trial",
        benchmark.run_trial,
        lambda: {
            "workload": _workload(),
            "submission": _GD,
            "hyperparameters": {"lr": 0.25},
            "seed": 0,
            "stop_at_target": True,
            "num_steps": 4,
        },
    ),
    (
        "benchmark.run_study",
        benchmark.run_study,
        lambda: {
            "workload": _workload(),
            "submission": _GD,
            "plan": [[(0, {"lr": 0.25}), (1, {"lr": 0.1})]],
            "progress": None,
        },
    ),
    (
        "benchmark.Study.times",
        _method(lambda: benchmark.run_study(_workload(), _GD, [[(0, {"lr": 0.25})]]), "times"),
        lambda: {"unit": "steps"},
    ),
    (
        "benchmark.set_target",
        benchmark.set_target,
        lambda: {
            "workload": _workload(None),
            "submissions": [_GD],
            "num_trials": 2,
            "num_reruns": 1,
            "num_steps": None,
            "seed": 0,
            "progress": None,
        },
    ),
    ("benchmark.load_study", benchmark.load_study, dict),
    (
        "workloads.quadratic_workload",
        workloads.quadratic_workload,
        lambda: {"kappa": 100.0, "angle": 0.5},
    ),
    ("workloads.rosenbrock_workload", workloads.rosenbrock_workload, dict),
    ("workloads.moons_mlp_workload", workloads.moons_mlp_workload, dict),
    ("workloads.digits_mlp_workload", workloads.digits_mlp_workload, dict),
    ("workloads.digits_cnn_workload", workloads.digits_cnn_workload, dict),
    (
        "workloads.char_lm_workload",
        workloads.char_lm_workload,
        lambda: {"context": 8, "batch_size": 4},
    ),
    ("workloads.course_text", workloads.course_text, dict),
    ("workloads.course_workloads", workloads.course_workloads, dict),
]

RECORDS = {
    "benchmark.Trial": lambda: benchmark.Trial({}, 0, np.zeros(1), np.zeros(1), np.ones(1), 0.5),
    "benchmark.Study": lambda: benchmark.Study("w", "s", []),
    "benchmark.TargetSetting": lambda: benchmark.TargetSetting(1.0, "s", {}, [1.0], 1, 1),
}
