"""Learning-rate schedules as plain functions ``lr(t)``, equal to ``torch.optim.lr_scheduler``.

Each function returns the learning rate for step ``t = 0, 1, 2, ...``: the value that the
matching torch scheduler leaves in ``group["lr"]`` after ``t`` calls of ``scheduler.step()``.
Plain functions are easy to plot and to reason about; :func:`as_scheduler` turns any of them
into a real ``torch.optim.lr_scheduler.LambdaLR`` for a training loop, and
:class:`ReduceOnPlateau` is the metric-driven schedule, written out step by step.

What each function mirrors (and what the tests compare it with, for 500 steps):

- :func:`step_lr`: ``StepLR(step_size, gamma)``
- :func:`multistep_lr`: ``MultiStepLR(milestones, gamma)``
- :func:`exponential_lr`: ``ExponentialLR(gamma)``
- :func:`inverse_time_lr`: ``LambdaLR(lambda t: 1 / (1 + decay * t))``; torch has no 1/t class
- :func:`cosine_lr`: ``CosineAnnealingLR(T_max=total_steps, eta_min=lr_min)``
- :func:`warmup_cosine_lr`: ``SequentialLR([LinearLR, CosineAnnealingLR], [warmup_steps])``
- :func:`one_cycle_lr`: ``OneCycleLR(max_lr, total_steps, ...)``, the learning rate only
- :class:`ReduceOnPlateau`: ``ReduceLROnPlateau``
"""

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable
from itertools import pairwise

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from helpers import _checks as check

__all__ = [
    "ReduceOnPlateau",
    "as_scheduler",
    "cosine_lr",
    "exponential_lr",
    "inverse_time_lr",
    "multistep_lr",
    "one_cycle_lr",
    "step_lr",
    "warmup_cosine_lr",
]


# ---------------------------------------------------------------------------------------------
# Argument checks: every error names the argument and what it may be.
# ---------------------------------------------------------------------------------------------


def _check_int(name, value, low=0):
    check.check_int(name, value, low)


def _check_real(name, value, low=0.0, high=math.inf, *, low_open=False, high_open=False):
    check.check_real(name, value, low, high, low_open=low_open, high_open=high_open)


_check_choice = check.check_choice


def _check_milestones(milestones) -> list[int]:
    if isinstance(milestones, str | bytes) or not isinstance(milestones, Iterable):
        raise check.ArgumentTypeError(
            f"Invalid milestones: {milestones!r}; milestones must be a list of integers"
        )
    milestones = list(milestones)
    for milestone in milestones:
        _check_int("milestones", milestone)
    return sorted(milestones)


# ---------------------------------------------------------------------------------------------
# Schedules as functions of the step t.
# ---------------------------------------------------------------------------------------------


def step_lr(t: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: multiply the learning rate by `gamma` every `step_size` steps.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Parameters
    ----------
    t : int
        Step, >= 0.
    lr0 : float
        Initial learning rate, >= 0.
    step_size : int
        Number of steps between decays, >= 1.
    gamma : float, default 0.1
        Decay factor, >= 0.

    Returns
    -------
    float
        ``lr0 * gamma ** (t // step_size)``, as ``torch.optim.lr_scheduler.StepLR``.
    """
    _check_int("t", t)
    _check_real("lr0", lr0)
    _check_int("step_size", step_size, low=1)
    _check_real("gamma", gamma)
    return lr0 * gamma ** (t // step_size)


def multistep_lr(t: int, lr0: float, milestones: Iterable[int], gamma: float = 0.1) -> float:
    """Multi-step decay: multiply the learning rate by `gamma` at each milestone.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Parameters
    ----------
    t : int
        Step, >= 0.
    lr0 : float
        Initial learning rate, >= 0.
    milestones : iterable of int
        Steps (>= 0) at which the rate drops; a milestone listed twice drops it twice.
    gamma : float, default 0.1
        Decay factor, >= 0.

    Returns
    -------
    float
        ``lr0 * gamma ** (number of milestones <= t)``, as ``MultiStepLR``.
    """
    _check_int("t", t)
    _check_real("lr0", lr0)
    milestones = _check_milestones(milestones)
    _check_real("gamma", gamma)
    return lr0 * gamma ** bisect_right(milestones, t)


def exponential_lr(t: int, lr0: float, gamma: float) -> float:
    """Exponential decay: multiply the learning rate by `gamma` every step.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Parameters
    ----------
    t : int
        Step, >= 0.
    lr0 : float
        Initial learning rate, >= 0.
    gamma : float
        Decay factor per step, >= 0 (typically just below 1).

    Returns
    -------
    float
        ``lr0 * gamma ** t``, as ``ExponentialLR``.
    """
    _check_int("t", t)
    _check_real("lr0", lr0)
    _check_real("gamma", gamma)
    return lr0 * gamma**t


def inverse_time_lr(t: int, lr0: float, decay: float) -> float:
    """1/t decay, the classic Robbins-Monro step size: ``lr0 / (1 + decay * t)``.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    torch has no scheduler class for it; the same sequence is
    ``LambdaLR(optimizer, lambda t: 1 / (1 + decay * t))`` (equal up to one rounding).

    Parameters
    ----------
    t : int
        Step, >= 0.
    lr0 : float
        Initial learning rate, >= 0.
    decay : float
        Decay rate, >= 0: the rate halves at ``t = 1 / decay``.

    Returns
    -------
    float
        ``lr0 / (1 + decay * t)``.

    References
    ----------
    Robbins, H., & Monro, S. (1951). A stochastic approximation method. Ann. Math. Statist. 22.
    """
    _check_int("t", t)
    _check_real("lr0", lr0)
    _check_real("decay", decay)
    return lr0 / (1 + decay * t)


def cosine_lr(t: int, lr0: float, total_steps: int, lr_min: float = 0.0) -> float:
    """Cosine annealing from `lr0` down to `lr_min` over `total_steps` steps.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Parameters
    ----------
    t : int
        Step, >= 0.
    lr0 : float
        Initial (largest) learning rate, >= 0.
    total_steps : int
        Steps to reach `lr_min` (torch's ``T_max``), >= 1.
    lr_min : float, default 0.0
        Final learning rate (torch's ``eta_min``), >= 0.

    Returns
    -------
    float
        ``lr_min + (lr0 - lr_min) * (1 + cos(pi * t / total_steps)) / 2``, the closed form of
        ``CosineAnnealingLR``. Past `total_steps` the cosine rises again, as torch's does: set
        `total_steps` to the length of the run.

    References
    ----------
    Loshchilov, I., & Hutter, F. (2017). SGDR: Stochastic gradient descent with warm restarts.
    ICLR.
    """
    _check_int("t", t)
    _check_real("lr0", lr0)
    _check_int("total_steps", total_steps, low=1)
    _check_real("lr_min", lr_min)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total_steps)) / 2


def warmup_cosine_lr(
    t: int,
    lr0: float,
    warmup_steps: int,
    total_steps: int,
    lr_min: float = 0.0,
    start_factor: float = 0.01,
) -> float:
    """Linear warmup from ``start_factor * lr0`` to `lr0`, then cosine annealing to `lr_min`.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    The same sequence as torch's ``SequentialLR(optimizer, [LinearLR(optimizer, start_factor,
    total_iters=warmup_steps), CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps,
    eta_min=lr_min)], milestones=[warmup_steps])``.

    Parameters
    ----------
    t : int
        Step, >= 0.
    lr0 : float
        Peak learning rate, reached at ``t = warmup_steps``, >= 0.
    warmup_steps : int
        Length of the linear warmup, >= 0 (0: no warmup, plain :func:`cosine_lr`).
    total_steps : int
        Total length: warmup plus annealing, > `warmup_steps`.
    lr_min : float, default 0.0
        Learning rate at the end, >= 0.
    start_factor : float, default 0.01
        Fraction of `lr0` used at step 0, in (0, 1] (torch's LinearLR refuses 0).

    Returns
    -------
    float
        ``lr0 * (start_factor + (1 - start_factor) * t / warmup_steps)`` while
        ``t < warmup_steps``, then ``cosine_lr(t - warmup_steps, lr0, total_steps -
        warmup_steps, lr_min)``.
    """
    _check_int("t", t)
    _check_real("lr0", lr0)
    _check_int("warmup_steps", warmup_steps)
    _check_int("total_steps", total_steps, low=warmup_steps + 1)
    _check_real("lr_min", lr_min)
    _check_real("start_factor", start_factor, 0.0, 1.0, low_open=True)
    if t < warmup_steps:
        return lr0 * (start_factor + (1.0 - start_factor) * t / warmup_steps)
    return cosine_lr(t - warmup_steps, lr0, total_steps - warmup_steps, lr_min)


def one_cycle_lr(
    t: int,
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> float:
    """The one-cycle policy: up from ``max_lr / div_factor`` to `max_lr`, then far below.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Parameters
    ----------
    t : int
        Step, 0 <= t <= `total_steps`.
    max_lr : float
        Peak learning rate, >= 0, reached at ``t = pct_start * total_steps - 1``.
    total_steps : int
        Length of the cycle, >= 1.
    pct_start : float, default 0.3
        Fraction of the cycle spent increasing the rate, in (0, 1).
    anneal_strategy : {'cos', 'linear'}, default 'cos'
        Shape of each phase.
    div_factor : float, default 25.0
        Initial rate is ``max_lr / div_factor``; > 0.
    final_div_factor : float, default 1e4
        Final rate is ``max_lr / div_factor / final_div_factor``; > 0.
    three_phase : bool, default False
        If True, come back down to the initial rate symmetrically, then anneal to the final
        rate in a third phase (the original paper); otherwise two phases (fastai's choice).

    Returns
    -------
    float
        The learning rate of ``torch.optim.lr_scheduler.OneCycleLR`` at step `t` (that class
        also cycles momentum; this function gives the learning rate only).

    References
    ----------
    Smith, L. N., & Topin, N. (2019). Super-convergence: very fast training of neural networks
    using large learning rates. SPIE 11006.
    """
    _check_int("total_steps", total_steps, low=1)
    _check_int("t", t)
    if t > total_steps:
        raise ValueError(f"Invalid t: {t!r}; t must be <= total_steps = {total_steps}")
    _check_real("max_lr", max_lr)
    _check_real("pct_start", pct_start, 0.0, 1.0, low_open=True, high_open=True)
    _check_choice("anneal_strategy", anneal_strategy, {"cos", "linear"})
    check.check_bool("three_phase", three_phase)
    _check_real("div_factor", div_factor, low_open=True)
    _check_real("final_div_factor", final_div_factor, low_open=True)
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
            (total_steps - 1, initial_lr, min_lr),
        ]
    else:
        phases = [
            (float(pct_start * total_steps) - 1, initial_lr, max_lr),
            (total_steps - 1, max_lr, min_lr),
        ]
    ends = [0.0] + [end for end, _, _ in phases]
    if any(b <= a for a, b in pairwise(ends)):
        raise ValueError(
            f"Invalid pct_start: {pct_start!r}; with total_steps = {total_steps} every phase "
            "must last at least one step (pct_start * total_steps > 1, and shorter than the "
            "cycle)"
        )
    start_step = 0.0
    for i, (end_step, start, end) in enumerate(phases):
        if t <= end_step or i == len(phases) - 1:
            pct = (t - start_step) / (end_step - start_step)
            if anneal_strategy == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (end - start) * pct + start
        start_step = end_step
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Using a schedule in a training loop.
# ---------------------------------------------------------------------------------------------


def as_scheduler(optimizer: Optimizer, fn: Callable[..., float], **kwargs) -> LambdaLR:
    """Drive `optimizer` with the schedule `fn`: a ``torch.optim.lr_scheduler.LambdaLR``.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Each param group keeps its own starting learning rate ``lr0`` (its ``lr`` when the
    scheduler is made), and after ``t`` calls of ``scheduler.step()`` its ``lr`` is
    ``fn(t, lr0, **kwargs)``. (LambdaLR multiplies the starting rate by a factor; the factor
    used is ``fn(t, lr0, **kwargs) / lr0``, so the result equals ``fn`` up to one rounding.)

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Any optimizer, from ``torch.optim`` or ``helpers.optim``.
    fn : callable
        A schedule ``fn(t, lr0, **kwargs)`` such as :func:`cosine_lr`; for :func:`one_cycle_lr`
        the group's ``lr`` is taken as ``max_lr``.
    **kwargs
        The schedule's other arguments, for example ``total_steps=1000``.

    Returns
    -------
    torch.optim.lr_scheduler.LambdaLR
        Call its ``step()`` once after each ``optimizer.step()``.

    Examples
    --------
    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> scheduler = as_scheduler(opt, cosine_lr, total_steps=100)
    >>> for t in range(50):
    ...     opt.step()
    ...     scheduler.step()
    >>> round(opt.param_groups[0]["lr"], 6)
    0.05
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer)}")
    check.check_callable("fn", fn)

    def factor_for(lr0):
        def factor(t):
            return fn(t, lr0, **kwargs) / lr0 if lr0 != 0 else 0.0

        return factor

    lr0s = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
    return LambdaLR(optimizer, [factor_for(lr0) for lr0 in lr0s])


class ReduceOnPlateau:
    """Reduce the learning rate when a monitored metric stops improving.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Equal to ``torch.optim.lr_scheduler.ReduceLROnPlateau`` for one learning rate, without an
    optimizer: call ``step(metric)`` once per epoch and use the returned rate, e.g.
    ``for g in opt.param_groups: g["lr"] = plateau.step(val_loss)``.

    Parameters
    ----------
    lr : float
        Starting learning rate, >= 0.
    mode : {'min', 'max'}, default 'min'
        Whether a lower ('min', a loss) or a higher ('max', an accuracy) metric is better.
    factor : float, default 0.1
        Multiplier applied on a plateau, in [0, 1).
    patience : int, default 10
        Number of steps without improvement tolerated; the rate drops on the next one.
    threshold : float, default 1e-4
        Minimum change that counts as an improvement, >= 0.
    threshold_mode : {'rel', 'abs'}, default 'rel'
        'rel': better means below ``best * (1 - threshold)`` (mode 'min') or above
        ``best * (1 + threshold)`` (mode 'max'); 'abs': below ``best - threshold`` or above
        ``best + threshold``.
    cooldown : int, default 0
        Steps to wait after a reduction before counting bad steps again, >= 0.
    min_lr : float, default 0.0
        Lower bound on the learning rate, >= 0.
    eps : float, default 1e-8
        Reductions smaller than this are skipped, >= 0.

    Attributes
    ----------
    lr : float
        The current learning rate.
    best : float
        The best metric seen so far.
    num_bad_steps : int
        Steps since the last improvement (reset by a reduction and during cooldown).
    cooldown_counter : int
        Steps of cooldown left.
    """

    def __init__(
        self,
        lr: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        _check_real("lr", lr)
        _check_choice("mode", mode, {"min", "max"})
        _check_real("factor", factor, 0.0, 1.0, high_open=True)
        _check_int("patience", patience)
        _check_real("threshold", threshold)
        _check_choice("threshold_mode", threshold_mode, {"rel", "abs"})
        _check_int("cooldown", cooldown)
        _check_real("min_lr", min_lr)
        _check_real("eps", eps)
        self.lr = float(lr)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_steps = 0
        self.cooldown_counter = 0

    def is_better(self, metric: float) -> bool:
        """Whether `metric` improves on the best value by more than the threshold."""
        metric = check.to_real("metric", metric, allow_nan=True)
        if self.mode == "min" and self.threshold_mode == "rel":
            return metric < self.best * (1.0 - self.threshold)
        if self.mode == "min":
            return metric < self.best - self.threshold
        if self.threshold_mode == "rel":
            return metric > self.best * (self.threshold + 1.0)
        return metric > self.best + self.threshold

    def step(self, metric: float) -> float:
        """Record one value of the metric and return the learning rate to use next.

        Parameters
        ----------
        metric : float
            The monitored quantity (a float or a 0-d tensor).

        Returns
        -------
        float
            The (possibly reduced) learning rate.
        """
        metric = check.to_real("metric", metric, allow_nan=True)
        if self.is_better(metric):
            self.best, self.num_bad_steps = metric, 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:  # bad steps do not count during cooldown
            self.cooldown_counter -= 1
            self.num_bad_steps = 0
        if self.num_bad_steps > self.patience:  # plateau: reduce, then cool down
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_steps = self.cooldown, 0
        return self.lr
