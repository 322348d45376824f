"""Running optimizers: on test functions, and on models with data.

- :func:`run_optimizer` follows an optimizer across a test function and records its path.
- :func:`fit` trains a model for some epochs and records a :class:`History`.
- :class:`EarlyStopping` stops :func:`fit` when the validation loss stops improving.
- :func:`lr_find` runs the learning-rate range test (the "LR finder").
- :func:`clip_grad_norm` and :func:`clip_grad_value` clip gradients (as ``torch.nn.utils``
  does), and :class:`TrainingDiagnostics` records gradient norms, update-to-weight ratios and
  dead ReLUs during :func:`fit` (``callbacks=``).

A run whose loss becomes infinite or NaN, or whose parameters leave a huge ball, is
stopped and reported as *diverged* instead of filling plots with NaNs.

Divergence of a loss is judged against its first value ``first`` with a factor ``f > 1``:
the loss has diverged once it is not finite or exceeds ``first + (f - 1) * |first|``. For a
positive first loss that is ``f * first``, the usual rule; the same threshold also works for
losses that can be negative (a log-likelihood, ``CE - 10``). A first loss of exactly 0 has
no scale, so 1 (in the loss's units) is used instead of ``|first|``.

:func:`fit` and :func:`lr_find` are exception-safe: if the loss function, the model or a
``KeyboardInterrupt`` stops them, the exception is re-raised with what was recorded so far
attached (``exc.history`` for :func:`fit`, ``exc.result`` for :func:`lr_find`), grad mode and
the model's train/eval mode are restored, and :func:`lr_find` restores the weights and the
optimizer (learning rates included) as it does after a finished sweep.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers import _checks as check
from helpers.data import Batches
from helpers.objectives import Objective
from helpers.schedules import ReduceOnPlateau

__all__ = [
    "ELEMENTWISE",
    "EarlyStopping",
    "History",
    "LRFinderResult",
    "TrainingDiagnostics",
    "Trajectory",
    "clip_grad_norm",
    "clip_grad_value",
    "divergence_threshold",
    "evaluate",
    "fit",
    "fit_copies",
    "lr_find",
    "run_optimizer",
    "run_steps",
]


@dataclass
class Trajectory:
    """The path of an optimizer on a test function.

    Introduced in the chapter *Gradient descent*.

    Attributes
    ----------
    points : numpy.ndarray
        Shape ``(num_steps + 1, dim)``: the start, then the point after each step.
    losses : numpy.ndarray
        Shape ``(num_steps + 1,)``: the function value at each point.
    diverged : bool
        True when the run was stopped because it blew up.
    converged : bool
        True when the run was stopped because the gradient norm fell below ``grad_tol``.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: bool = False
    converged: bool = False

    @property
    def num_steps(self) -> int:
        """Number of steps taken."""
        return len(self.points) - 1

    @property
    def final(self) -> np.ndarray:
        """The last point reached."""
        return self.points[-1]


def run_optimizer(
    objective: Objective,
    start: Iterable[float],
    optimizer: Callable[..., torch.optim.Optimizer],
    num_steps: int = 100,
    *,
    grad_tol: float | None = None,
    diverge_at: float = 1e6,
    **optimizer_kwargs,
) -> Trajectory:
    """Minimise ``objective`` from ``start`` and record the path.

    Introduced in the chapter *Gradient descent*.

    Parameters
    ----------
    objective : Objective
        The function to minimise.
    start : sequence of float
        The starting point, ``objective.dim`` coordinates.
    optimizer : callable
        An optimizer class such as ``torch.optim.SGD`` or ``helpers.optim.Adam``, or any
        callable ``optimizer(params, **optimizer_kwargs)`` returning an optimizer. One whose
        attribute ``requires_closure`` is true (:class:`helpers.optim.SAM`) gets a closure
        that evaluates the objective again.
    num_steps : int
        Maximum number of steps, 0 to ``10**6``.
    grad_tol : float, optional
        Stop early, marked ``converged``, once the gradient norm is below this value.
    diverge_at : float
        Stop, marked ``diverged``, once the loss or a coordinate exceeds this in size
        or becomes NaN; positive (NaN is refused, ``inf`` checks only for NaN and inf).
    **optimizer_kwargs
        Passed to ``optimizer``, for example ``lr=0.1, momentum=0.9``.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError, TypeError
        For a bad argument (each message names it), e.g. a string ``start``.
    """
    check.check_instance("objective", objective, Objective, "an Objective")
    start = check.to_array("start", start, finite=True)
    if start.shape != (objective.dim,):
        raise ValueError(
            f"Invalid start: start must have {objective.dim} coordinate(s), "
            f"got shape {start.shape}"
        )
    check.check_callable("optimizer", optimizer)
    check.check_int("num_steps", num_steps, low=0, high=check.MAX_STEPS)
    if grad_tol is not None:
        check.check_real("grad_tol", grad_tol, 0.0)
    check.check_real("diverge_at", diverge_at, 0.0, low_open=True)
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        opt = optimizer([x], **optimizer_kwargs)
        return _follow(objective, x, opt, num_steps, grad_tol, diverge_at)


def fit_copies(
    models: Sequence[torch.nn.Module],
    loss_fn: Callable,
    optimizer: Callable[..., torch.optim.Optimizer],
    train_loaders: Sequence[Iterable],
    num_epochs: int,
    *,
    hyperparameters: Sequence[dict] | None = None,
    scheduler: Callable | None = None,
    scheduler_interval: str = "epoch",
    val_data=None,
    callbacks: Sequence[Iterable] | None = None,
    diverge_factor: float = 1e3,
    **optimizer_kwargs,
) -> list[History]:
    """Train copies of one network side by side, each as :func:`fit` would train it alone.

    Copy ``k`` starts from the weights and buffers of ``models[k]`` (say, initialised from seed
    ``k``), sees the mini-batches of ``train_loaders[k]`` (its own order), and has its own
    hyperparameters ``hyperparameters[k]`` (say, its own learning rate). All copies share one
    forward and backward pass: ``torch.func.vmap`` runs ``torch.func.functional_call`` of the
    network once per copy, on the copies' stacked weights, buffers and batches. The copies train
    in train mode and are evaluated in eval mode, as in :func:`fit`; buffers such as
    BatchNorm's running statistics are stacked too, so each copy updates its own. When the
    optimizer updates each number on its own (see :data:`ELEMENTWISE`), it steps the stacked
    weights directly (from ``torch.func.stack_module_state``): one tensor per weight and one
    param group for all the copies that share their hyperparameters. Otherwise it holds one
    param group per copy, so that an optimizer that couples the entries of a matrix (Muon's
    orthogonalization, Adafactor's row and column factors) or a layer-wise one (LARS, LAMB)
    sees each copy's tensors on their own. The result equals ``len(models)`` separate
    :func:`fit` runs up to rounding (``tests/unit/test_fit_copies.py``). An optimizer with
    ``train()`` and ``eval()`` methods (Schedule-Free AdamW) is put in train mode for each
    epoch's updates and in eval mode for its evaluation and at the end, so the models end at
    its average x and are evaluated there, as in a loop that calls them around ``evaluate``.
    Introduced in the chapter *Learning-rate schedules and the LR finder*, where it trains 30
    copies at once.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        Networks of one architecture (same parameter and buffer names and shapes), trained in
        place; they are left in train mode, as :func:`fit` leaves its model. Dropout draws
        differ from those of separate runs.
    loss_fn : callable
        ``loss_fn(model(X), y)`` returns a scalar tensor.
    optimizer : callable
        An optimizer class, from ``torch.optim`` or :mod:`helpers.optim` (or a function with
        its signature): ``optimizer(param_groups, **optimizer_kwargs)``.
    train_loaders : sequence of iterables of (X, y)
        One per copy, each giving batches of the same shapes, in the same number.
    num_epochs : int
    hyperparameters : sequence of dict, optional
        One dict per copy, put in its param group, e.g. ``[{"lr": 0.1}, {"lr": 0.3}]``.
    scheduler : callable, optional
        ``scheduler(optimizer)`` returns a ``torch.optim.lr_scheduler`` scheduler. It acts on
        every copy's group (``LambdaLR`` takes one function per group). Schedulers that need a
        validation loss are refused: the copies have one each.
    scheduler_interval : {"epoch", "step"}
        Step the scheduler after every epoch, as :func:`fit` does, or after every mini-batch
        update (as a callback of :func:`fit` stepping it in ``on_step_end`` would).
    val_data : (X, y), or a sequence of (X, y) with one per copy, optional
        Evaluated for each copy after every epoch, as in :func:`fit`.
    callbacks : sequence of lists of callbacks, optional
        One list per copy, with :func:`fit`'s methods ``on_train_begin(model)``,
        ``on_step_end(model)`` and ``on_train_end(model)``, called with ``models[k]`` holding
        copy ``k``'s current weights (to read: changes to them are not trained on).
        ``on_after_backward`` is refused: the copies' gradients are computed together.
    diverge_factor : float
        As in :func:`fit`: a copy whose epoch loss is not finite or above this factor times
        its first mini-batch loss is marked ``diverged`` and stops; the others go on.
    **optimizer_kwargs
        Passed to ``optimizer``, shared by the copies, e.g. ``momentum=0.9``.

    Returns
    -------
    list of History
        One per copy, as :func:`fit` returns it.
    """
    models = _check_copies(models, train_loaders, hyperparameters)
    check.check_callable("optimizer", optimizer)
    check.check_callable("loss_fn", loss_fn)
    check.check_int("num_epochs", num_epochs, low=1, high=check.MAX_STEPS)
    check.check_real("diverge_factor", diverge_factor, 1.0, low_open=True)
    val_sets = _copies_val_data(val_data, len(models))
    copy_callbacks = _copies_callbacks(callbacks, len(models))
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(
            f'Invalid scheduler_interval: it must be "epoch" or "step", not {scheduler_interval!r}'
        )
    for model in models:
        model.train()
    copies = _Copies(models, hyperparameters or [{} for _ in models], optimizer)
    opt = optimizer(copies.param_groups, **optimizer_kwargs)
    schedule = _copies_scheduler(scheduler, opt)
    run = {"copies": copies, "optimizer": opt, "callbacks": copy_callbacks}
    run["step_schedule"] = schedule if scheduler_interval == "step" else None
    histories = [History() for _ in models]
    copy_losses = _vmapped_loss(models[0], loss_fn)
    _call_each(copy_callbacks, "on_train_begin", copies, range(len(models)))
    start = time.perf_counter()
    with torch.enable_grad():
        for epoch in range(1, num_epochs + 1):
            running = [k for k, h in enumerate(histories) if not h.diverged]
            if not running:
                break
            firsts = {}  # where each running copy's batch losses of this epoch begin
            for k in running:
                histories[k].lr.append(copies.lr(opt, k))
                firsts[k] = len(histories[k].batch_loss)
            _set_mode(opt, "train")
            for batch in _copy_batches(train_loaders, epoch):
                losses = _copies_step(copy_losses, batch, running, **run)
                for k, loss in zip(running, losses, strict=True):
                    histories[k].batch_loss.append(loss)
            _set_mode(opt, "eval")  # Schedule-Free: evaluated, stopped and returned at x
            _end_epoch(histories, firsts, copies, loss_fn, val_sets, diverge_factor, start)
            if schedule is not None and scheduler_interval == "epoch":
                schedule.step()
    for k in range(len(models)):
        copies.sync(k)
    _call_each(copy_callbacks, "on_train_end", copies, range(len(models)))
    return histories


def _copies_step(copy_losses, batch, running, *, copies, optimizer, callbacks, step_schedule):
    """One update of every copy on its own batch ``X[k], y[k]``; the running copies' losses."""
    optimizer.zero_grad()
    X, y = batch
    losses = copy_losses(copies.weights(), copies.buffers, X, y)
    losses.sum().backward()  # each copy's weights get its own loss's gradient
    copies.drop_stopped_gradients()
    optimizer.step()
    _call_each(callbacks, "on_step_end", copies, running)
    if step_schedule is not None:
        step_schedule.step()
    return losses[running].tolist()


def _set_mode(optimizer, mode: str) -> None:
    """Call the optimizer's ``train()`` or ``eval()`` if it has modes (Schedule-Free AdamW)."""
    switch = getattr(optimizer, mode, None)
    if callable(switch):
        switch()


#: Optimizers (class names, in torch.optim or helpers.optim) whose step updates each number of
#: a tensor from its own gradient and state alone. On the copies' weights stacked into one
#: tensor (one param group), they take the very steps that each copy would take alone.
#: Introduced in the chapter *Learning-rate schedules and the LR finder*, with fit_copies.
ELEMENTWISE = frozenset(
    {"SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adamax", "Adadelta", "Lion"}
    | {"ScheduleFreeAdamW"}
)


def _updates_each_number_alone(optimizer) -> bool:
    cls = optimizer.func if isinstance(optimizer, functools.partial) else optimizer
    if not isinstance(cls, type) or cls.__name__ not in ELEMENTWISE:
        return False
    return cls.__module__.startswith(("torch.optim.", "helpers.optim."))


def _same_hyperparameters(hyperparameters: Sequence[dict]) -> list[list[int]]:
    """The copies grouped by equal hyperparameters (a dict holding a tensor is its own group)."""
    groups: list[list[int]] = []
    for k, h in enumerate(hyperparameters):
        plain = not any(isinstance(v, torch.Tensor) for v in h.values())
        for group in groups:
            first = hyperparameters[group[0]]
            if plain and not any(isinstance(v, torch.Tensor) for v in first.values()):
                if h == first:
                    group.append(k)
                    break
        else:
            groups.append([k])
    return groups


class _Copies:
    """The copies' weights, as the optimizer updates them and as the forward pass reads them.

    *Stacked*, for an elementwise optimizer: the copies with equal hyperparameters have their
    weights stacked into one tensor per weight, with a leading copy axis
    (``torch.func.stack_module_state``), one param group per set of hyperparameters; the
    weights are copied back into the models when they are evaluated and at the end.
    *Per copy*, otherwise: the models' own tensors, one param group per copy, so that an
    optimizer that couples the entries of a matrix sees each copy's matrices on their own.
    Either way the forward pass gets every weight stacked over all copies, in their order, and
    the buffers (running statistics) stacked over all copies, which it updates in place.
    """

    def __init__(self, models, hyperparameters, optimizer):
        self.models = models
        self.names = [name for name, _ in models[0].named_parameters()]
        self.buffers = torch.func.stack_module_state(models)[1]  # (copies, *buffer.shape)
        self.stacked = _updates_each_number_alone(optimizer)
        self.stopped: set[int] = set()  # diverged copies, frozen at their last weights
        if self.stacked:
            self.members = _same_hyperparameters(hyperparameters)  # copies of each group
        else:
            self.members = [[k] for k in range(len(models))]
        self.group_of = {k: g for g, members in enumerate(self.members) for k in members}
        if self.stacked:
            self.stacks = [
                torch.func.stack_module_state([models[k] for k in members])[0]
                for members in self.members
            ]
            params = [list(stack.values()) for stack in self.stacks]
        else:
            self.own = params = [list(m.parameters()) for m in models]
        self.param_groups = [
            {"params": params[g], **hyperparameters[members[0]]}
            for g, members in enumerate(self.members)
        ]
        order = [k for members in self.members for k in members]  # copies in stacking order
        self.order = None if order == sorted(order) else torch.argsort(torch.tensor(order))

    def weights(self) -> dict[str, torch.Tensor]:
        """Every weight, stacked over the copies in their order: ``(copies, *weight.shape)``."""
        if self.stacked and len(self.stacks) == 1:
            return self.stacks[0]
        if self.stacked:
            weights = {n: torch.cat([stack[n] for stack in self.stacks]) for n in self.names}
        else:  # stacked anew, differentiably, from each copy's own tensors
            same_weight = zip(*self.own, strict=True)  # the copies' tensors of one weight
            weights = {n: torch.stack(ps) for n, ps in zip(self.names, same_weight, strict=True)}
        if self.order is not None:
            weights = {n: w[self.order] for n, w in weights.items()}
        return weights

    def lr(self, optimizer, k: int) -> float:
        return optimizer.param_groups[self.group_of[k]]["lr"]

    def drop_stopped_gradients(self) -> None:
        """A stopped copy's own tensors get no gradient, so the optimizer leaves them alone."""
        if not self.stacked:
            for k in self.stopped:
                for p in self.own[k]:
                    p.grad = None

    def sync(self, k: int) -> None:
        """Put copy ``k``'s current weights (if stacked) and buffers into ``models[k]``."""
        if k in self.stopped:
            return
        with torch.no_grad():
            if self.stacked:
                g = self.group_of[k]
                row = self.members[g].index(k)
                for name, p in self.models[k].named_parameters():
                    p.copy_(self.stacks[g][name][row])
            for name, b in self.models[k].named_buffers():
                b.copy_(self.buffers[name][k])

    def stop(self, k: int) -> None:
        self.sync(k)
        self.stopped.add(k)


def _check_copies(models, train_loaders, hyperparameters) -> list[torch.nn.Module]:
    if isinstance(models, torch.nn.Module) or not isinstance(models, Sequence) or not models:
        raise check.ArgumentTypeError("Invalid models: it must be a non-empty list of modules")
    for model in models:
        check.check_instance("models", model, torch.nn.Module, "a list of torch.nn.Module")
    shapes = {_names_and_shapes(m) for m in models}
    if len(shapes) != 1:
        raise ValueError(
            "Invalid models: the copies must have equal parameter and buffer names and shapes"
        )
    if isinstance(train_loaders, str) or not isinstance(train_loaders, Sequence):
        raise check.ArgumentTypeError("Invalid train_loaders: it must be a list, one per copy")
    if len(train_loaders) != len(models):
        raise ValueError(
            f"Invalid train_loaders: {len(train_loaders)} loaders for {len(models)} models"
        )
    for loader in train_loaders:
        _check_loader(loader)
    if hyperparameters is not None:
        if isinstance(hyperparameters, str) or not isinstance(hyperparameters, Sequence):
            raise check.ArgumentTypeError("Invalid hyperparameters: a list of dicts, one per copy")
        if len(hyperparameters) != len(models) or not all(
            isinstance(h, dict) for h in hyperparameters
        ):
            raise ValueError(
                f"Invalid hyperparameters: it must be {len(models)} dicts, one per copy"
            )
    return list(models)


def _names_and_shapes(model) -> tuple:
    tensors = itertools.chain(model.named_parameters(), model.named_buffers())
    return tuple((name, tuple(t.shape)) for name, t in tensors)


def _copies_val_data(val_data, num_copies: int) -> list | None:
    """``val_data`` as one (X, y) per copy: a single pair is shared by all of them."""
    if val_data is None:
        return None
    if isinstance(val_data, tuple | list) and val_data and isinstance(val_data[0], torch.Tensor):
        _check_val_data(val_data)
        return [val_data] * num_copies
    if isinstance(val_data, str) or not isinstance(val_data, Sequence):
        raise check.ArgumentTypeError(
            f"Invalid val_data: it must be a pair (X, y), or one per copy, not "
            f"{type(val_data).__name__}"
        )
    if len(val_data) != num_copies:
        raise ValueError(f"Invalid val_data: {len(val_data)} pairs for {num_copies} copies")
    for pair in val_data:
        _check_val_data(pair)
    return list(val_data)


def _copies_callbacks(callbacks, num_copies: int) -> list[list]:
    """``callbacks`` as one checked list per copy (empty lists without any)."""
    if callbacks is None:
        return [[] for _ in range(num_copies)]
    if isinstance(callbacks, str) or not isinstance(callbacks, Sequence):
        raise check.ArgumentTypeError("Invalid callbacks: a list of lists, one per copy")
    if len(callbacks) != num_copies:
        raise ValueError(f"Invalid callbacks: {len(callbacks)} lists for {num_copies} copies")
    lists = [_check_callbacks(own) for own in callbacks]
    if any(callable(getattr(c, "on_after_backward", None)) for own in lists for c in own):
        raise ValueError(
            "Invalid callbacks: fit_copies computes the copies' gradients together, so it "
            "cannot call on_after_backward"
        )
    return lists


def _copies_scheduler(scheduler, optimizer):
    if scheduler is None:
        return None
    check.check_callable("scheduler", scheduler)
    schedule = scheduler(optimizer)
    if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau | ReduceOnPlateau):
        raise ValueError("Invalid scheduler: fit_copies cannot step a plateau scheduler")
    return schedule


def _call_each(callbacks, method: str, copies, which) -> None:
    """Call ``method`` of each copy's callbacks in ``which``, on its model brought up to date."""
    for k in which:
        if any(callable(getattr(c, method, None)) for c in callbacks[k]):
            copies.sync(k)
            _call_back(callbacks[k], method, copies.models[k])


def _vmapped_loss(model, loss_fn) -> Callable:
    """``losses(weights, buffers, X, y)``: each copy's loss on its own batch ``X[k], y[k]``."""
    template = copy.deepcopy(model).to("meta")  # the architecture, in train mode, no weights

    def one_copy(weights, buffers, X, y):
        return loss_fn(torch.func.functional_call(template, (weights, buffers), (X,)), y)

    return torch.func.vmap(one_copy, randomness="different")


def _copy_batches(train_loaders, epoch):
    """One (X, y) per step: every copy's batch, stacked along a new first axis."""
    first = train_loaders[0]
    shared = isinstance(first, Batches) and all(first.shares_data(b) for b in train_loaders)
    if shared and len(first):  # (an empty data set goes the long way, to its error)
        yield from Batches.side_by_side(train_loaders)  # one indexing per step for all
        return
    passes = [_batches(loader, epoch) for loader in train_loaders]
    for batches in itertools.zip_longest(*passes):
        if any(b is None for b in batches):
            raise ValueError("Invalid train_loaders: the loaders give unequal numbers of batches")
        if len({(tuple(X.shape), tuple(y.shape)) for X, y in batches}) != 1:
            raise ValueError("Invalid train_loaders: the copies' batches differ in shape")
        yield tuple(torch.stack(b) for b in zip(*batches, strict=True))


def _end_epoch(histories, firsts, copies, loss_fn, val_sets, diverge_factor, start) -> None:
    """Record the epoch of every running copy, as :func:`fit` would, and stop diverged ones."""
    for k, first in firsts.items():
        history = histories[k]
        history.train_loss.append(float(np.mean(history.batch_loss[first:])))
        if _diverged(history, diverge_factor):
            history.diverged = True
            copies.stop(k)
        elif val_sets is not None:
            copies.sync(k)
            val_loss, val_accuracy = evaluate(copies.models[k], loss_fn, *val_sets[k])
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
        history.time.append(time.perf_counter() - start)
        if val_sets is not None:
            history.best_epoch = _best_epoch(history.val_loss)


def run_steps(step: Callable, gradient: Callable, start, num_steps: int, **hyper) -> torch.Tensor:
    """Follow an update rule written as a function, and return the whole path.

    Introduced in the chapter *Adaptive methods*.

    The rule has the signature of the functions of :mod:`helpers.optim.functional`,
    ``step(p, g, *state, t, **hyper)``: the point ``p``, its gradient ``g``, then the rule's
    state tensors and, if the rule counts its steps, ``t``. These are read from the signature:
    the parameters after ``p`` and ``g`` that have no default and are not given in ``hyper``.
    Each state tensor starts as zeros shaped like ``p``; ``t`` is the number of the step,
    from 1. Chapters 5 and 6 follow the functions of :mod:`helpers.optim.functional`, and
    their own variants of them, with this runner.

    Parameters
    ----------
    step : callable
        ``step(p, g, *state, t, **hyper)``, for example
        :func:`helpers.optim.functional.adam_step` (state ``m``, ``v``, then ``t``). It
        returns ``p``, or ``(p, *state)``, updated: in place, as the functions of
        :mod:`helpers.optim.functional` do, or as new tensors.
    gradient : callable
        ``gradient(p)`` returns the gradient at ``p``, a tensor of the shape of ``p``. It is
        called once per step, in order, so it may also walk through a list of mini-batches.
    start : array_like
        The starting point.
    num_steps : int
        Number of steps.
    **hyper
        Passed to every step, for example ``lr=0.1``. With the functions of
        :mod:`helpers.optim.functional`, ``lr`` may be a tensor that broadcasts against
        ``start``, one learning rate per row: a whole sweep in one run. A tensor given here is
        the same object at every step: ``v_max=torch.zeros(2, dtype=torch.float64)`` gives
        ``adam_step`` its AMSGrad state.

    Returns
    -------
    torch.Tensor
        Shape ``(num_steps + 1, *start.shape)``, float64: the start, then every step.
    """
    check.check_callable("step", step)
    check.check_callable("gradient", gradient)
    check.check_int("num_steps", num_steps, low=0, high=check.MAX_STEPS)
    p = torch.from_numpy(check.to_array("start", start)).clone()
    slots = _state_slots(step, hyper)
    state = {name: torch.zeros_like(p) for name in slots if name != "t"}
    path = [p.clone()]
    for t in range(1, num_steps + 1):
        g = _gradient_at(gradient, p)
        args = [t if name == "t" else state[name] for name in slots]
        p, state = _step_result(_called("step", step, p, g, *args, **hyper), state)
        path.append(p.clone())  # the step may have updated p in place
    try:
        return torch.stack(path)
    except RuntimeError:
        shapes = sorted({tuple(q.shape) for q in path})
        raise ValueError(
            f"Invalid step: the points changed shape along the path: {shapes}"
        ) from None


def _state_slots(step: Callable, hyper: dict) -> list[str]:
    """The names of the arguments that run_steps gives ``step`` after p and g: state and t."""
    try:
        parameters = list(inspect.signature(step).parameters.values())
    except (TypeError, ValueError):
        raise check.ArgumentTypeError("Invalid step: its signature cannot be read") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [q for q in parameters if q.kind in kinds]
    if len(positional) < 2:
        raise check.ArgumentTypeError(
            "Invalid step: it must take the point p and its gradient g as its first arguments"
        )
    slots = []
    for q in positional[2:]:
        if q.default is not q.empty or q.name in hyper:
            break
        slots.append(q.name)
    return slots


def _called(name: str, function: Callable, *args, **kwargs):
    """``function(*args, **kwargs)``; an error it raises is a ValueError that names ``name``."""
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        raise ValueError(f"Invalid {name}: calling it raised {type(exc).__name__}: {exc}") from exc


def _gradient_at(gradient: Callable, p: torch.Tensor) -> torch.Tensor:
    """``gradient(p)``: a float64 tensor of the shape of ``p`` that is not ``p``'s memory."""
    g = _called("gradient", gradient, p)
    if not isinstance(g, torch.Tensor):
        raise check.ArgumentTypeError(
            f"Invalid gradient: it must return a tensor, not {type(g).__name__}"
        )
    if g.shape != p.shape:
        raise ValueError(
            f"Invalid gradient: it must return a tensor of the shape of p, {tuple(p.shape)}, "
            f"not {tuple(g.shape)}"
        )
    if g.untyped_storage().data_ptr() == p.untyped_storage().data_ptr():
        g = g.clone()  # as `lambda p: p` returns p itself, which the step changes
    return g.to(p.dtype)


def _step_result(out, state: dict) -> tuple[torch.Tensor, dict]:
    """The next point and state from what a step returned: ``p`` or ``(p, *state)``."""
    if isinstance(out, torch.Tensor):
        return out, state
    if (
        isinstance(out, tuple)
        and len(out) == 1 + len(state)
        and all(isinstance(x, torch.Tensor) for x in out)
    ):
        return out[0], dict(zip(state, out[1:], strict=True))
    expected = ", ".join(["p", *state])
    raise check.ArgumentTypeError(
        f"Invalid step: it must return p or ({expected}), not {check.short_repr(out)}"
    )


def _follow(objective, x, opt, num_steps, grad_tol, diverge_at) -> Trajectory:
    def loss_and_gradient():  # the closure of optimizers that evaluate again (SAM)
        opt.zero_grad()
        loss = objective(x)
        loss.backward()
        return loss

    points, losses = [], []
    diverged = converged = False
    for step in range(num_steps + 1):
        opt.zero_grad()
        loss = objective(x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("Invalid objective: it must return one value per point")
        points.append(x.detach().numpy().copy())
        losses.append(loss.item())
        if _blew_up(loss.item(), x, diverge_at):
            diverged = True
            break
        loss.backward()
        if grad_tol is not None and x.grad.norm().item() < grad_tol:
            converged = True
            break
        if step < num_steps:
            _step(opt, loss_and_gradient)
    return Trajectory(np.array(points), np.array(losses), diverged, converged)


def _blew_up(loss: float, x: torch.Tensor, limit: float) -> bool:
    return not math.isfinite(loss) or abs(loss) > limit or x.detach().abs().max().item() > limit


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch unless stated.

    Introduced in the chapter *Batch, stochastic and mini-batch gradient descent*.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss over each epoch's mini-batches.
    val_loss : list of float
        Loss on the validation data after each epoch (empty without validation data).
    val_accuracy : list of float
        Accuracy on the validation data after each epoch (empty without validation data).
    lr : list of float
        Learning rate of the first parameter group during each epoch.
    time : list of float
        Wall-clock seconds since the start of training, at the end of each epoch.
    batch_loss : list of float
        The loss of every mini-batch, one entry per update.
    diverged : bool
        True when training stopped because the loss blew up (see :func:`fit`).
    stopped_epoch : int or None
        The epoch after which early stopping ended training (1-based), if it did.
    best_epoch : int or None
        The epoch with the lowest validation loss (1-based), when validation data was given.
    restored_epoch : int or None
        The epoch (1-based) whose weights the model holds when :func:`fit` returns, when
        early stopping restored them (``restore_best=True``); None otherwise. It can differ
        from ``best_epoch`` when ``min_delta > 0``: an improvement smaller than ``min_delta``
        does not count as a new best.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    diverged: bool = False
    stopped_epoch: int | None = None
    best_epoch: int | None = None
    restored_epoch: int | None = None


class EarlyStopping:
    """Stop training when the validation loss has not improved for ``patience`` epochs.

    Introduced in the chapter *Regularization*.

    An epoch counts as an improvement when its loss is below the best so far by more
    than ``min_delta``. With ``restore_best=True`` the model gets back the weights it had
    at its best epoch when training stops.

    Parameters
    ----------
    patience : int
        Epochs without improvement to wait before stopping (at least 1).
    min_delta : float
        Smallest decrease of the loss that counts as an improvement (non-negative).
    restore_best : bool
        Whether to load the best weights back into the model on stopping.

    Notes
    -----
    :func:`fit` calls :meth:`reset` before training, so one instance can be reused for
    several runs, and it restores the best weights whenever training ends: when patience
    runs out, when the epochs run out, and when the loss diverges.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, restore_best: bool = True):
        check.check_int("patience", patience, low=1)
        check.check_real("min_delta", min_delta, 0.0)
        check.check_bool("restore_best", restore_best)
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best = restore_best
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far, ready for a new training run."""
        self.best_loss = math.inf
        self.best_epoch = None
        self.best_state = None
        self.epochs_without_improvement = 0
        self.epoch = 0

    def step(self, val_loss: float, model: torch.nn.Module | None = None) -> bool:
        """Record one epoch's validation loss; return True when training should stop.

        Parameters
        ----------
        val_loss : float
            This epoch's validation loss.
        model : torch.nn.Module, optional
            The model, whose weights are saved at each new best (needed to restore them).

        Returns
        -------
        bool
            Whether patience has run out.
        """
        val_loss = check.to_real("val_loss", val_loss, allow_nan=True)
        if model is not None:
            check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module")
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.best_epoch = self.epoch
            self.epochs_without_improvement = 0
            if model is not None:
                self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience

    def restore(self, model: torch.nn.Module) -> int | None:
        """Load the best weights seen into ``model`` (if ``restore_best`` and any were saved).

        Returns
        -------
        int or None
            The epoch whose weights were loaded, or None if nothing was loaded.
        """
        check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module")
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
            return self.best_epoch
        return None


def evaluate(
    model: torch.nn.Module, loss_fn: Callable, X: torch.Tensor, y: torch.Tensor
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(X, y)`` without tracking gradients.

    Introduced in the chapter *Batch, stochastic and mini-batch gradient descent*.

    Accuracy is computed for classification, when ``y`` holds integer (or bool) labels:
    the predicted class is the argmax of the model's logits, or, for a binary model that
    returns one logit per example (shape ``(n,)`` or ``(n, 1)``), whether that logit is
    positive. It is NaN for regression (``y`` of floating dtype) and for empty data.
    The model's train/eval mode is restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
    loss_fn : callable
        ``loss_fn(model(X), y)`` returns a scalar tensor.
    X, y : torch.Tensor
        Inputs and targets with the same first dimension.

    Returns
    -------
    loss, accuracy : float
    """
    _check_model_and_loss(model, loss_fn)
    check.check_examples(X, y)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(X)
            loss = _scalar_loss(loss_fn(output, y))
            accuracy = _accuracy(output, y)
    finally:
        model.train(was_training)
    return loss, accuracy


def _check_model_and_loss(model, loss_fn) -> None:
    check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module")
    check.check_callable("loss_fn", loss_fn)


def _scalar_loss(loss) -> float:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError(
            f"Invalid loss_fn: it must return a scalar tensor, got {type(loss).__name__}"
            + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
        )
    return loss.item()


def _is_label_dtype(dtype: torch.dtype) -> bool:
    return not (dtype.is_floating_point or dtype.is_complex)


def _accuracy(output: torch.Tensor, y: torch.Tensor) -> float:
    if not _is_label_dtype(y.dtype) or len(y) == 0 or not isinstance(output, torch.Tensor):
        return math.nan
    if output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1):
        predicted = (output.reshape(-1) > 0).long()
    elif output.ndim == 2:
        predicted = output.argmax(dim=1)
    else:
        return math.nan
    if predicted.shape != y.reshape(-1).shape:
        return math.nan
    return (predicted == y.reshape(-1).long()).float().mean().item()


def fit(
    model: torch.nn.Module,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    num_epochs: int,
    *,
    val_data: tuple[torch.Tensor, torch.Tensor] | None = None,
    scheduler=None,
    early_stopping: EarlyStopping | None = None,
    diverge_factor: float = 1e3,
    progress: bool = False,
    callbacks: Iterable = (),
) -> History:
    """Train ``model`` with ``optimizer`` for ``num_epochs`` and record a :class:`History`.

    Introduced in the chapter *Batch, stochastic and mini-batch gradient descent*.

    Parameters
    ----------
    model : torch.nn.Module
    loss_fn : callable
        ``loss_fn(model(X), y)`` returns a scalar tensor.
    optimizer : torch.optim.Optimizer
        One with ``train()`` and ``eval()`` methods (Schedule-Free AdamW) is put in train mode
        for each epoch's updates and in eval mode for its evaluation and at the end (also
        after an exception), so the model ends at its average x.
        One whose attribute ``requires_closure`` is true (:class:`helpers.optim.SAM`) is
        stepped as ``optimizer.step(closure)``, with a closure that zeroes the gradients and
        evaluates the same mini-batch again; the recorded loss is the first evaluation's, and
        ``on_after_backward`` sees the first gradient only (clipping there does not clip the
        gradient that SAM's base optimizer steps with).
    train_loader : iterable of (X, y)
        Mini-batches; a ``torch.utils.data.DataLoader`` or a list of one full batch.
    num_epochs : int
        1 to ``10**6``.
    val_data : (X, y), optional
        Validation data, evaluated after every epoch.
    scheduler : optional
        A learning-rate scheduler stepped once per epoch (``ReduceLROnPlateau`` and
        :class:`helpers.schedules.ReduceOnPlateau` receive the validation loss, or the
        training loss without validation; the rate the latter returns is put in every
        param group).
    early_stopping : EarlyStopping, optional
        Needs ``val_data``. It is reset before the first epoch; when training ends (patience
        run out, last epoch, or divergence) it restores the best weights if its
        ``restore_best`` is set, and ``History.restored_epoch`` says which epoch they are from.
    diverge_factor : float
        Training stops, marked ``diverged``, after an epoch whose mean training loss is NaN,
        infinite, or above :func:`divergence_threshold` of the very first mini-batch's loss
        (``diverge_factor`` times it, for a positive loss).
    progress : bool
        Print one line per epoch.
    callbacks : iterable, optional
        Objects such as :class:`TrainingDiagnostics` with any of the methods
        ``on_train_begin(model)``, ``on_after_backward(model)`` (between ``backward`` and
        ``optimizer.step()``: clip the gradients there), ``on_step_end(model)`` and
        ``on_train_end(model)``; each is called at that point, in the order given.

    Returns
    -------
    History
        ``best_epoch`` is None when every validation loss is NaN.

    Raises
    ------
    ValueError, TypeError
        For a bad argument, a loader that yields no batches (an empty data set, or a
        single-use iterator in its second epoch) or a loss that is not a scalar. Any
        exception (``KeyboardInterrupt`` too) leaves the History so far on ``exc.history``
        and the model's train/eval mode as it was; with ``early_stopping`` the best weights
        are restored as after a finished run.
    """
    run = {
        "model": model,
        "loss_fn": loss_fn,
        "optimizer": optimizer,
        "train_loader": train_loader,
        "num_epochs": num_epochs,
        "val_data": val_data,
        "scheduler": scheduler,
        "early_stopping": early_stopping,
        "diverge_factor": diverge_factor,
    }
    _check_fit_arguments(**run)
    check.check_bool("progress", progress)
    run["callbacks"] = _check_callbacks(callbacks)
    history = History()
    if early_stopping is not None:
        early_stopping.reset()
    was_training = model.training
    try:
        with torch.enable_grad():
            _train(history, progress, **run)
    except BaseException as exc:
        model.train(was_training)
        _set_mode(optimizer, "eval")  # Schedule-Free: the weights at x, as after a full run
        _attach(exc, "history", history, "the History of the epochs so far")
        raise
    finally:
        if early_stopping is not None:
            history.restored_epoch = early_stopping.restore(model)
        history.best_epoch = _best_epoch(history.val_loss)
        _call_back(run["callbacks"], "on_train_end", model)
    return history


def _check_fit_arguments(
    *, model, loss_fn, optimizer, train_loader, num_epochs, val_data, scheduler, **run
) -> None:
    early_stopping, diverge_factor = run["early_stopping"], run["diverge_factor"]
    _check_model_and_loss(model, loss_fn)
    check.check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    _check_loader(train_loader)
    check.check_int("num_epochs", num_epochs, low=1, high=check.MAX_STEPS)
    check.check_real("diverge_factor", diverge_factor, 1.0, low_open=True)
    _check_val_data(val_data)
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise check.ArgumentTypeError(
            f"Invalid scheduler: it must have a step() method, not {type(scheduler).__name__}"
        )
    if early_stopping is not None:
        check.check_instance("early_stopping", early_stopping, EarlyStopping, "an EarlyStopping")
        if val_data is None:
            raise ValueError("early_stopping needs val_data to watch")


def _check_val_data(val_data) -> None:
    if val_data is None:
        return
    if not isinstance(val_data, tuple | list) or len(val_data) != 2:
        raise check.ArgumentTypeError(
            f"Invalid val_data: it must be a pair (X, y) of tensors, not {type(val_data).__name__}"
        )
    check.check_examples(*val_data, x_name="val_data[0]", y_name="val_data[1]")


def _check_loader(train_loader) -> None:
    if isinstance(train_loader, str | bytes | torch.Tensor) or not isinstance(
        train_loader, Iterable
    ):
        raise check.ArgumentTypeError(
            f"Invalid train_loader: it must be an iterable of (X, y) mini-batches, such as a "
            f"DataLoader or a list, not {type(train_loader).__name__}"
        )


def _batches(train_loader, epoch: int):
    """The (X, y) mini-batches of one pass over ``train_loader``; an error if there are none."""
    count = 0
    for batch in train_loader:
        if not isinstance(batch, tuple | list) or len(batch) != 2:
            raise ValueError(
                f"Invalid train_loader: it must yield (X, y) pairs, but it gave "
                f"{type(batch).__name__}"
                + (f" of length {len(batch)}" if isinstance(batch, tuple | list) else "")
            )
        count += 1
        yield batch
    if count == 0:
        raise ValueError(
            "Invalid train_loader: it yielded no mini-batches"
            + (
                f" in pass {epoch}: a single-use iterator is exhausted after one pass; pass "
                "a list or a DataLoader, which can be iterated again"
                if epoch > 1
                else " (is its data set empty?)"
            )
        )


def _train_step(model, loss_fn, optimizer, X, y, callbacks=()) -> float:
    def loss_and_gradient():  # the closure of optimizers that evaluate the batch again
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        _scalar_loss(loss)
        loss.backward()
        return loss

    loss = loss_and_gradient()
    _call_back(callbacks, "on_after_backward", model)
    _step(optimizer, loss_and_gradient)
    _call_back(callbacks, "on_step_end", model)
    return loss.item()


def _step(optimizer, closure: Callable) -> None:
    """``optimizer.step(closure)`` if the optimizer's ``requires_closure`` is true (SAM),
    else ``optimizer.step()``."""
    if getattr(optimizer, "requires_closure", False):
        optimizer.step(closure)
    else:
        optimizer.step()


def _train(history: History, progress: bool, *, model, loss_fn, optimizer, **run) -> None:
    """The epochs of :func:`fit`, recorded in ``history`` as they happen."""
    train_loader, num_epochs, val_data = run["train_loader"], run["num_epochs"], run["val_data"]
    scheduler, early_stopping = run["scheduler"], run["early_stopping"]
    diverge_factor, callbacks = run["diverge_factor"], run["callbacks"]
    start = time.perf_counter()
    model.train()
    _call_back(callbacks, "on_train_begin", model)
    for epoch in range(1, num_epochs + 1):
        history.lr.append(optimizer.param_groups[0]["lr"])
        first = len(history.batch_loss)
        _set_mode(optimizer, "train")
        for X, y in _batches(train_loader, epoch):
            history.batch_loss.append(_train_step(model, loss_fn, optimizer, X, y, callbacks))
        _set_mode(optimizer, "eval")  # Schedule-Free: evaluated, stopped and returned at x
        history.train_loss.append(float(np.mean(history.batch_loss[first:])))
        if _diverged(history, diverge_factor):
            history.diverged = True
            history.time.append(time.perf_counter() - start)
            break
        if val_data is not None:
            val_loss, val_accuracy = evaluate(model, loss_fn, *val_data)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
        history.time.append(time.perf_counter() - start)
        if progress:
            print(_progress_line(history, epoch, num_epochs))
        if scheduler is not None:
            _step_scheduler(scheduler, optimizer, history)
        if early_stopping is not None and early_stopping.step(history.val_loss[-1], model):
            history.stopped_epoch = epoch
            break


def _best_epoch(val_loss: list[float]) -> int | None:
    """1-based epoch of the lowest validation loss; None without one (empty, or all NaN)."""
    finite = [v for v in val_loss if not math.isnan(v)]
    if not finite:
        return None
    return int(np.nanargmin(val_loss)) + 1


def _attach(exc: BaseException, name: str, value, what: str) -> None:
    """Attach ``value`` to ``exc`` as ``exc.<name>`` (and say so in a note)."""
    try:
        setattr(exc, name, value)
        exc.add_note(f"(helpers.training: {what} is attached as `exc.{name}`.)")
    except Exception:  # an exception type that takes no attributes: nothing to attach to
        pass


def divergence_threshold(first: float, factor: float) -> float:
    """The loss above which a run counts as diverged, given its first (or best) loss.

    Introduced in the chapter *Batch, stochastic and mini-batch gradient descent*.

    Parameters
    ----------
    first : float
        The reference loss: the first mini-batch's in :func:`fit`, the best smoothed loss
        in :func:`lr_find`.
    factor : float
        How many times the reference (its size, for a loss <= 0) the loss may grow, > 1.

    Returns
    -------
    float
        ``factor * first`` for a positive ``first``; ``first + (factor - 1) * |first|`` for a
        negative one; ``factor - 1`` for ``first == 0`` (no scale: 1 is used).
    """
    first = check.to_real("first", first, allow_nan=True)
    factor = check.to_real("factor", factor, 1.0, low_open=True)
    if first > 0:
        return factor * first
    scale = abs(first) if first != 0 else 1.0
    return first + (factor - 1) * scale


def _diverged(history: History, factor: float) -> bool:
    loss = history.train_loss[-1]
    return not math.isfinite(loss) or loss > divergence_threshold(history.batch_loss[0], factor)


def _step_scheduler(scheduler, optimizer, history: History) -> None:
    metric = history.val_loss[-1] if history.val_loss else history.train_loss[-1]
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(metric)
    elif isinstance(scheduler, ReduceOnPlateau):
        lr = scheduler.step(metric)
        for group in optimizer.param_groups:
            group["lr"] = lr
    else:
        scheduler.step()


def _progress_line(history: History, epoch: int, num_epochs: int) -> str:
    line = f"epoch {epoch:>3}/{num_epochs}  train loss {history.train_loss[-1]:.4f}"
    if history.val_loss:
        line += f"  val loss {history.val_loss[-1]:.4f}"
        if not math.isnan(history.val_accuracy[-1]):
            line += f"  val acc {history.val_accuracy[-1]:.3f}"
    return line


@dataclass
class LRFinderResult:
    """The outcome of :func:`lr_find`.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    Attributes
    ----------
    lrs : numpy.ndarray
        The learning rate used at each step of the sweep.
    losses : numpy.ndarray
        The raw mini-batch loss at each step.
    smoothed : numpy.ndarray
        The bias-corrected exponential moving average of ``losses``.
    suggestion : float
        The learning rate where the smoothed loss falls fastest (steepest negative slope
        against log lr), a robust default pick.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float


def lr_find(
    model: torch.nn.Module,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    *,
    start_lr: float = 1e-6,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.9,
    stop_factor: float = 4.0,
) -> LRFinderResult:
    """The learning-rate range test: grow the lr exponentially and watch the loss.

    Introduced in the chapter *Learning-rate schedules and the LR finder*.

    At step ``i`` the learning rate is ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``.
    The sweep stops early once the smoothed loss exceeds ``stop_factor`` times its best
    value. The model's weights and the optimizer's state are restored afterwards, so the
    same model can then be trained with the chosen learning rate.

    Parameters
    ----------
    model, loss_fn, optimizer, train_loader
        As for :func:`fit`; the loader is cycled if it has fewer than ``num_steps`` batches.
    start_lr, end_lr : float
        The range to sweep, ``0 < start_lr < end_lr``.
    num_steps : int
        Number of mini-batch updates in the sweep, 2 to ``10**6``.
    smoothing : float
        Weight ``beta`` of the exponential moving average, in ``[0, 1)``.
    stop_factor : float
        Divergence threshold relative to the best smoothed loss (> 1).

    Returns
    -------
    LRFinderResult
        ``suggestion`` is NaN when no loss of the sweep was finite.

    Raises
    ------
    ValueError, TypeError
        For a bad argument, or a loader that yields no batches (an empty data set, or a
        single-use iterator that runs out before ``num_steps``). On any exception
        (``KeyboardInterrupt`` too) the weights, the optimizer (learning rates included) and
        the train/eval mode are restored, and the sweep so far is on ``exc.result``.
    """
    _check_model_and_loss(model, loss_fn)
    check.check_instance("optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    _check_loader(train_loader)
    check.check_real("start_lr", start_lr, 0.0, low_open=True)
    check.check_real("end_lr", end_lr, 0.0, low_open=True)
    if not start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    check.check_int("num_steps", num_steps, low=2, high=check.MAX_STEPS)
    check.check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    check.check_real("stop_factor", stop_factor, 1.0, low_open=True)
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    schedule = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    lrs, losses, smoothed = [], [], []
    try:
        with torch.enable_grad():
            sweep = (schedule, smoothing, stop_factor)
            _sweep(model, loss_fn, optimizer, train_loader, sweep, (lrs, losses, smoothed))
    except BaseException as exc:
        _attach(exc, "result", _finder_result(lrs, losses, smoothed), "the sweep so far")
        raise
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        model.train(was_training)
    return _finder_result(lrs, losses, smoothed)


def _finder_result(lrs, losses, smoothed) -> LRFinderResult:
    lrs, smoothed_arr = np.array(lrs, dtype=float), np.array(smoothed, dtype=float)
    return LRFinderResult(
        lrs, np.array(losses, dtype=float), smoothed_arr, _steepest_lr(lrs, smoothed_arr)
    )


def _sweep(model, loss_fn, optimizer, train_loader, sweep, out) -> None:
    """The steps of :func:`lr_find`, appended to the lists ``out = (lrs, losses, smoothed)``."""
    (schedule, smoothing, stop_factor), (lrs, losses, smoothed) = sweep, out
    average, best = 0.0, math.inf
    batches = _cycle(train_loader)
    for i, lr in enumerate(schedule):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        X, y = next(batches)
        value = _train_step(model, loss_fn, optimizer, X, y)
        average = smoothing * average + (1 - smoothing) * value
        debiased = average / (1 - smoothing ** (i + 1))
        lrs.append(float(lr))
        losses.append(value)
        smoothed.append(debiased)
        best = min(best, debiased)
        if not math.isfinite(debiased) or debiased > divergence_threshold(best, stop_factor):
            break


def _steepest_lr(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    finite = np.isfinite(smoothed)
    lrs, smoothed = lrs[finite], smoothed[finite]
    if len(lrs) == 0:
        return math.nan  # no finite loss at all: nothing to suggest
    if len(lrs) < 3:
        return float(lrs[0])
    best = int(np.argmin(smoothed))
    if best < 2:
        return float(lrs[best])
    slopes = np.gradient(smoothed[: best + 1], np.log10(lrs[: best + 1]))
    return float(lrs[int(np.argmin(slopes))])


def _cycle(loader: Iterable):
    """Batches of ``loader``, starting over at its end (an error if a pass yields none)."""
    for epoch in itertools.count(1):
        yield from _batches(loader, epoch)


# ---------------------------------------------------------------------------------------------
# Gradient clipping (the chapter *Gradient clipping*) and diagnostics (*Stable training*).
# ---------------------------------------------------------------------------------------------


def _parameters_list(parameters) -> list[torch.Tensor]:
    """``parameters`` (a tensor, or an iterable of tensors) as a list; an error otherwise."""
    if isinstance(parameters, torch.Tensor):
        return [parameters]
    if isinstance(parameters, str | bytes) or not isinstance(parameters, Iterable):
        raise check.ArgumentTypeError(
            f"Invalid parameters: it must be a tensor or an iterable of tensors, such as "
            f"model.parameters(), not {type(parameters).__name__}"
        )
    parameters = list(parameters)
    for p in parameters:
        check.check_instance("parameters", p, torch.Tensor, "an iterable of tensors")
    return parameters


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    """Rescale the gradients so that their total norm is at most `max_norm`, from scratch.

    The gradients of all `parameters` are seen as one long vector ``g``. If its norm
    ``||g||`` exceeds `max_norm`, every gradient is multiplied by
    ``max_norm / (||g|| + 1e-6)``; the direction of ``g`` is kept. Equal to
    ``torch.nn.utils.clip_grad_norm_`` (``tests/unit/test_stable_training.py``), which is
    what a training loop should call. Introduced in the chapter *Gradient clipping*.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        The parameters whose ``.grad`` is clipped in place (those without one are skipped).
    max_norm : float
        The largest total norm allowed, >= 0.
    norm_type : float, default 2.0
        The p of the p-norm, > 0, or ``math.inf`` for the largest absolute entry.

    Returns
    -------
    torch.Tensor
        The total norm of the gradients *before* clipping (a 0-d tensor).
    """
    parameters = _parameters_list(parameters)
    max_norm = check.to_real("max_norm", max_norm, 0.0)
    norm_type = check.to_real("norm_type", norm_type, 0.0, low_open=True)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    total_norm = torch.linalg.vector_norm(norms, norm_type)  # the norm of the long vector g
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)  # min(max_norm / ||g||, 1)
    for g in grads:
        g.mul_(scale)  # g <- g * min(max_norm / ||g||, 1)
    return total_norm


def clip_grad_value(parameters, clip_value: float) -> None:
    """Clamp every entry of every gradient to ``[-clip_value, clip_value]``, from scratch.

    Unlike :func:`clip_grad_norm` this changes the direction of the gradient: entries beyond
    the threshold are cut, the others kept. Equal to ``torch.nn.utils.clip_grad_value_``
    (``tests/unit/test_stable_training.py``). Introduced in the chapter *Gradient clipping*.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        The parameters whose ``.grad`` is clipped in place (those without one are skipped).
    clip_value : float
        The largest absolute value allowed for a gradient entry, >= 0.
    """
    parameters = _parameters_list(parameters)
    clip_value = check.to_real("clip_value", clip_value, 0.0)
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)  # g_i <- max(-c, min(g_i, c))


_CALLBACK_METHODS = ("on_train_begin", "on_after_backward", "on_step_end", "on_train_end")


def _check_callbacks(callbacks) -> list:
    if isinstance(callbacks, str | bytes) or not isinstance(callbacks, Iterable):
        raise check.ArgumentTypeError(
            f"Invalid callbacks: it must be a list of callback objects, not "
            f"{type(callbacks).__name__}"
        )
    callbacks = list(callbacks)
    for callback in callbacks:
        if not any(callable(getattr(callback, m, None)) for m in _CALLBACK_METHODS):
            raise check.ArgumentTypeError(
                f"Invalid callbacks: {check.short_repr(callback, 40)} has none of the methods "
                f"{', '.join(_CALLBACK_METHODS)}"
            )
    return callbacks


def _call_back(callbacks, method: str, model) -> None:
    for callback in callbacks:
        function = getattr(callback, method, None)
        if callable(function):
            function(model)


class TrainingDiagnostics:
    """Watch a training run step by step: gradient norms, update sizes, dead ReLUs.

    Pass it to :func:`fit` (``callbacks=[diagnostics]``), or call its four methods from
    your own loop: :meth:`on_train_begin` before training, :meth:`on_after_backward`
    between ``loss.backward()`` and ``optimizer.step()``, :meth:`on_step_end` after
    ``optimizer.step()``, :meth:`on_train_end` at the end. After each step it has recorded,
    for every weight matrix (every parameter with two or more dimensions, by its name in
    ``model.named_parameters()``):

    - ``grad_norm[name]``: the norm of its gradient, ``||g||``;
    - ``update_ratio[name]``: the size of the step relative to the weights,
      ``||w_new - w_old|| / ||w_old||`` (a common rule of thumb asks for about 1e-3);

    and for every ``torch.nn.ReLU`` module of the model (by its name in
    ``model.named_modules()``):

    - ``dead_fraction[name]``: the fraction of its units that output 0 for *every* example
      of the step's mini-batch.

    Introduced in the chapter *Stable training*.

    Attributes
    ----------
    grad_norm : dict of str to list of float
        By weight name: the norm of its gradient at each step.
    update_ratio : dict of str to list of float
        By weight name: the size of its step relative to its size, at each step.
    dead_fraction : dict of str to list of float
        By ReLU module name: the fraction of its units that are dead, at each step.
    """

    def __init__(self) -> None:
        self.grad_norm: dict[str, list[float]] = {}
        self.update_ratio: dict[str, list[float]] = {}
        self.dead_fraction: dict[str, list[float]] = {}
        self._hooks: list = []
        self._before: dict[str, torch.Tensor] = {}
        self._dead_now: dict[str, float] = {}

    @staticmethod
    def _weights(model) -> list[tuple[str, torch.Tensor]]:
        return [(n, p) for n, p in model.named_parameters() if p.ndim >= 2]

    def on_train_begin(self, model: torch.nn.Module) -> None:
        """Start watching ``model``: one forward hook on each of its ReLU modules."""
        check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module")
        self.on_train_end(model)  # a second run: no hooks twice
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.ReLU):
                self.dead_fraction.setdefault(name, [])
                self._hooks.append(module.register_forward_hook(self._relu_hook(name)))
        for name, _ in self._weights(model):
            self.grad_norm.setdefault(name, [])
            self.update_ratio.setdefault(name, [])

    def _relu_hook(self, name: str):
        def hook(module, inputs, output):
            if module.training and torch.is_grad_enabled():  # training steps only
                active = (output.detach() > 0).reshape(-1, output.shape[-1]).any(dim=0)
                self._dead_now[name] = 1.0 - active.float().mean().item()

        return hook

    def on_after_backward(self, model: torch.nn.Module) -> None:
        """Record the gradient norms and keep the weights before the step."""
        check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module")
        for name, p in self._weights(model):
            if p.grad is not None:
                self.grad_norm.setdefault(name, []).append(torch.linalg.vector_norm(p.grad).item())
            self._before[name] = p.detach().clone()

    def on_step_end(self, model: torch.nn.Module) -> None:
        """Record the update-to-weight ratios and the dead ReLUs of the step just taken."""
        check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module")
        for name, p in self._weights(model):
            before = self._before.pop(name, None)
            if before is not None:
                step = torch.linalg.vector_norm(p.detach() - before)
                ratio = (step / torch.linalg.vector_norm(before)).item()
                self.update_ratio.setdefault(name, []).append(ratio)
        for name, fraction in self._dead_now.items():
            self.dead_fraction[name].append(fraction)
        self._dead_now = {}

    def on_train_end(self, model: torch.nn.Module | None = None) -> None:
        """Stop watching: remove the hooks."""
        if model is not None:
            check.check_instance("model", model, torch.nn.Module, "a torch.nn.Module or None")
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
