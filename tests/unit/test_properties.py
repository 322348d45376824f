"""Property-based tests (hypothesis): garbage into every public callable and every check().

For every public callable of ``helpers`` (the ``__all__`` of each module; methods of the
public classes too) a valid call is written down, and hypothesis replaces one of its
arguments at a time with garbage: None, bools, strings, NaN and infinities, huge and negative
numbers, empty and ragged lists, arrays and tensors of odd shapes and dtypes, dicts,
functions, objects. Each probe must end in one of two ways:

- a clear error: a ``ValueError`` or ``TypeError`` whose message names the argument;
- a normal return (the garbage was acceptable input after all, such as ``3`` for a float);

and never in a traceback from inside helpers (any other exception, or an error that does
not name the argument), a hang (each probe has a 10 s alarm; the module runs under
pytest-timeout) or a change of global state (grad mode, the random states of PyTorch, NumPy
and ``random``, the default dtype, open matplotlib figures).

For every question's ``check()``, the answers are garbage values (and, for function
questions, functions that return garbage, raise, exit or take the wrong arguments). The
result must be a :class:`Feedback` that is not "correct", whose message is short, shows no
traceback and no internal error of the checker, and never states the expected value; global
state must be unchanged.

The numbers of probes per outcome are printed at the end of the module (``-s`` shows them).
"""

from __future__ import annotations

import collections
import functools
import importlib
import math
import random
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helpers
from helpers import (
    data,
    distributed,
    interactive,
    models,
    notebook,
    objectives,
    optim,
    plotting,
    schedules,
    training,
)
from helpers.exercises import CHAPTERS, ChoiceQuestion, Feedback, ValueQuestion
from helpers.exercises import settings as checker_settings
from helpers.exercises.comparison import compare
from helpers.exercises.feedback import _MAX_MESSAGE, _format_number
from helpers.optim import functional, muon, sam
from tests.unit import benchmark_probes

# The thread method: each probe below has its own SIGALRM alarm, which would cancel
# pytest-timeout's signal timer.
pytestmark = pytest.mark.timeout(120, method="thread")

PROBES = settings(
    max_examples=15,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
CHECK_PROBES = settings(PROBES, max_examples=15)

OUTCOMES: collections.Counter = collections.Counter()

# ---------------------------------------------------------------------------------------------
# Garbage
# ---------------------------------------------------------------------------------------------

_GARBAGE_FACTORIES = [
    lambda: None,
    lambda: True,
    lambda: "",
    lambda: "12",
    lambda: "abc",
    lambda: b"x",
    lambda: math.nan,
    lambda: math.inf,
    lambda: -math.inf,
    lambda: -1,
    lambda: 0,
    lambda: 10**12,
    lambda: -1e308,
    lambda: 1e-320,
    lambda: 2.5,
    lambda: complex(1, 1),
    lambda: [],
    lambda: [[]],
    lambda: [1, "a"],
    lambda: [None, None],
    lambda: (),
    lambda: {},
    lambda: {"a": 1},
    lambda: {"a": [1.0, math.nan]},
    lambda: object(),
    lambda: print,
    lambda: lambda *a, **k: None,
    lambda: np.zeros(0),
    lambda: np.zeros((2, 3, 4)),
    lambda: np.array(["a", "b"]),
    lambda: np.array([1.0, math.nan, math.inf]),
    lambda: np.float32(1.5),
    lambda: np.bool_(True),
    lambda: np.int8(-3),
    lambda: torch.tensor(1.0),
    lambda: torch.tensor(math.nan),
    lambda: torch.zeros(3, requires_grad=True),
    lambda: torch.zeros(0, 2),
    lambda: torch.tensor([1, 2], dtype=torch.int8),
    lambda: torch.ones(2, 2, dtype=torch.float16),
    lambda: torch.tensor([True, False]),
    lambda: iter([1, 2]),
    lambda: range(3),
]

garbage = st.one_of(
    st.sampled_from(_GARBAGE_FACTORIES).map(lambda make: make()),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=4),
    st.lists(st.floats(allow_nan=True), max_size=3),
)

# ---------------------------------------------------------------------------------------------
# Global state
# ---------------------------------------------------------------------------------------------


def _state() -> dict:
    return {
        "grad mode": torch.is_grad_enabled(),
        "default dtype": torch.get_default_dtype(),
        "torch RNG": torch.get_rng_state().clone(),
        "numpy RNG": np.random.get_state()[1].copy(),  # noqa: NPY002
        "python random": random.getstate(),
        "figures": tuple(plt.get_fignums()),
    }


def _changes(before: dict, after: dict, *, figures_allowed: bool) -> list[str]:
    changed = []
    for key, value in before.items():
        if key == "figures" and figures_allowed:
            continue
        other = after[key]
        same = (
            torch.equal(value, other)
            if isinstance(value, torch.Tensor)
            else (
                np.array_equal(value, other) if isinstance(value, np.ndarray) else value == other
            )
        )
        if not same:
            changed.append(key)
    return changed


def _reset_state(state: dict) -> None:
    torch.set_grad_enabled(state["grad mode"])
    torch.set_default_dtype(state["default dtype"])
    for number in set(plt.get_fignums()) - set(state["figures"]):
        plt.close(number)


class _Hang(BaseException):
    pass


def _with_alarm(function: Callable, seconds: float = 10.0):
    def on_alarm(signum, frame):
        raise _Hang

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------------
# Valid calls of every public callable
# ---------------------------------------------------------------------------------------------


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def _xy(n=16):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 2, generator=generator)
    return X, (X[:, 0] > 0).long()


def _loader():
    return [_xy()]


def _optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


def _fit_kwargs():
    model = _model()
    return {
        "model": model,
        "loss_fn": torch.nn.CrossEntropyLoss(),
        "optimizer": _optimizer(model),
        "train_loader": _loader(),
        "num_epochs": 2,
        "val_data": _xy(8),
        "scheduler": None,
        "early_stopping": None,
        "diverge_factor": 1e3,
        "progress": False,
        "callbacks": [training.TrainingDiagnostics()],
    }


def _fit_copies_kwargs():
    return {
        "models": [_model(), _model()],
        "loss_fn": torch.nn.CrossEntropyLoss(),
        "optimizer": optim.SGD,
        "train_loaders": [_loader(), _loader()],
        "hyperparameters": [{"lr": 0.1}, {"lr": 0.2}],
        "scheduler": None,
        "scheduler_interval": "step",
        "val_data": _xy(8),
        "callbacks": [[], []],
        "diverge_factor": 1e3,
    }


def _lr_find_kwargs():
    model = _model()
    return {
        "model": model,
        "loss_fn": torch.nn.CrossEntropyLoss(),
        "optimizer": _optimizer(model),
        "train_loader": _loader(),
        "start_lr": 1e-3,
        "end_lr": 1.0,
        "num_steps": 4,
        "smoothing": 0.5,
        "stop_factor": 4.0,
    }


def _path():
    return np.array([[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]])


def _animation():
    return plotting.animate_paths(objectives.quadratic(), {"gd": _path()}, num_frames=2)


def _param():
    return torch.zeros(2, requires_grad=True)


def _param_with_grad():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([3.0, -4.0])
    return p


def _relu_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


@dataclass
class Spec:
    """A public callable, a function returning valid keyword arguments, and aliases: other
    words an error message may use to name an argument (torch's "learning rate" for lr)."""

    name: str
    function: Callable
    valid: Callable[[], dict]
    aliases: dict = field(default_factory=dict)
    makes_figures: bool = False
    #: seconds per call (a process started, an animation rendered): ``make unit`` skips it
    slow: bool = False


def _method(factory, method):
    def call(**kwargs):
        return getattr(factory(), method)(**kwargs)

    call.__name__ = method
    return call


def _objective_method(method):
    return _method(objectives.quadratic, method)


SPECS = [
    # objectives
    Spec("objectives.parabola", objectives.parabola, lambda: {"a": 2.0}),
    Spec("objectives.quadratic", objectives.quadratic, lambda: {"mu": 1.0, "L": 10.0}),
    Spec("objectives.rosenbrock", objectives.rosenbrock, lambda: {"a": 1.0, "b": 100.0}),
    Spec("objectives.saddle", objectives.saddle, dict),
    Spec(
        "objectives.Objective",
        objectives.Objective,
        lambda: {
            "name": "bowl",
            "formula": lambda x, y: x**2 + y**2,
            "dim": 2,
            "minima": ((0.0, 0.0),),
            "min_value": 0.0,
            "xlim": (-1.0, 1.0),
            "ylim": (-1.0, 1.0),
            "log_levels": False,
        },
    ),
    Spec("Objective.__call__", _objective_method("__call__"), lambda: {"point": np.ones(2)}),
    Spec("Objective.gradient", _objective_method("gradient"), lambda: {"point": np.ones(2)}),
    Spec(
        "Objective.distance_to_minimum",
        _objective_method("distance_to_minimum"),
        lambda: {"points": np.ones((3, 2))},
    ),
    Spec("Objective.grid", _objective_method("grid"), lambda: {"num": 5}),
    # training
    Spec(
        "training.run_optimizer",
        training.run_optimizer,
        lambda: {
            "objective": objectives.quadratic(),
            "start": [1.0, 1.0],
            # helpers' SGD validates lr itself (torch's raises an unnamed TypeError for None)
            "optimizer": optim.SGD,
            "num_steps": 5,
            "grad_tol": 1e-6,
            "diverge_at": 1e6,
            "lr": 0.1,
        },
        aliases={"lr": "learning rate"},
    ),
    Spec("training.fit", training.fit, _fit_kwargs),
    # num_epochs fixed: a huge valid one would just train for long (tested in test_fit_copies)
    Spec(
        "training.fit_copies",
        lambda **kwargs: training.fit_copies(num_epochs=2, **kwargs),
        _fit_copies_kwargs,
    ),
    Spec("training.lr_find", training.lr_find, _lr_find_kwargs),
    Spec(
        "training.evaluate",
        training.evaluate,
        lambda: {"model": _model(), "loss_fn": torch.nn.CrossEntropyLoss(), **_xy_kwargs()},
    ),
    Spec(
        "training.EarlyStopping",
        training.EarlyStopping,
        lambda: {"patience": 2, "min_delta": 0.0, "restore_best": True},
    ),
    Spec(
        "EarlyStopping.step",
        _method(training.EarlyStopping, "step"),
        lambda: {"val_loss": 0.5, "model": _model()},
    ),
    Spec(
        "EarlyStopping.restore",
        _method(training.EarlyStopping, "restore"),
        lambda: {"model": _model()},
    ),
    Spec(
        "training.clip_grad_norm",
        training.clip_grad_norm,
        lambda: {"parameters": [_param_with_grad()], "max_norm": 1.0, "norm_type": 2.0},
    ),
    Spec(
        "training.clip_grad_value",
        training.clip_grad_value,
        lambda: {"parameters": [_param_with_grad()], "clip_value": 0.5},
    ),
    Spec("training.TrainingDiagnostics", training.TrainingDiagnostics, dict),
    Spec(
        "TrainingDiagnostics.on_train_begin",
        _method(training.TrainingDiagnostics, "on_train_begin"),
        lambda: {"model": _relu_model()},
    ),
    Spec(
        "TrainingDiagnostics.on_after_backward",
        _method(training.TrainingDiagnostics, "on_after_backward"),
        lambda: {"model": _relu_model()},
    ),
    Spec(
        "TrainingDiagnostics.on_step_end",
        _method(training.TrainingDiagnostics, "on_step_end"),
        lambda: {"model": _relu_model()},
    ),
    Spec(
        "TrainingDiagnostics.on_train_end",
        _method(training.TrainingDiagnostics, "on_train_end"),
        lambda: {"model": _relu_model()},
    ),
    Spec(
        "training.divergence_threshold",
        training.divergence_threshold,
        lambda: {"first": 1.0, "factor": 10.0},
    ),
    # data
    Spec("data.toy_regression", data.toy_regression, dict),
    Spec(
        "data.linear_data",
        data.linear_data,
        lambda: {"n": 10, "w": 2.0, "c": 0.5, "noise": 0.3, "seed": 0},
    ),
    Spec(
        "data.two_moons",
        data.two_moons,
        lambda: {"n_samples": 40, "noise": 0.2, "test_size": 0.25, "seed": 0},
    ),
    Spec("data.digits", data.digits, lambda: {"test_size": 0.25, "seed": 0}),
    Spec(
        "data.make_loader",
        data.make_loader,
        lambda: {**_xy_kwargs(), "batch_size": 4, "shuffle": True, "seed": 0},
    ),
    # plotting
    Spec("plotting.set_style", plotting.set_style, dict, makes_figures=True),
    Spec(
        "plotting.plot_contour",
        plotting.plot_contour,
        lambda: {
            "objective": objectives.rosenbrock(),
            "ax": None,
            "levels": 5,
            "xlim": (-1.0, 1.0),
            "ylim": (-1.0, 2.0),
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.plot_paths",
        plotting.plot_paths,
        lambda: {
            "objective": objectives.quadratic(),
            "paths": {"gd": _path()},
            "ax": None,
            "markevery": 1,
            "levels": 5,
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.plot_losses",
        plotting.plot_losses,
        lambda: {
            "curves": {"a": [1.0, 0.5, 0.25]},
            "ax": None,
            "log": True,
            "xlabel": "step",
            "ylabel": "loss",
            "title": "t",
            "x": {"a": [0.0, 1.0, 2.0]},
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.plot_path_1d",
        plotting.plot_path_1d,
        lambda: {
            "objective": objectives.parabola(),
            "xs": [3.0, 1.0, 0.2],
            "ax": None,
            "label": "gd",
            "color": "C0",
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.animate_paths",
        plotting.animate_paths,
        lambda: {
            "objective": objectives.quadratic(),
            "paths": {"gd": _path()},
            "num_frames": 2,
            "interval": 100,
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.animation_html",
        plotting.animation_html,
        lambda: {
            "animation": _animation(),
            "alt": "a path",
            "dpi": 20,
            "frame_format": "png",
            "default_mode": "once",
        },
        makes_figures=True,
        slow=True,
    ),
    Spec(
        "plotting.plot_theory_and_measured",
        plotting.plot_theory_and_measured,
        lambda: {
            "theory": {"t": ([1.0, 2.0, 3.0], [1.0, 0.5, 0.25])},
            "measured": {"m": ([1.0, 3.0], [1.0, 0.25])},
            "ax": None,
            "xlog": False,
            "ylog": True,
            "xlabel": "x",
            "ylabel": "y",
            "title": "t",
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.plot_seed_band",
        plotting.plot_seed_band,
        lambda: {
            "x": [0.0, 1.0, 2.0],
            "values": [[1.0, 0.5, 0.2], [1.0, 0.6, 0.3]],
            "ax": None,
            "label": "a",
            "color": "C0",
            "marker": "o",
            "center": "median",
            "band": "range",
        },
        makes_figures=True,
    ),
    Spec(
        "plotting.plot_lr_sweep",
        plotting.plot_lr_sweep,
        lambda: {
            "lrs": [0.01, 0.1, 1.0],
            "values": [[1.0, 0.5, 2.0], [1.1, 0.4, 3.0]],
            "ax": None,
            "label": "median",
            "seed_labels": ["a", "b"],
            "chosen": 0.1,
            "chosen_label": "chosen",
            "color": "C0",
            "marker": "o",
            "ylog": True,
            "xlabel": "lr",
            "ylabel": "loss",
            "title": "t",
        },
        makes_figures=True,
    ),
    # interactive
    Spec(
        "interactive.Slider",
        interactive.Slider,
        lambda: {
            "label": "learning rate",
            "values": [0.1, 0.2, 0.3],
            "initial": 0.2,
            "fmt": ".2g",
        },
    ),
    Spec(
        "interactive.slider_figure",
        interactive.slider_figure,
        lambda: {
            "objective": objectives.quadratic(),
            "run": lambda lr: _path() * lr,
            "sliders": {"lr": interactive.Slider("learning rate", [0.5, 1.0])},
            "alt": "paths",
            "title": "t",
            "loss_label": "loss",
            "levels": 3,
        },
    ),
    # schedules
    Spec(
        "schedules.step_lr",
        schedules.step_lr,
        lambda: {"t": 5, "lr0": 0.1, "step_size": 2, "gamma": 0.5},
    ),
    Spec(
        "schedules.multistep_lr",
        schedules.multistep_lr,
        lambda: {"t": 5, "lr0": 0.1, "milestones": [2, 4], "gamma": 0.5},
    ),
    Spec(
        "schedules.exponential_lr",
        schedules.exponential_lr,
        lambda: {"t": 5, "lr0": 0.1, "gamma": 0.9},
    ),
    Spec(
        "schedules.inverse_time_lr",
        schedules.inverse_time_lr,
        lambda: {"t": 5, "lr0": 0.1, "decay": 0.5},
    ),
    Spec(
        "schedules.cosine_lr",
        schedules.cosine_lr,
        lambda: {"t": 5, "lr0": 0.1, "total_steps": 10, "lr_min": 0.0},
    ),
    Spec(
        "schedules.warmup_cosine_lr",
        schedules.warmup_cosine_lr,
        lambda: {
            "t": 5,
            "lr0": 0.1,
            "warmup_steps": 2,
            "total_steps": 10,
            "lr_min": 0.0,
            "start_factor": 0.1,
        },
    ),
    Spec(
        "schedules.one_cycle_lr",
        schedules.one_cycle_lr,
        lambda: {
            "t": 5,
            "max_lr": 0.1,
            "total_steps": 10,
            "pct_start": 0.3,
            "anneal_strategy": "cos",
            "div_factor": 25.0,
            "final_div_factor": 1e4,
            "three_phase": False,
        },
    ),
    Spec(
        "schedules.as_scheduler",
        schedules.as_scheduler,
        lambda: {
            "optimizer": _optimizer(_model()),
            "fn": schedules.cosine_lr,
            "total_steps": 10,
        },
    ),
    Spec(
        "schedules.ReduceOnPlateau",
        schedules.ReduceOnPlateau,
        lambda: {
            "lr": 0.1,
            "mode": "min",
            "factor": 0.5,
            "patience": 2,
            "threshold": 1e-4,
            "threshold_mode": "rel",
            "cooldown": 0,
            "min_lr": 0.0,
            "eps": 1e-8,
        },
    ),
    Spec(
        "ReduceOnPlateau.step",
        _method(lambda: schedules.ReduceOnPlateau(0.1), "step"),
        lambda: {"metric": 0.5},
    ),
    Spec(
        "ReduceOnPlateau.is_better",
        _method(lambda: schedules.ReduceOnPlateau(0.1), "is_better"),
        lambda: {"metric": 0.5},
    ),
    Spec(
        "training.run_steps",
        training.run_steps,
        lambda: {
            "step": functional.adam_step,
            "gradient": lambda p: 2 * p,
            "start": [1.0, -2.0],
            "num_steps": 3,
            "lr": 0.1,
        },
    ),
    Spec(
        "objectives.random_start",
        objectives.random_start,
        lambda: {"seed": 3, "center": [-1.5, -1.0], "width": 1.0},
    ),
    # notebook
    Spec(
        "notebook.glue",
        notebook.glue,
        lambda: {"name": "best_lr", "value": 0.1},
        aliases={"value": "glue takes", "name": "glue name"},
    ),
    Spec("notebook.round_up", notebook.round_up, lambda: {"x": 0.0551, "digits": 2}),
    Spec("notebook.round_down", notebook.round_down, lambda: {"x": 3.66, "digits": 2}),
    Spec("notebook.show_source", notebook.show_source, lambda: {"function": functional.sgd_step}),
    # the exercise framework's public helpers
    Spec(
        "exercises.compare",
        compare,
        lambda: {"got": np.ones(2), "expected": np.ones(2), "rtol": 1e-6, "atol": 1e-9},
    ),
]


def _xy_kwargs():
    X, y = _xy()
    return {"X": X, "y": y}


_OPTIMIZER_HYPER = {
    "SGD": {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.0, "weight_decay": 0.0, "eps": 1e-10},
    "RMSprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0},
    "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "AdamW": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
    "NAdam": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "momentum_decay": 4e-3},
    "Adamax": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "RAdam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
}
_TORCH_WORDS = {"params": "optimizer|param|iterable", "lr": "learning rate|lr"}


def _optimizer_specs(hyperparameters: dict, make_param) -> list[Spec]:
    """Probes of each optimizer (name -> valid hyperparameters) and of its add_param_group.

    The optimizers are built on parameters made by ``make_param()``.
    """
    specs = []
    for name, hyper in hyperparameters.items():
        cls = getattr(optim, name)
        specs.append(
            Spec(
                f"optim.{name}",
                cls,
                lambda h=hyper: {"params": [make_param()], **h},
                aliases=_TORCH_WORDS,
            )
        )
        specs.append(
            Spec(
                f"optim.{name}.add_param_group",
                _method(lambda c=cls, h=hyper: c([make_param()], **h), "add_param_group"),
                lambda: {"param_group": {"params": [make_param()]}},
                aliases={"param_group": "param_group|param group|params|parameters"},
            )
        )
    return specs


SPECS += _optimizer_specs(_OPTIMIZER_HYPER, _param)


# helpers.optim.functional: one step function per update rule, on explicit state tensors.
def _step_kwargs(state, t=False, **hyper):
    tensors = {"p": torch.ones(3), "g": torch.full((3,), 0.5)}
    tensors |= {name: torch.zeros(3) for name in state}
    return {**tensors, **({"t": 1} if t else {}), **hyper}


_STEP_CALLS = {
    "sgd_step": lambda: _step_kwargs((), lr=0.1),
    "momentum_step": lambda: _step_kwargs(("v",), lr=0.1, beta=0.9, dampening=0.0),
    "nesterov_step": lambda: _step_kwargs(("v",), lr=0.1, beta=0.9),
    "adagrad_step": lambda: _step_kwargs(("state_sum",), lr=0.1, eps=1e-10),
    "rmsprop_step": lambda: _step_kwargs(
        ("v", "grad_avg", "momentum_buffer"), lr=0.01, alpha=0.99, eps=1e-8, momentum=0.5
    ),
    "adadelta_step": lambda: _step_kwargs(("square_avg", "acc_delta"), lr=1.0, rho=0.9),
    "adam_step": lambda: _step_kwargs(
        ("m", "v", "v_max"), t=True, lr=1e-3, beta1=0.9, beta2=0.999, bias_correction=True
    ),
    "adamw_step": lambda: _step_kwargs(("m", "v"), t=True, lr=1e-3, weight_decay=0.01),
    "adamax_step": lambda: _step_kwargs(("m", "u"), t=True, lr=2e-3, eps=1e-8),
}
SPECS += [
    Spec(f"functional.{name}", getattr(functional, name), valid)
    for name, valid in _STEP_CALLS.items()
]

# The optimizers of the chapter *Optimizers of the last five years*, and its two functions.
_MODERN_HYPER = {
    "Lion": {"lr": 1e-3, "betas": (0.9, 0.99), "weight_decay": 0.0},
    "ScheduleFreeAdamW": {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "warmup_steps": 2},
    "Muon": {"lr": 0.02, "momentum": 0.95, "ns_coefficients": (3.4, -4.7, 2.0), "ns_steps": 5},
    "Adafactor": {"lr": 0.01, "beta2_decay": -0.8, "eps": (None, 1e-3), "d": 1.0},
    "SAM": {"base_optimizer": torch.optim.SGD, "rho": 0.05, "perturb_eps": 1e-12},
}


def _matrix():
    return torch.zeros(2, 2, requires_grad=True)


SPECS += _optimizer_specs(_MODERN_HYPER, _matrix)
SPECS.append(Spec("muon.Muon", optim.Muon, lambda: {"params": [_matrix()]}, aliases=_TORCH_WORDS))
SPECS.append(Spec("muon.newton_schulz", muon.newton_schulz, lambda: {"G": torch.ones(3, 2)}))
SPECS.append(
    Spec(
        "sam.SAM",
        optim.SAM,
        lambda: {"params": [_matrix()], "base_optimizer": torch.optim.SGD},
        aliases=_TORCH_WORDS,
    )
)
SPECS.append(
    Spec(
        "sam.sharpness",
        sam.sharpness,
        lambda: {
            "model": torch.nn.Linear(2, 1),
            "loss_fn": torch.nn.functional.mse_loss,
            "X": torch.ones(4, 2),
            "y": torch.zeros(4, 1),
            "num_iters": 3,
        },
    )
)

# The chapter *Scaling out*: LARS and LAMB, and helpers.distributed. The workers that need a
# process group run here in a world of one process (an in-process store, no sockets).
_LARGE_BATCH_HYPER = {
    "LARS": {"lr": 0.1, "weight_decay": 0.0, "momentum": 0.9, "trust_coefficient": 1e-3},
    "LAMB": {"lr": 1e-3, "betas": (0.9, 0.999), "weight_decay": 0.0, "eps": 1e-6},
}
SPECS += _optimizer_specs(_LARGE_BATCH_HYPER, _matrix)


def _in_a_world_of_one(worker):
    def call(**kwargs):
        if not torch.distributed.is_initialized():
            store = torch.distributed.HashStore()
            torch.distributed.init_process_group("gloo", store=store, rank=0, world_size=1)
        return worker(**kwargs)

    call.__name__ = worker.__name__
    return call


def _training_kwargs():
    X, y = _xy(8)
    return {"X": X, "y": y, "sizes": [2, 3, 2], "seed": 0, "lr": 0.1, "local_batch_size": 8}


SPECS += [
    Spec(
        "distributed.launch",
        distributed.launch,
        lambda: {"worker": torch.distributed.get_rank, "nprocs": 1, "timeout": 60.0, "port": None},
        slow=True,
    ),
    Spec(
        "models.mlp",
        models.mlp,
        lambda: {"sizes": [2, 3, 2], "activation": torch.nn.Tanh, "seed": 0},
    ),
    Spec(
        "distributed.run_tasks",
        distributed.run_tasks,
        lambda: {"tasks": [functools.partial(models.mlp, [2, 2], seed=0)]},
    ),
    Spec(
        "distributed.train_single_process",
        distributed.train_single_process,
        lambda: {**_training_kwargs(), "epochs": 1, "world_size": 2},
    ),
    Spec(
        "distributed.train_data_parallel",
        _in_a_world_of_one(distributed.train_data_parallel),
        lambda: {**_training_kwargs(), "epochs": 1},
    ),
    Spec(
        "distributed.train_by_hand",
        _in_a_world_of_one(distributed.train_by_hand),
        lambda: {**_training_kwargs(), "epochs": 1},
    ),
    Spec(
        "distributed.time_communication",
        _in_a_world_of_one(distributed.time_communication),
        lambda: {"widths": [4], "local_batch_size": 8, "repeats": 1},
    ),
]

# Plain records: dataclasses that hold results and validate nothing by design (their
# fields are filled by helpers' own functions); checked by the valid call only.
RECORDS = {
    "training.History": training.History,
    "training.Trajectory": lambda: training.Trajectory(np.zeros((1, 2)), np.zeros(1)),
    "training.LRFinderResult": lambda: training.LRFinderResult(
        np.ones(2), np.ones(2), np.ones(2), 1.0
    ),
    "data.Split": lambda: data.Split(*_xy(), *_xy(), 2),
    "data.Batches": lambda: data.Batches(*_xy(), 4, True, torch.Generator()),  # make_loader's
    "interactive.SliderFigure": lambda: interactive.SliderFigure("<div></div>", [], "a figure"),
}
RECORDS["distributed.LaunchResult"] = lambda: distributed.LaunchResult([0], 1.0, 2.0)
RECORDS["distributed.WorkerError"] = lambda: distributed.WorkerError("worker 0 of 1 failed")
# helpers.benchmark (the chapter *Benchmarking optimizers*): probes in benchmark_probes.py
SPECS += [Spec(*probe) for probe in benchmark_probes.PROBES]
RECORDS.update(benchmark_probes.RECORDS)

# The exercise framework's authoring classes: constructed by the chapter modules, never by
# a learner; every question they make is probed through its check() below.
AUTHORING = {"Blank", "Case", "ChoiceQuestion", "Feedback", "FunctionQuestion", "Question"}
AUTHORING |= {"ValueQuestion"}


def test_every_public_callable_has_a_probe():
    covered = {spec.name for spec in SPECS} | set(RECORDS)
    missing = []
    modules = (objectives, training, data, models, plotting, schedules, optim, notebook)
    modules += (interactive, functional, muon, sam, distributed, *benchmark_probes.MODULES)
    for module in modules:
        short = module.__name__.split(".")[-1]
        for name in module.__all__:
            if callable(getattr(module, name)) and f"{short}.{name}" not in covered:
                missing.append(f"{short}.{name}")
    for name in importlib.import_module("helpers.exercises").__all__:
        if callable(getattr(helpers.exercises, name)) and name not in AUTHORING:
            missing.append(f"exercises.{name}")
    assert not missing


@pytest.mark.parametrize("name", RECORDS)
def test_records_construct(name):
    assert RECORDS[name]() is not None


def _names_argument(message: str, argument: str, aliases: dict) -> bool:
    words = [re.escape(argument.split("[")[0])]
    if argument in aliases:
        words.append(aliases[argument])
    return re.search("|".join(words), message, re.IGNORECASE) is not None


def _probe(spec: Spec, argument: str, value) -> str:
    """Call ``spec`` with ``argument`` replaced by ``value``; the outcome class, or fail."""
    kwargs = spec.valid()
    kwargs[argument] = value
    before = _state()
    try:
        _with_alarm(lambda: spec.function(**kwargs))
        outcome = "accepted"
        error = None
    except _Hang:
        outcome, error = "hang", None
    except (ValueError, TypeError) as exc:
        error = exc
        outcome = (
            "clear error"
            if _names_argument(str(exc), argument, spec.aliases)
            else ("internal traceback")
        )
    except Exception as exc:
        outcome, error = "internal traceback", exc
    after = _state()
    changed = _changes(before, after, figures_allowed=spec.makes_figures and error is None)
    _reset_state(before)
    if changed:
        outcome = "state change"
    OUTCOMES[("helpers", outcome)] += 1
    assert outcome in ("accepted", "clear error"), (
        f"{spec.name}({argument}={value!r}): {outcome} "
        f"{type(error).__name__ if error else ''}: {error} {changed or ''}"
    )
    return outcome


@pytest.fixture(autouse=True, scope="module")
def _report():
    yield
    lines = [
        f"{where}: {outcome}: {count}" for (where, outcome), count in sorted(OUTCOMES.items())
    ]
    print("\nhypothesis probes by outcome:\n  " + "\n  ".join(lines))


def _params(specs: list[Spec]) -> list:
    marks = {True: [pytest.mark.slow], False: []}
    return [pytest.param(spec, id=spec.name, marks=marks[spec.slow]) for spec in specs]


@pytest.mark.parametrize("spec", _params(SPECS))
def test_valid_call_works(spec):
    kwargs = spec.valid()  # may seed torch (to build a model): before the snapshot
    before = _state()
    spec.function(**kwargs)
    assert not _changes(before, _state(), figures_allowed=spec.makes_figures)
    _reset_state(before)


@pytest.mark.parametrize("spec", _params([s for s in SPECS if s.valid()]))
@PROBES
@given(data=st.data())
def test_garbage_gives_a_clear_error_or_works(spec, data):
    argument = data.draw(st.sampled_from(sorted(spec.valid())), label="argument")
    value = data.draw(garbage, label="value")
    _probe(spec, argument, value)


# ---------------------------------------------------------------------------------------------
# Every question's check()
# ---------------------------------------------------------------------------------------------

QUESTIONS = {
    f"{chapter}.{q.name}": q
    for chapter in CHAPTERS
    for q in importlib.import_module(f"helpers.exercises.{chapter}").QUESTIONS
}


def _returns(value):
    def learner(*args, **kwargs):
        return value

    return learner


def _raises(exc):
    def learner(*args, **kwargs):
        raise exc

    return learner


def _no_arguments():
    return 0


def _exits(*args, **kwargs):
    sys.exit(2)


def _meddles(*args, **kwargs):
    torch.set_grad_enabled(False)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(1)
    np.random.seed(1)  # noqa: NPY002
    random.seed(1)
    plt.figure()
    return None


garbage_functions = st.one_of(
    garbage.map(_returns),
    st.sampled_from(
        [
            _raises(ValueError("boom")),
            _raises(RuntimeError("boom")),
            _raises(KeyError("k")),
            _raises(RecursionError()),
            _raises(StopIteration()),
            _raises(ArithmeticError()),
            _no_arguments,
            _exits,
            _meddles,
            _returns(iter(range(10))),
            _returns(x for x in range(3)),
            _returns("x" * 1_000_000),
            _returns(np.zeros(1_000_000)),
            _returns([torch.ones(2, requires_grad=True)] * 3),
            _raises(KeyboardInterrupt()),
        ]
    ),
)


def _answers(question, data):
    if isinstance(question, ValueQuestion):
        count = data.draw(st.sampled_from([len(question.names)] * 4 + [0, 1, 5]), label="n")
        return [data.draw(garbage, label=f"answer {i}") for i in range(count)]
    if isinstance(question, ChoiceQuestion):
        return [data.draw(garbage, label="answer")]
    return [data.draw(st.one_of(garbage_functions, garbage), label="function")]


def _reveals(question, message: str) -> bool:
    if not isinstance(question, ValueQuestion):
        return False
    return any(
        f"should be {_format_number(want)}" in message for want in question.expected.values()
    )


def _feedback_outcome(question, answers) -> tuple[str, object]:
    before = _state()
    try:
        feedback = _with_alarm(lambda: question.check(*answers), seconds=30.0)
    except _Hang:
        return "hang", None
    except BaseException as exc:
        return "internal traceback", exc
    changed = _changes(before, _state(), figures_allowed=False)
    _reset_state(before)
    if changed:
        return "state change", changed
    if not isinstance(feedback, Feedback):
        return "internal traceback", feedback
    message = feedback.message
    if "Traceback" in message or "could not make sense" in message or len(message) > _MAX_MESSAGE:
        return "internal traceback", message
    if feedback.passed:
        return "silent wrong result", message
    if _reveals(question, message):
        return "answer revealed", message
    return "correct feedback", feedback


@pytest.mark.parametrize("key", QUESTIONS)
@CHECK_PROBES
@given(data=st.data())
def test_check_gives_feedback_for_garbage(key, data, capsys):
    question = QUESTIONS[key]
    previous = checker_settings.time_limit, checker_settings.notice_after
    checker_settings.time_limit, checker_settings.notice_after = 2.0, None
    try:
        answers = _answers(question, data)
        outcome, detail = _feedback_outcome(question, answers)
    finally:
        checker_settings.time_limit, checker_settings.notice_after = previous
    capsys.readouterr()
    OUTCOMES[("check()", outcome)] += 1
    assert outcome == "correct feedback", f"{key}{tuple(answers)!r}: {outcome}: {detail}"
