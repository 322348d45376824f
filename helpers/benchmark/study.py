"""Workloads, quasi-random search and tuning studies, as in the AlgoPerf benchmark.

- :class:`Workload`: a model factory, its data, a loss, a validation metric with a target,
  and a step budget.
- :class:`Hyperparameter` and :class:`Submission`: an optimizer with its declared search
  space (the same space on every workload).
- :func:`sobol_search`: points of the search space from a scrambled Sobol sequence
  (``torch.quasirandom.SobolEngine``).
- :func:`study_plan` and :func:`run_study`: several studies of a fixed number of trials.
- :func:`run_trial`: one training run, stopped at the target or at the step budget.
- :func:`set_target`: a workload's target from a heavily tuned baseline.

Introduced in the chapter *Benchmarking optimizers*.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers import _checks as check
from helpers.benchmark.scoring import per_workload_time, time_to_target

__all__ = [
    "Hyperparameter",
    "Study",
    "Submission",
    "TargetSetting",
    "Trial",
    "Workload",
    "run_study",
    "run_trial",
    "set_target",
    "sobol_search",
    "study_plan",
]


@dataclass(frozen=True)
class Workload:
    """A training problem with a target: what a method must solve, and how fast.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    name : str
        Short name, used in tables.
    make_model : callable
        ``make_model(seed)`` returns a fresh ``torch.nn.Module``, initialised from ``seed``.
    batches : callable
        ``batches(seed)`` returns an endless iterator of ``(X, y)`` training batches, in an
        order fixed by ``seed``.
    loss_fn : callable
        ``loss_fn(model(X), y)`` returns the scalar training loss.
    validate : callable
        ``validate(model)`` returns the validation metric, a float, lower is better.
    step_budget : int
        The most training steps a run may take.
    eval_every : int
        Steps between two validations (the resolution of the time to target).
    target : float, optional
        The validation metric to reach; None until :func:`set_target` has set it.
    metric : str
        What ``validate`` measures, for labels.
    """

    name: str
    make_model: Callable = field(repr=False)
    batches: Callable = field(repr=False)
    loss_fn: Callable = field(repr=False)
    validate: Callable = field(repr=False)
    step_budget: int
    eval_every: int
    target: float | None = None
    metric: str = "validation loss"

    def __post_init__(self):
        check.check_str("name", self.name)
        for name in ("make_model", "batches", "loss_fn", "validate"):
            check.check_callable(name, getattr(self, name))
        check.check_int("step_budget", self.step_budget, low=1, high=check.MAX_STEPS)
        check.check_int("eval_every", self.eval_every, low=1, high=self.step_budget)
        if self.target is not None:
            check.to_real("target", self.target)
        check.check_str("metric", self.metric)


@dataclass(frozen=True)
class Hyperparameter:
    """A range to search, on a log scale (learning rates, ``1 - beta``) or a linear one.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    low, high : float
        The range, ``low < high`` (both positive when ``log``).
    log : bool
        Spread the points evenly in ``log(value)`` instead of ``value``.
    """

    low: float
    high: float
    log: bool = True

    def __post_init__(self):
        low = check.to_real("low", self.low, high_open=True, low_open=True)
        high = check.to_real("high", self.high, high_open=True, low_open=True)
        check.check_bool("log", self.log)
        if not low < high:
            raise ValueError(f"Invalid high: need low < high, got low={low}, high={high}")
        if self.log and low <= 0:
            raise ValueError(f"Invalid low: a log-scale range needs low > 0, got {low}")

    def from_unit(self, u: float) -> float:
        """The value at position ``u`` in ``[0, 1]`` of the range."""
        u = check.to_real("u", u, 0.0, 1.0)
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


@dataclass(frozen=True)
class Submission:
    """An optimizer and its search space: what competes in the benchmark.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    name : str
        Short name, used in tables.
    make : callable
        ``make(params, **hyperparameters)`` returns a ``torch.optim.Optimizer``.
    search_space : dict of str to Hyperparameter
        The hyperparameters to tune and their ranges, the same on every workload.
    """

    name: str
    make: Callable = field(repr=False)
    search_space: Mapping[str, Hyperparameter]

    def __post_init__(self):
        check.check_str("name", self.name)
        check.check_callable("make", self.make)
        _check_space(self.search_space)


@dataclass
class Trial:
    """One training run with one point of the search space, and its validation curve.

    Introduced in the chapter *Benchmarking optimizers*.

    Attributes
    ----------
    hyperparameters : dict of str to float
    seed : int
        The seed of the initial weights and of the batch order.
    steps : numpy.ndarray
        The step of each validation (the first at step 0).
    seconds : numpy.ndarray
        The seconds spent training at each validation (validation excluded, as in AlgoPerf).
    metrics : numpy.ndarray
        The validation metric at each validation.
    target : float or None
        The workload's target when the trial ran.
    diverged : bool
        True when the loss or the metric stopped being finite.
    """

    hyperparameters: dict
    seed: int
    steps: np.ndarray
    seconds: np.ndarray
    metrics: np.ndarray
    target: float | None
    diverged: bool = False

    @property
    def steps_to_target(self) -> float:
        """Steps until the target was first reached; ``inf`` if it never was."""
        return self._time_to_target(self.steps)

    @property
    def seconds_to_target(self) -> float:
        """Seconds of training until the target was first reached; ``inf`` if it never was."""
        return self._time_to_target(self.seconds)

    @property
    def best_metric(self) -> float:
        """The lowest validation metric of the run (``inf`` if none was finite)."""
        finite = self.metrics[np.isfinite(self.metrics)]
        return float(finite.min()) if len(finite) else math.inf

    def _time_to_target(self, times) -> float:
        if self.target is None:
            return math.inf
        return time_to_target(times, self.metrics, self.target)


@dataclass
class Study:
    """Trials of one submission on one workload, grouped into studies.

    Introduced in the chapter *Benchmarking optimizers*.

    Attributes
    ----------
    workload : str
        The workload's name.
    submission : str
        The submission's name.
    trials : list of list of Trial
        ``trials[j][i]`` is trial ``i`` of study ``j``.
    """

    workload: str
    submission: str
    trials: list

    def times(self, unit: str = "steps") -> np.ndarray:
        """Each trial's time to target, shape ``(num_studies, trials_per_study)``."""
        check.check_choice("unit", unit, ("steps", "seconds"))
        name = f"{unit}_to_target"
        return np.array([[getattr(trial, name) for trial in study] for study in self.trials])

    def time(self, unit: str = "steps") -> float:
        """AlgoPerf's per-workload time: the median over studies of the fastest trial."""
        return per_workload_time(self.times(unit))


def sobol_search(search_space: Mapping[str, Hyperparameter], num_points: int, seed: int = 0):
    """Quasi-random points of a search space, from a scrambled Sobol sequence.

    Introduced in the chapter *Benchmarking optimizers*.

    Sobol points cover the unit cube more evenly than independent random draws, and unlike
    a grid they do not repeat the same few values of each hyperparameter (the tuning
    playbook's and AlgoPerf's choice for tuning).

    Parameters
    ----------
    search_space : dict of str to Hyperparameter
    num_points : int
        How many points, 1 to 10**6.
    seed : int
        The seed of the scrambling.

    Returns
    -------
    list of dict
        ``num_points`` dicts ``{name: value}``.
    """
    _check_space(search_space)
    check.check_int("num_points", num_points, low=1, high=check.MAX_STEPS)
    check.check_int("seed", seed, low=0, high=2**63 - 1)
    if not search_space:
        return [{} for _ in range(num_points)]
    engine = torch.quasirandom.SobolEngine(len(search_space), scramble=True, seed=seed)
    unit = engine.draw(num_points, dtype=torch.float64).numpy()
    names = list(search_space)
    return [
        {name: search_space[name].from_unit(float(u)) for name, u in zip(names, row, strict=True)}
        for row in unit
    ]


def study_plan(
    search_space: Mapping[str, Hyperparameter],
    num_studies: int = 5,
    trials_per_study: int = 5,
    seed: int = 0,
) -> list:
    """Who runs what: Sobol points dealt at random into studies, with each trial's seed.

    Introduced in the chapter *Benchmarking optimizers*.

    As in AlgoPerf, ``num_studies * trials_per_study`` points are drawn from the search
    space, shuffled, and dealt out into the studies. Trial ``i`` of study ``j`` trains from
    seed ``100 * j + i`` whatever the submission, so two submissions meet the same initial
    weights and batch orders.

    Parameters
    ----------
    search_space : dict of str to Hyperparameter
    num_studies, trials_per_study : int
        At least 1 each, fewer than 100 trials per study.
    seed : int
        The seed of the Sobol scrambling and of the shuffle.

    Returns
    -------
    list of list of (int, dict)
        ``plan[j][i] = (trial_seed, hyperparameters)``.
    """
    check.check_int("num_studies", num_studies, low=1, high=10_000)
    check.check_int("trials_per_study", trials_per_study, low=1, high=99)
    points = sobol_search(search_space, num_studies * trials_per_study, seed)
    order = np.random.default_rng(seed).permutation(len(points))
    return [
        [(100 * j + i, points[order[j * trials_per_study + i]]) for i in range(trials_per_study)]
        for j in range(num_studies)
    ]


def run_trial(
    workload: Workload,
    submission: Submission,
    hyperparameters: Mapping[str, float],
    seed: int,
    *,
    stop_at_target: bool = True,
    num_steps: int | None = None,
) -> Trial:
    """Train one model with one point of the search space and record its validation curve.

    Introduced in the chapter *Benchmarking optimizers*.

    The global random state is left as it was. Validation runs with the model in eval mode
    (and the optimizer too, for optimizers that have ``eval()``, such as Schedule-Free
    AdamW); its time is not counted.

    Parameters
    ----------
    workload : Workload
    submission : Submission
    hyperparameters : dict of str to float
        Keyword arguments of ``submission.make``.
    seed : int
        The seed of the initial weights and of the batch order.
    stop_at_target : bool
        Stop as soon as the workload's target is reached (its time is then known).
    num_steps : int, optional
        Steps to train; the workload's ``step_budget`` by default.

    Returns
    -------
    Trial
    """
    check.check_instance("workload", workload, Workload, "a Workload")
    check.check_instance("submission", submission, Submission, "a Submission")
    check.check_mapping("hyperparameters", hyperparameters)
    check.check_int("seed", seed, low=0, high=2**32 - 1)
    check.check_bool("stop_at_target", stop_at_target)
    if num_steps is None:
        num_steps = workload.step_budget
    check.check_int("num_steps", num_steps, low=1, high=check.MAX_STEPS)
    with torch.random.fork_rng(), torch.enable_grad():
        torch.manual_seed(seed)
        model = workload.make_model(seed)
        try:
            optimizer = submission.make(model.parameters(), **hyperparameters)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Invalid hyperparameters for {submission.name}: {exc}") from None
        curve = _train(workload, model, optimizer, seed, num_steps, stop_at_target)
    steps, seconds, metrics, diverged = curve
    return Trial(
        dict(hyperparameters),
        seed,
        np.array(steps, dtype=float),
        np.array(seconds),
        np.array(metrics),
        workload.target,
        diverged,
    )


def _train(workload, model, optimizer, seed, num_steps, stop_at_target):
    """The training loop of :func:`run_trial`: step, validate every few steps, stop early."""
    target = workload.target if stop_at_target else None
    steps, seconds, metrics = [0], [0.0], [_validate(workload, model, optimizer)]
    batches, elapsed = workload.batches(seed), 0.0
    for step in range(1, num_steps + 1):
        begin = time.perf_counter()
        X, y = next(batches)
        optimizer.zero_grad()
        loss = workload.loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        elapsed += time.perf_counter() - begin
        if not math.isfinite(loss.item()):
            steps.append(step), seconds.append(elapsed), metrics.append(math.nan)
            return steps, seconds, metrics, True
        if step % workload.eval_every == 0 or step == num_steps:
            metric = _validate(workload, model, optimizer)
            steps.append(step), seconds.append(elapsed), metrics.append(metric)
            if not math.isfinite(metric):
                return steps, seconds, metrics, True
            if target is not None and metric <= target:
                break
    return steps, seconds, metrics, False


def _validate(workload, model, optimizer) -> float:
    model.eval()
    if callable(getattr(optimizer, "eval", None)):
        optimizer.eval()
    with torch.no_grad():
        metric = float(workload.validate(model))
    model.train()
    if callable(getattr(optimizer, "train", None)):
        optimizer.train()
    return metric if math.isfinite(metric) else math.nan


def run_study(
    workload: Workload, submission: Submission, plan, progress: Callable | None = None
) -> Study:
    """Run every trial of a :func:`study_plan` and group them into studies.

    Introduced in the chapter *Benchmarking optimizers*.

    Parameters
    ----------
    workload : Workload
        Its ``target`` must be set.
    submission : Submission
    plan : list of list of (int, dict)
        From :func:`study_plan` (or a part of one: the first study, the first trials).
    progress : callable, optional
        Called with no argument after each trial (a progress bar's update).

    Returns
    -------
    Study
    """
    check.check_instance("workload", workload, Workload, "a Workload")
    if workload.target is None:
        raise ValueError("Invalid workload: its target is not set (see set_target)")
    check.check_instance("submission", submission, Submission, "a Submission")
    _check_plan(plan)
    if progress is not None:
        check.check_callable("progress", progress)
    trials = []
    for study in plan:
        trials.append([])
        for seed, hyperparameters in study:
            trials[-1].append(run_trial(workload, submission, hyperparameters, seed))
            if progress is not None:
                progress()
    return Study(workload.name, submission.name, trials)


@dataclass
class TargetSetting:
    """How a workload's target was set (see :func:`set_target`).

    Introduced in the chapter *Benchmarking optimizers*.

    Attributes
    ----------
    target : float
        The median over the reruns of the best validation metric.
    submission : str
        The target-setting optimizer that did best.
    hyperparameters : dict
        Its best point.
    rerun_best : list of float
        The best validation metric of each rerun.
    num_trials : int
        Trials searched per target-setting optimizer.
    num_steps : int
        Steps of each target-setting run.
    """

    target: float
    submission: str
    hyperparameters: dict
    rerun_best: list
    num_trials: int
    num_steps: int


def set_target(
    workload: Workload,
    submissions,
    num_trials: int = 16,
    num_reruns: int = 5,
    num_steps: int | None = None,
    seed: int = 0,
    progress: Callable | None = None,
) -> TargetSetting:
    """A workload's target from a heavily tuned baseline, as AlgoPerf sets its targets.

    Introduced in the chapter *Benchmarking optimizers*.

    Each target-setting submission searches ``num_trials`` Sobol points, each trained for
    ``num_steps`` steps without stopping early. The point with the lowest validation metric
    is then trained again from ``num_reruns`` new seeds, and the target is the median of the
    best metric of those reruns, so that a lucky run does not set it. (AlgoPerf: AdamW,
    NadamW, Nesterov and heavy-ball momentum, 200 trials, 20 reruns.)

    Parameters
    ----------
    workload : Workload
    submissions : list of Submission
        The target-setting optimizers.
    num_trials : int
        Points searched per submission, at least 1.
    num_reruns : int
        Reruns of the best point, at least 1.
    num_steps : int, optional
        Steps per run; half the workload's step budget by default. (AlgoPerf's first round
        gave submissions a third more time than the target-setting runs had; the course's
        submissions tune far less than its target-setting runs, so they get twice the time.)
    seed : int
        Seed of the Sobol points; the reruns use seeds 1000, 1001, ...
    progress : callable, optional
        Called with no argument after each run.

    Returns
    -------
    TargetSetting
    """
    check.check_instance("workload", workload, Workload, "a Workload")
    if isinstance(submissions, Submission) or not isinstance(submissions, list | tuple):
        raise check.ArgumentTypeError("Invalid submissions: it must be a list of Submission")
    if not submissions or not all(isinstance(s, Submission) for s in submissions):
        raise ValueError("Invalid submissions: it must be a non-empty list of Submission")
    check.check_int("num_trials", num_trials, low=1, high=10_000)
    check.check_int("num_reruns", num_reruns, low=1, high=10_000)
    if num_steps is None:
        num_steps = max(1, workload.step_budget // 2)
    check.check_int("num_steps", num_steps, low=1, high=workload.step_budget)
    if progress is not None:
        check.check_callable("progress", progress)
    tick = progress or (lambda: None)
    best = (math.inf, submissions[0], {})
    for submission in submissions:
        for point in sobol_search(submission.search_space, num_trials, seed):
            trial = run_trial(
                workload, submission, point, 0, stop_at_target=False, num_steps=num_steps
            )
            tick()
            if trial.best_metric < best[0]:
                best = (trial.best_metric, submission, point)
    _, submission, point = best
    reruns = []
    for k in range(num_reruns):
        trial = run_trial(
            workload, submission, point, 1000 + k, stop_at_target=False, num_steps=num_steps
        )
        reruns.append(trial.best_metric)
        tick()
    return TargetSetting(
        float(np.median(reruns)), submission.name, dict(point), reruns, num_trials, num_steps
    )


def _check_space(search_space) -> None:
    check.check_mapping("search_space", search_space, "a dict of name to Hyperparameter")
    for name, value in search_space.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Invalid search_space: {name!r} is not a keyword name")
        check.check_instance(f"search_space[{name!r}]", value, Hyperparameter, "a Hyperparameter")


def _check_plan(plan) -> None:
    what = "a list of studies, each a list of (seed, hyperparameters) pairs"
    if not isinstance(plan, list | tuple) or not plan:
        raise check.ArgumentTypeError(f"Invalid plan: it must be {what}")
    for study in plan:
        if not isinstance(study, list | tuple) or not study:
            raise check.ArgumentTypeError(f"Invalid plan: it must be {what}")
        for entry in study:
            if not isinstance(entry, tuple | list) or len(entry) != 2:
                raise check.ArgumentTypeError(f"Invalid plan: it must be {what}")
            check.check_int("plan seed", entry[0], low=0, high=2**32 - 1)
            check.check_mapping("plan hyperparameters", entry[1])
