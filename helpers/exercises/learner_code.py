"""Calling the learner's code under the guard, and saying how it failed.

:func:`call_learner` runs a learner's function under :func:`helpers.exercises.guard.guarded`
(a time limit, global state put back) and turns every way it can fail into feedback that
points at the learner's own line: an exception (with a nudge for the usual causes), a stub
that still raises ``NotImplementedError`` ("not attempted yet"), ``sys.exit()``, a
``raise KeyboardInterrupt``, and code that runs past :attr:`settings.time_limit` seconds (a
loop, a ``time.sleep``, an endless iterator it returns), with "still checking…" shown while
it runs. The learner's code is every file outside ``helpers`` and the installed libraries.
"""

from __future__ import annotations

import functools
import re
import sysconfig
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from helpers.exercises.feedback import ERROR, NOT_ATTEMPTED, Feedback, _Stop
from helpers.exercises.guard import TimeUp, guarded, raised_by_learner

__all__ = ["call_learner", "settings"]

#: Run-time settings of the checkers. ``time_limit``: seconds a learner's function may run;
#: ``notice_after``: seconds after which "still checking…" is shown while it runs.
settings = SimpleNamespace(time_limit=15.0, notice_after=5.0)


_HELPERS_DIR = str(Path(__file__).resolve().parent.parent)
_LIBRARY_DIRS = tuple(
    sorted(
        {
            str(Path(sysconfig.get_paths()[key]).resolve())
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
        }
    )
)


@functools.lru_cache(maxsize=4096)
def _is_learner_file(filename: str) -> bool:
    """True for the learner's code (notebook cells, scripts, tests); not helpers or libraries."""
    if filename.startswith("<frozen"):
        return False
    if filename.startswith("<"):  # <string>, <ipython-input-...>, <stdin>
        return True
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return True
    return not path.startswith(_HELPERS_DIR) and not path.startswith(_LIBRARY_DIRS)


def _materialized(value: Any) -> Any:
    """An iterator's items as a list (an endless one then runs into the time limit)."""
    if not isinstance(value, Iterator):
        return value
    items = []
    for item in value:  # a Python loop, not list(value): the time limit can stop it
        items.append(item)
    return items


def _run_guarded(function: Callable, args: tuple, kwargs: dict, time_limit: float):
    """Call ``function`` under the guard (see :mod:`helpers.exercises.guard`).

    It is stopped with :class:`TimeUp` after ``time_limit`` seconds, a returned iterator is
    read within the same limit, and the global state is restored afterwards.
    """
    return guarded(
        lambda: _materialized(function(*args, **kwargs)),
        (),
        {},
        time_limit=time_limit,
        notice_after=settings.notice_after,
        notice=_STILL_CHECKING,
        is_learner_file=_is_learner_file,
        random_states=False,  # restored after the whole check (see Question.check)
    )


_STILL_CHECKING = "still checking\u2026 (your code is still running)"


def _learner_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return [f for f in traceback.extract_tb(exc.__traceback__) if _is_learner_file(f.filename)]


def _error_nudge(exc: BaseException, signature: str | None) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and re.search(r"argument|positional|keyword", text):
        if signature:
            return f"Check the parameters of your function: it is called as `{signature}`."
        return "Check the parameters of your function."
    if isinstance(exc, NameError):
        return "Is a variable misspelled, or defined in a cell you have not run?"
    if isinstance(exc, RuntimeError) and "leaf Variable" in text:
        return (
            "Update parameters inside `with torch.no_grad():`, so that autograd does not "
            "record the update itself."
        )
    if isinstance(exc, RuntimeError) and "backward through the graph a second time" in text:
        return "Compute a fresh loss (a new forward pass) before every `backward()`."
    if isinstance(exc, AttributeError) and "NoneType" in text:
        return "A variable is None: does a function you call forget to `return`?"
    if isinstance(exc, IndexError | ValueError) and re.search(r"shape|index|broadcast", text):
        return "Check the shapes of your arrays, for example with `print(x.shape)`."
    if isinstance(exc, RecursionError):
        return "Does your function call itself by mistake?"
    return "Read the message and look at the line it points to."


def _exception_feedback(exc: BaseException, what: str, signature: str | None) -> Feedback:
    frames = _learner_frames(exc)
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if frames:
        frame = frames[-1]
        where = f"line {frame.lineno} of your code"
        if frame.line:
            where += f": `{frame.line.strip()}`"
        text = f"{what} raised {message} ({where})."
    else:
        text = f"Calling {what[0].lower() + what[1:]} raised {message}."
    return Feedback(ERROR, f"{text} {_error_nudge(exc, signature)}")


def _timeout_feedback(what: str, stop: TimeUp, limit: float) -> Feedback:
    """Say that the learner's code ran too long, and honestly how it was stopped."""
    text = f"{what} was still running after {limit:g} s, so the check stopped it"
    if not stop.interruptible:
        text += (
            " (this check runs outside the main thread, so it could only stop your code "
            f"between two of its lines, after {stop.elapsed:.3g} s)"
        )
    elif stop.elapsed > limit + 0.5:
        text += (
            f" only after {stop.elapsed:.3g} s: a single long computation inside a library "
            "cannot be interrupted before it returns"
        )
    return Feedback(
        ERROR,
        text + ". Is there an infinite loop, for example a `while` loop whose condition "
        "never becomes false, a loop without a limit on its steps, or an endless generator?",
    )


def _exit_feedback(exc: BaseException, what: str) -> Feedback:
    if isinstance(exc, SystemExit):
        did = "called `sys.exit()` (or `exit()`)"
    else:
        did = "raised `KeyboardInterrupt`"
    return Feedback(
        ERROR,
        f"{what} {did}, which would stop the notebook's kernel or the cell. Use "
        "`return` to hand back a result, or `raise ValueError(...)` to signal an error.",
    )


def call_learner(
    function: Callable,
    *args,
    what: str = "Your function",
    signature: str | None = None,
    **kwargs,
):
    """Call the learner's ``function``; turn every way it can fail into :class:`_Stop`.

    ``NotImplementedError`` raised by the learner's own code means "not attempted yet";
    other exceptions, ``SystemExit`` and a ``raise KeyboardInterrupt`` in the learner's code
    are reported with the line of the learner's code that raised them; running past
    ``settings.time_limit`` is reported as a probable infinite loop. A ``KeyboardInterrupt``
    from the user (Jupyter's stop button) propagates, after the global state is restored.
    Grad mode, the default dtype and open figures are restored in every case before this
    returns, so the checker's reference code runs as if the learner's had not; the random
    states are restored when the whole check ends (two calls of a learner's shuffle must
    see different random numbers, and the reference code seeds its own generators).

    Parameters
    ----------
    function : callable
        The learner's function (or class, or method).
    *args, **kwargs
        Its arguments.
    what : str
        How messages name it ("Your function").
    signature : str, optional
        How it is meant to be called, for the message when it is called with the wrong
        arguments: ``"gradient_descent(grad, x0, lr, num_steps)"``.

    Returns
    -------
    object
        What ``function`` returns (an iterator's items as a list).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return _run_guarded(function, args, kwargs, settings.time_limit)
    except TimeUp as stop:
        raise _Stop(_timeout_feedback(what, stop, settings.time_limit)) from None
    except SystemExit as exc:
        raise _Stop(_exit_feedback(exc, what)) from None
    except KeyboardInterrupt as exc:
        if raised_by_learner(exc, _is_learner_file):
            raise _Stop(_exit_feedback(exc, what)) from None
        raise
    except NotImplementedError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        if frames and _is_learner_file(frames[-1].filename):
            raise _Stop(
                Feedback(
                    NOT_ATTEMPTED,
                    "replace `raise NotImplementedError` in the stub with your code, run "
                    "that cell, then run this check again.",
                )
            ) from None
        raise _Stop(_exception_feedback(exc, what, signature)) from None
    except Exception as exc:
        raise _Stop(_exception_feedback(exc, what, signature)) from None
