"""Running optimizers: on test functions, and on models with data.

- :func:`run_optimizer` follows an optimizer across a test function and records its path.
- :func:`fit` trains a model for some epochs and records a :class:`History`.
- :class:`EarlyStopping` stops :func:`fit` when the validation loss stops improving.
- :func:`lr_find` runs the learning-rate range test (the "LR finder").

A run whose loss becomes infinite or NaN, or whose parameters leave a huge ball, is
stopped and reported as *diverged* instead of filling plots with NaNs.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers.objectives import Objective

__all__ = [
    "EarlyStopping",
    "History",
    "LRFinderResult",
    "Trajectory",
    "evaluate",
    "fit",
    "lr_find",
    "run_optimizer",
]


@dataclass
class Trajectory:
    """The path of an optimizer on a test function.

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

    Parameters
    ----------
    objective : Objective
        The function to minimise.
    start : sequence of float
        The starting point, ``objective.dim`` coordinates.
    optimizer : callable
        An optimizer class such as ``torch.optim.SGD`` or ``helpers.optim.Adam``, or any
        callable ``optimizer(params, **optimizer_kwargs)`` returning an optimizer.
    num_steps : int
        Maximum number of steps.
    grad_tol : float, optional
        Stop early, marked ``converged``, once the gradient norm is below this value.
    diverge_at : float
        Stop, marked ``diverged``, once the loss or a coordinate exceeds this in size
        or becomes NaN.
    **optimizer_kwargs
        Passed to ``optimizer``, for example ``lr=0.1, momentum=0.9``.

    Returns
    -------
    Trajectory
    """
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0, got {num_steps}")
    x = torch.tensor([float(c) for c in start], dtype=torch.float64, requires_grad=True)
    if x.shape != (objective.dim,):
        raise ValueError(f"start must have {objective.dim} coordinate(s), got {x.numel()}")
    opt = optimizer([x], **optimizer_kwargs)

    points, losses = [], []
    diverged = converged = False
    for step in range(num_steps + 1):
        opt.zero_grad()
        loss = objective(x)
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
            opt.step()
    return Trajectory(np.array(points), np.array(losses), diverged, converged)


def _blew_up(loss: float, x: torch.Tensor, limit: float) -> bool:
    return not math.isfinite(loss) or abs(loss) > limit or x.detach().abs().max().item() > limit


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch unless stated.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss over each epoch's mini-batches.
    val_loss, val_accuracy : list of float
        Loss and accuracy on the validation data after each epoch (empty without it).
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
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
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
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
            return self.best_epoch
        return None


def evaluate(
    model: torch.nn.Module, loss_fn: Callable, X: torch.Tensor, y: torch.Tensor
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(X, y)`` without tracking gradients.

    Accuracy is computed for classification (``y`` of integer dtype, model returning
    logits); it is NaN for regression.

    Returns
    -------
    loss, accuracy : float
    """
    model.eval()
    with torch.no_grad():
        output = model(X)
        loss = loss_fn(output, y).item()
        if y.dtype in (torch.int64, torch.int32):
            accuracy = (output.argmax(dim=1) == y).float().mean().item()
        else:
            accuracy = math.nan
    model.train()
    return loss, accuracy


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
) -> History:
    """Train ``model`` with ``optimizer`` for ``num_epochs`` and record a :class:`History`.

    Parameters
    ----------
    model : torch.nn.Module
    loss_fn : callable
        ``loss_fn(model(X), y)`` returns a scalar tensor.
    optimizer : torch.optim.Optimizer
    train_loader : iterable of (X, y)
        Mini-batches; a ``torch.utils.data.DataLoader`` or a list of one full batch.
    num_epochs : int
    val_data : (X, y), optional
        Validation data, evaluated after every epoch.
    scheduler : optional
        A learning-rate scheduler stepped once per epoch (``ReduceLROnPlateau``-style
        schedulers receive the validation loss, or the training loss without validation).
    early_stopping : EarlyStopping, optional
        Needs ``val_data``. It is reset before the first epoch; when training ends (patience
        run out, last epoch, or divergence) it restores the best weights if its
        ``restore_best`` is set, and ``History.restored_epoch`` says which epoch they are from.
    diverge_factor : float
        Training stops, marked ``diverged``, after an epoch whose mean training loss is NaN,
        infinite, or more than ``diverge_factor`` times the loss of the very first mini-batch.
    progress : bool
        Print one line per epoch.

    Returns
    -------
    History
    """
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be >= 1, got {num_epochs}")
    if not diverge_factor > 1:
        raise ValueError(f"diverge_factor must be > 1, got {diverge_factor}")
    if early_stopping is not None and val_data is None:
        raise ValueError("early_stopping needs val_data to watch")
    history = History()
    if early_stopping is not None:
        early_stopping.reset()
    start = time.perf_counter()
    model.train()
    for epoch in range(1, num_epochs + 1):
        history.lr.append(optimizer.param_groups[0]["lr"])
        epoch_losses = []
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            epoch_losses.append(loss.item())
        history.batch_loss.extend(epoch_losses)
        history.train_loss.append(float(np.mean(epoch_losses)))
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
            _step_scheduler(scheduler, history)
        if early_stopping is not None and early_stopping.step(history.val_loss[-1], model):
            history.stopped_epoch = epoch
            break
    if early_stopping is not None:
        history.restored_epoch = early_stopping.restore(model)
    if history.val_loss:
        history.best_epoch = int(np.nanargmin(history.val_loss)) + 1
    return history


def _diverged(history: History, factor: float) -> bool:
    loss = history.train_loss[-1]
    return not math.isfinite(loss) or loss > factor * history.batch_loss[0]


def _step_scheduler(scheduler, history: History) -> None:
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(history.val_loss[-1] if history.val_loss else history.train_loss[-1])
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
        Number of mini-batch updates in the sweep (at least 2).
    smoothing : float
        Weight ``beta`` of the exponential moving average, in ``[0, 1)``.
    stop_factor : float
        Divergence threshold relative to the best smoothed loss (> 1).

    Returns
    -------
    LRFinderResult
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if num_steps < 2:
        raise ValueError(f"num_steps must be >= 2, got {num_steps}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    if not stop_factor > 1:
        raise ValueError(f"stop_factor must be > 1, got {stop_factor}")
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    schedule = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))

    lrs, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    batches = _cycle(train_loader)
    for i, lr in enumerate(schedule):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        X, y = next(batches)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        value = loss.item()
        average = smoothing * average + (1 - smoothing) * value
        debiased = average / (1 - smoothing ** (i + 1))
        lrs.append(float(lr))
        losses.append(value)
        smoothed.append(debiased)
        best = min(best, debiased)
        if not math.isfinite(debiased) or debiased > stop_factor * best:
            break

    model.load_state_dict(saved_model)
    optimizer.load_state_dict(saved_optimizer)
    lrs, smoothed_arr = np.array(lrs), np.array(smoothed)
    return LRFinderResult(lrs, np.array(losses), smoothed_arr, _steepest_lr(lrs, smoothed_arr))


def _steepest_lr(lrs: np.ndarray, smoothed: np.ndarray) -> float:
    finite = np.isfinite(smoothed)
    lrs, smoothed = lrs[finite], smoothed[finite]
    if len(lrs) < 3:
        return float(lrs[0])
    best = int(np.argmin(smoothed))
    if best < 2:
        return float(lrs[best])
    slopes = np.gradient(smoothed[: best + 1], np.log10(lrs[: best + 1]))
    return float(lrs[int(np.argmin(slopes))])


def _cycle(loader: Iterable):
    while True:
        yield from loader
