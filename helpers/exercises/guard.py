"""The guard around a learner's code: a time limit, and global state put back afterwards.

:func:`guarded` runs a callable so that

- it is stopped after ``time_limit`` seconds. In the main thread a signal timer
  (``signal.setitimer``) raises :class:`TimeUp` inside it, which interrupts any Python code,
  ``time.sleep`` and other blocking calls that return on a signal. A long computation inside
  a C library (one huge matrix product, say) cannot be interrupted: it is stopped as soon as
  it returns to Python, and :attr:`TimeUp.overrun` says how late that was. Outside the main
  thread, where signals are not delivered, the limit is checked between lines of the
  learner's own Python code instead;
- a "still checking…" notice is printed once if it runs longer than ``notice_after``
  seconds;
- the global state it may have changed is restored when it ends, however it ends: grad mode,
  the random states of PyTorch, NumPy's global generator and Python's ``random`` (optional),
  PyTorch's default dtype, and open matplotlib figures (figures it opened are closed).

``KeyboardInterrupt``: an interrupt from the user (the stop button in Jupyter) propagates
after the state is restored, so that the cell stops as the user asked. A learner's own
``raise KeyboardInterrupt`` is told apart by the line that raised it (see
:func:`raised_by_learner`) and reported as feedback by the caller
(:func:`helpers.exercises.learner_code.call_learner`), like ``SystemExit``.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["GlobalState", "TimeUp", "guarded", "raised_by_learner"]


class TimeUp(BaseException):
    """Raised inside the learner's code when it runs past the time limit.

    A BaseException, so that a learner's ``except Exception`` cannot swallow it.

    Attributes
    ----------
    elapsed : float
        Seconds from the start of the call until it was stopped.
    interruptible : bool
        False when the signal timer could not be used (not the main thread).
    """

    def __init__(self, elapsed: float = 0.0, interruptible: bool = True):
        super().__init__(elapsed)
        self.elapsed = elapsed
        self.interruptible = interruptible


class GlobalState:
    """A snapshot of the global state that a learner's code may change; :meth:`restore` it.

    Parameters
    ----------
    random_states : bool
        Include the random states. A checker leaves them out for each single call of the
        learner's function, so that two calls see different random numbers (as two epochs
        would), and restores them once the whole check is over.
    """

    def __init__(self, random_states: bool = True):
        self.random = (random.getstate(), np.random.get_state()) if random_states else None  # noqa: NPY002
        torch = sys.modules.get("torch")
        self.torch = None
        if torch is not None:
            rng = torch.random.get_rng_state() if random_states else None
            self.torch = (torch.is_grad_enabled(), torch.get_default_dtype(), rng)
        pyplot = sys.modules.get("matplotlib.pyplot")
        self.figures = set(pyplot.get_fignums()) if pyplot is not None else None

    def restore(self) -> None:
        """Put everything back as it was when the snapshot was taken."""
        if self.random is not None:
            random.setstate(self.random[0])
            np.random.set_state(self.random[1])  # noqa: NPY002
        torch = sys.modules.get("torch")
        if torch is not None and self.torch is not None:
            grad, dtype, rng = self.torch
            torch.set_grad_enabled(grad)
            torch.set_default_dtype(dtype)
            if rng is not None:
                torch.random.set_rng_state(rng)
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            for number in set(pyplot.get_fignums()) - (self.figures or set()):
                pyplot.close(number)


@contextlib.contextmanager
def restored_state(random_states: bool = True) -> Iterator[GlobalState]:
    """Restore the global state (see :class:`GlobalState`) when the block ends."""
    state = GlobalState(random_states)
    try:
        yield state
    finally:
        state.restore()


def raised_by_learner(exc: BaseException, is_learner_file: Callable[[str], bool]) -> bool:
    """True when ``exc`` was raised by a ``raise`` statement in the learner's own code.

    Tells a learner's ``raise KeyboardInterrupt`` (or ``sys.exit()``, whose last frame is in
    the ``sys`` module: then the learner's call of it counts) from an interrupt that merely
    arrived while their code was running.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    last = frames[-1]
    return is_learner_file(last.filename) and (last.line or "").lstrip().startswith("raise")


def _notice(message: str) -> None:
    print(message, flush=True)


def guarded(
    function: Callable,
    args: tuple,
    kwargs: dict,
    *,
    time_limit: float,
    notice_after: float | None = None,
    notice: str = "still checking…",
    is_learner_file: Callable[[str], bool] = lambda filename: True,
    random_states: bool = True,
) -> Any:
    """Call ``function(*args, **kwargs)`` under the time limit, then restore global state.

    Parameters
    ----------
    function : callable
    args, kwargs
        Its arguments.
    time_limit : float
        Seconds after which :class:`TimeUp` is raised inside it.
    notice_after : float, optional
        Print ``notice`` once if the call is still running after this many seconds.
    notice : str
    is_learner_file : callable
        For the fallback outside the main thread: which frames' lines to time.
    random_states : bool
        Restore the random states too (see :class:`GlobalState`).

    Returns
    -------
    object
        What ``function`` returns.
    """
    timer = None
    if notice_after is not None and notice_after < time_limit:
        timer = threading.Timer(notice_after, _notice, (notice,))
        timer.daemon = True
        timer.start()
    limit = _signal_limit if _can_signal() else _trace_limit
    try:
        with restored_state(random_states), limit(time_limit, is_learner_file):
            return function(*args, **kwargs)
    finally:
        if timer is not None:
            timer.cancel()


def _can_signal() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) is not None  # None: set from outside Python
    )


@contextlib.contextmanager
def _signal_limit(time_limit: float, is_learner_file) -> Iterator[None]:
    """Raise :class:`TimeUp` in the main thread after ``time_limit`` s (a SIGALRM timer).

    An enclosing timer (an outer guard, or pytest-timeout's) is saved and re-armed with the
    time it had left, so guards nest.
    """
    start = time.perf_counter()
    active = [True]

    def on_alarm(signum, frame):
        if active[0]:
            raise TimeUp(time.perf_counter() - start)

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    # After the first alarm, repeat every 0.25 s, in case the first one was swallowed by
    # a bare `except:` in the learner's code.
    delay = max(float(time_limit), 1e-3)  # 0 would switch the timer off, not fire at once
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, delay, 0.25)
    try:
        yield
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            left = previous_delay - (time.perf_counter() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)


@contextlib.contextmanager
def _trace_limit(time_limit: float, is_learner_file) -> Iterator[None]:
    """Raise :class:`TimeUp` on a line of the learner's code once ``time_limit`` s are over.

    For threads other than the main one, where no signal arrives: a trace function checks
    the clock on every line the learner's frames execute (library code is not traced).
    """
    start = time.perf_counter()
    deadline = start + time_limit

    def local_trace(frame, event, arg):
        if time.perf_counter() > deadline:
            raise TimeUp(time.perf_counter() - start, interruptible=False)
        return local_trace

    def global_trace(frame, event, arg):
        return local_trace if is_learner_file(frame.f_code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        yield
    finally:
        sys.settrace(previous)
