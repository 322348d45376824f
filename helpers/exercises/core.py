"""The exercise checker framework: questions with ``check()``, ``hint()`` and ``solution()``.

A chapter module (``helpers.exercises.ch01_gradient_descent``, ...) creates one question
object per exercise. The learner fills in a stub in the notebook and calls the question's
methods:

- ``q1.check(answer)`` runs the learner's answer, shows friendly feedback (with colour and an
  icon in a notebook, as plain text elsewhere) and returns it as a :class:`Feedback`.
- ``q1.hint()`` shows the next hint; ``q1.hint(2)`` shows hint 2.
- ``q1.solution()`` shows the reference solution: the very code the tests check.

Three kinds of question cover the course:

- :class:`ValueQuestion`: one or more numbers computed by hand or with a few lines of code.
- :class:`ChoiceQuestion`: a multiple-choice question with a worked answer.
- :class:`FunctionQuestion`: implement a function; it is called on several fixed inputs and
  compared with the expected outputs. Subclasses check classes or whole training loops.

The learner's code runs under a guard (:mod:`helpers.exercises.guard`): an exception inside
it is reported as the learner's error (with the line of *their* code), a stub that still
raises ``NotImplementedError`` is "not attempted yet", ``sys.exit()`` is reported instead of
ending the kernel, and code that runs longer than :attr:`settings.time_limit` seconds (a
loop, a ``time.sleep``, an endless iterator it returns) is stopped by a signal timer and
reported, with "still checking…" shown while it runs. Grad mode, the default dtype, random
states and open figures are put back afterwards, and every check runs with autograd on.

Feedback names likely mistakes by comparing the learner's answer with what known wrong
variants (a flipped sign, a missing bias correction, ...) return. A value question never
prints the expected value: it says *what* is wrong (the sign, too large or too small, a
round factor, a known mistake); the answer comes only from ``solution()``. Tolerances widen
to the precision of the answer's dtype: a float32 answer is judged at float32 precision.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import html
import inspect
import math
import numbers
import re
import sys
import sysconfig
import textwrap
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from helpers._checks import short_repr
from helpers.exercises.guard import TimeUp, guarded, raised_by_learner

__all__ = [
    "CORRECT",
    "ERROR",
    "INCORRECT",
    "NOT_ATTEMPTED",
    "Blank",
    "Case",
    "ChoiceQuestion",
    "Feedback",
    "FunctionQuestion",
    "Question",
    "ValueQuestion",
    "____",
    "compare",
    "settings",
]

#: Run-time settings of the checkers. ``time_limit``: seconds a learner's function may run;
#: ``notice_after``: seconds after which "still checking…" is shown while it runs.
settings = SimpleNamespace(time_limit=15.0, notice_after=5.0)

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"

# Colour, icon and label of each kind of feedback. The colours are the site theme's CSS
# variables (light and dark mode), with a fallback for Jupyter; the label mixes the colour with
# the text colour, so it keeps its contrast on either background.
_LOOK = {
    CORRECT: ("var(--pst-color-success, #1a7f37)", "\u2713", "Correct"),
    INCORRECT: ("var(--pst-color-danger, #cf222e)", "\u2717", "Not quite"),
    NOT_ATTEMPTED: ("var(--pst-color-text-muted, #57606a)", "\u25cb", "Not attempted yet"),
    ERROR: ("var(--pst-color-warning, #bc4c00)", "!", "Error"),
}


class Blank:
    """The placeholder ``____`` that a learner replaces with an answer.

    There is a single instance, exported as ``____``; a checker that receives it reports
    "not attempted yet".
    """

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


____ = Blank()


def _is_blank(value: Any) -> bool:
    return isinstance(value, Blank)


# ---------------------------------------------------------------------------------------------
# Feedback and its display
# ---------------------------------------------------------------------------------------------


@dataclass
class Feedback:
    """The outcome of ``check()``.

    Attributes
    ----------
    status : str
        One of ``"correct"``, ``"incorrect"``, ``"not attempted"`` and ``"error"`` (the
        learner's code raised an exception or ran too long).
    message : str
        What was expected, what was got, and a nudge; inline code in backticks.
    """

    status: str
    message: str
    _shown_in: int | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when the answer is correct."""
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{_LOOK[self.status][2]}: {self.message}"

    def _repr_html_(self) -> str:
        colour, icon, label = _LOOK[self.status]
        return (
            f'<div class="checker-feedback" style="border-left: 4px solid {colour}; '
            f"background: color-mix(in srgb, {colour} 10%, transparent); "
            f'padding: 0.45em 0.9em; margin: 0.3em 0; border-radius: 3px; line-height: 1.5">'
            f'<strong style="color: color-mix(in srgb, {colour} 60%, '
            f'var(--pst-color-text-base, currentColor))">{icon} {label}:</strong> '
            f"{_inline_html(self.message)}</div>"
        )

    def _ipython_display_(self) -> None:
        # check() already displayed this feedback in the running cell: do not show it a
        # second time as the cell's value. Displays in later cells show it again.
        if self._shown_in is not None and self._shown_in == _execution_count():
            return
        _display({"text/html": self._repr_html_(), "text/plain": str(self)})


def _inline_html(text: str) -> str:
    """Escape ``text`` and render its `code`, **bold** and *emphasis* spans and line breaks."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1], quote=False)}</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"<em>\1</em>", part)
        out.append(part)
    return "".join(out).replace("\n", "<br>")


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where rich output is shown), False elsewhere."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _execution_count() -> int | None:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


def _display(bundle: dict[str, str]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def _show_feedback(feedback: Feedback) -> None:
    if _in_notebook():
        _display({"text/html": feedback._repr_html_(), "text/plain": str(feedback)})
        feedback._shown_in = _execution_count()
    else:
        print(feedback)


def _show_markdown(text: str) -> None:
    if _in_notebook():
        _display({"text/markdown": text, "text/plain": text})
    else:
        print(text)


# ---------------------------------------------------------------------------------------------
# Running the learner's code under a guard
# ---------------------------------------------------------------------------------------------

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


class _Stop(Exception):
    """Carries a finished :class:`Feedback` out of a checker (error, timeout, ...)."""

    def __init__(self, feedback: Feedback):
        super().__init__(feedback.message)
        self.feedback = feedback


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


# ---------------------------------------------------------------------------------------------
# Comparing answers
# ---------------------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    """``value``'s type with an article, for messages: "an int", "a numpy.ndarray", "None"."""
    if value is None:
        return "None"
    module = type(value).__module__
    name = type(value).__qualname__
    if module not in ("builtins", "__main__"):
        name = f"{module.split('.')[0]}.{name}"
    return ("an " if name[0].lower() in "aeiou" else "a ") + name


def _plain(value: Any) -> Any:
    """``value`` with every tensor (also inside lists and tuples) as a detached NumPy array."""
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _to_array(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or None when it is not numeric (str, None, function, ...)."""
    if isinstance(value, bool | np.bool_ | str | bytes) or value is None or callable(value):
        return None
    try:
        value = _plain(value)
        if isinstance(value, np.ndarray) and value.dtype.kind not in "iuf":
            return None
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def _precision(value: Any) -> float:
    """The machine epsilon of ``value``'s least precise floating-point part (float64's if none)."""
    value = _plain(value)
    if isinstance(value, list):
        return max((_precision(v) for v in value), default=_EPS64)
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return float(np.finfo(dtype).eps)
    return _EPS64


_EPS64 = float(np.finfo(np.float64).eps)


def _tolerances(got: Any, rtol: float, atol: float, scale: float) -> tuple[float, float]:
    """``rtol`` and ``atol``, widened to the precision of ``got``'s dtype (never narrowed).

    A float32 answer carries about 7 significant digits, so it is accepted within a few of
    its own rounding errors (8 eps relative, and 8 eps of the largest expected value
    absolute), even when the question asks float64 answers to agree to 9 digits.
    """
    eps = _precision(got)
    if eps <= _EPS64:
        return rtol, atol
    return max(rtol, 8 * eps), max(atol, 8 * eps * scale)


@dataclass
class _Mismatch:
    kind: str  # "none", "type", "length", "shape", "nan", "value"
    message: str


def compare(
    got: Any,
    expected: Any,
    *,
    what: str = "your function's result",
    names: Sequence[str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> _Mismatch | None:
    """Compare a learner's result with the expected one; None when they agree.

    ``expected`` is a number, an array, or a tuple of those (then ``names`` names the parts).
    Numbers, NumPy arrays, PyTorch tensors and lists are all accepted for numeric parts.
    """
    _check_tolerances(rtol, atol)
    if got is None and expected is not None:
        return _Mismatch("none", f"{what} is `None`. Did you forget a `return` statement?")
    if isinstance(expected, tuple):
        count = len(expected)
        listing = ", ".join(f"`{n}`" for n in names) if names else f"{count} values"
        if not isinstance(got, tuple | list):
            return _Mismatch(
                "type",
                f"{what} should be a tuple of {count} values ({listing}), but it is "
                f"{_type_name(got)}. Return them as `return {', '.join(names or ['a', 'b'])}`.",
            )
        if len(got) != count:
            return _Mismatch(
                "length",
                f"{what} should be {count} values ({listing}), but it has {len(got)}.",
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            part = f"`{names[i]}`" if names else f"value {i + 1} of {what}"
            mismatch = compare(g, e, what=part, rtol=rtol, atol=atol)
            if mismatch is not None:
                return mismatch
        return None
    if isinstance(expected, str):
        if not isinstance(got, str):
            return _Mismatch("type", f"{what} should be a string, but it is {_type_name(got)}.")
        if got.strip().lower() != expected.lower():
            return _Mismatch(
                "value", f"{what} is {short_repr(got, 60)}, which is not the right answer here."
            )
        return None
    array = _to_array(got)
    want = np.asarray(expected, dtype=float)
    if array is None:
        kind = "a number" if want.ndim == 0 else "an array"
        return _Mismatch("type", f"{what} should be {kind}, but it is {_type_name(got)}.")
    if array.shape != want.shape:
        if array.size == want.size == 1:
            array = array.reshape(want.shape)
        else:
            return _Mismatch(
                "shape",
                f"{what} has shape {array.shape}, but it should have shape {want.shape}.",
            )
    bad = ~np.isfinite(array) & np.isfinite(want)
    if bad.any():
        which = "NaN" if np.isnan(array[bad]).any() else "infinite"
        return _Mismatch(
            "nan",
            f"{what} contains {which} values. Did the iteration blow up, or is something "
            "divided by zero?",
        )
    scale = float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0))
    rtol, atol = _tolerances(got, rtol, atol, scale)
    if not np.allclose(array, want, rtol=rtol, atol=atol, equal_nan=True):
        return _Mismatch("value", f"{what} has the right type and shape but wrong values.")
    return None


def _check_tolerances(rtol: float, atol: float) -> None:
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"Invalid {name}: {value!r}; {name} must be a number >= 0")


def _matches(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    try:
        return compare(got, expected, rtol=rtol, atol=atol) is None
    except Exception:
        return False


def _format_number(value: float) -> str:
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


# ---------------------------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------------------------


#: The whole check (reference code included) may take this many times
#: ``settings.time_limit``, and at least ``_CHECK_LIMIT_MIN`` seconds (a first check pays for
#: warming up PyTorch). A backstop: the learner's own calls have the tighter limit.
_CHECK_LIMIT_FACTOR = 3.0
_CHECK_LIMIT_MIN = 30.0
#: Feedback longer than this is cut (a huge answer must not be echoed back in full).
_MAX_MESSAGE = 1500


def _is_whole_number(value: Any) -> bool:
    """True for 2, ``np.int64(2)`` and 2.0; False for bools, strings, NaN and 2.5."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return False
    return float(value).is_integer()


def _shortened(feedback: Feedback) -> Feedback:
    if len(feedback.message) <= _MAX_MESSAGE:
        return feedback
    return Feedback(feedback.status, feedback.message[: _MAX_MESSAGE - 20] + " … (cut short)")


@contextlib.contextmanager
def _grad_enabled():
    """Autograd on for the check (the learner may have left it off); restored afterwards."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    with torch.enable_grad():
        yield


class Question:
    """Base class of a checked exercise.

    Parameters
    ----------
    name : str
        The question's variable name in the notebook, ``"q1"``.
    usage : str
        How ``check`` is called, for messages: ``"q1.check(w1, b1)"``.
    hints : sequence of str
        Markdown hints, from gentle to explicit.
    explanation : str, optional
        Markdown shown after the solution code: why the solution is what it is.
    success : str, optional
        Shown with a correct answer.
    """

    def __init__(
        self,
        name: str,
        *,
        usage: str,
        hints: Sequence[str] = (),
        explanation: str | None = None,
        success: str | None = None,
    ):
        self.name = name
        self.usage = usage
        self.hints = [textwrap.dedent(h).strip() for h in hints]
        self.explanation = textwrap.dedent(explanation).strip() if explanation else None
        self.success = success
        self.passed = False
        self._next_hint = 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.usage}>"

    # -- the learner's three methods --------------------------------------------------------

    def check(self, *answers, **kwargs) -> Feedback:
        """Check the answer, show the feedback and return it as a :class:`Feedback`.

        The check runs with autograd on and leaves the global state (grad mode, random
        states, default dtype, figures) as it found it. A ``KeyboardInterrupt`` from the
        user propagates (after that state is restored); everything else becomes feedback.
        """
        feedback = _shortened(self._guarded_check(answers, kwargs))
        self.passed = feedback.passed
        _show_feedback(feedback)
        return feedback

    def _guarded_check(self, answers: tuple, kwargs: dict) -> Feedback:
        limit = max(_CHECK_LIMIT_FACTOR * settings.time_limit, _CHECK_LIMIT_MIN)
        try:
            return guarded(self._safe_check, answers, kwargs, time_limit=limit)
        except TimeUp as stop:
            return _timeout_feedback("Checking this answer", stop, limit)
        except SystemExit as exc:
            return _exit_feedback(exc, "Your answer")
        except KeyboardInterrupt as exc:
            if raised_by_learner(exc, _is_learner_file):
                return _exit_feedback(exc, "Your answer")
            raise

    def _safe_check(self, *answers, **kwargs) -> Feedback:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), _grad_enabled():
                warnings.simplefilter("ignore", RuntimeWarning)
                return self._check(*answers, **kwargs)
        except _Stop as stop:
            return stop.feedback
        except Exception as exc:  # a checker must never show its own traceback
            return Feedback(
                INCORRECT,
                f"The checker could not make sense of this answer ({type(exc).__name__}: "
                f"{exc}). Check that you pass what the exercise asks for: `{self.usage}`.",
            )

    def hint(self, level: int | None = None) -> None:
        """Show the next hint, or hint number ``level`` (from 1)."""
        if not self.hints:
            _show_markdown("There is no hint for this one: `solution()` shows the answer.")
            return
        if level is not None and not _is_whole_number(level):
            _show_markdown(
                f"`{self.name}.hint()` shows the next hint; `{self.name}.hint(n)` shows hint "
                f"number n, from 1 to {len(self.hints)} (got {short_repr(level, 60)})."
            )
            return
        if level is None:
            index = min(self._next_hint, len(self.hints) - 1)
            self._next_hint = index + 1
        else:
            index = min(max(int(level), 1), len(self.hints)) - 1
        text = f"**Hint {index + 1} of {len(self.hints)}:** {self.hints[index]}"
        if index == len(self.hints) - 1 and len(self.hints) > 1 and level is None:
            text += f"\n\n(That was the last hint; `{self.name}.solution()` shows a solution.)"
        _show_markdown(text)

    def solution(self) -> None:
        """Show the reference solution (the code the tests check) and why it works."""
        _show_markdown(self.solution_markdown())

    # -- for subclasses -----------------------------------------------------------------------

    @property
    def solution_code(self) -> str:
        """Code that, put in place of the stub, answers the question."""
        raise NotImplementedError

    def solution_markdown(self) -> str:
        """The solution as Markdown: the code, then the explanation."""
        text = f"```python\n{self.solution_code}\n```"
        if self.explanation:
            text += "\n\n" + self.explanation
        return text

    def _check(self, *answers, **kwargs) -> Feedback:
        raise NotImplementedError

    def _wrong_count(self, count: int) -> Feedback:
        return Feedback(
            INCORRECT,
            f"this check takes {count} argument{'s' if count > 1 else ''}: `{self.usage}`.",
        )


class ValueQuestion(Question):
    """Numbers to compute: ``q1.check(w1, b1)``.

    Parameters
    ----------
    name : str
    names : sequence of str
        The variables the learner fills in, in the order ``check`` takes them.
    expected : dict or callable
        The right value of each variable (computed in the chapter module), or a function
        that computes this dict when the question is first checked.
    solution : str
        Code that computes the variables; shown by ``solution()``, run by the tests.
    mistakes : dict or callable, optional
        For each variable, ``[(wrong_value, message), ...]``: typical wrong values and what
        probably went wrong (or a function that computes this dict when first needed).
    rtol, atol : float
        Tolerances; the default accepts answers rounded to three significant digits.
    integer : bool
        The answers are counts: they must be exactly right.
    """

    def __init__(
        self,
        name: str,
        *,
        names: Sequence[str],
        expected: dict[str, float] | Callable[[], dict[str, float]],
        solution: str,
        mistakes: dict[str, list[tuple[float, str]]]
        | Callable[[], dict[str, list[tuple[float, str]]]]
        | None = None,
        rtol: float = 2e-3,
        atol: float = 1e-9,
        integer: bool = False,
        hints: Sequence[str] = (),
        explanation: str | None = None,
        success: str | None = None,
    ):
        names = list(names)
        super().__init__(
            name,
            usage=f"{name}.check({', '.join(names)})",
            hints=hints,
            explanation=explanation,
            success=success,
        )
        self.names = names
        self._expected = expected
        self._solution = textwrap.dedent(solution).strip()
        self._mistakes = mistakes or {}
        self.rtol, self.atol, self.integer = rtol, atol, integer

    @property
    def mistakes(self) -> dict[str, list[tuple[float, str]]]:
        """Typical wrong values of each variable, with their nudges."""
        if callable(self._mistakes):
            self._mistakes = self._mistakes()
        return self._mistakes

    @property
    def expected(self) -> dict[str, float]:
        """The right value of each variable."""
        if callable(self._expected):
            self._expected = self._expected()
        if set(self._expected) != set(self.names):
            raise ValueError(f"expected must give a value for each of {self.names}")
        return {k: float(v) for k, v in self._expected.items()}

    @property
    def solution_code(self) -> str:
        return self._solution

    def _close(self, got: float, want: float, eps: float = _EPS64) -> bool:
        """Whether ``got`` (of a dtype with machine epsilon ``eps``) agrees with ``want``."""
        if self.integer:
            return got == want
        rtol, atol = self.rtol, self.atol
        if eps > _EPS64:  # a float32 (or float16) answer: accept its own rounding errors
            rtol, atol = max(rtol, 8 * eps), max(atol, 8 * eps * abs(want))
        return math.isclose(got, want, rel_tol=rtol, abs_tol=atol)

    def _number(self, name: str, value: Any) -> float:
        """``value`` as a float, or a :class:`_Stop` that says what is wrong with it."""
        if isinstance(value, str):
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"`{name}` is the string {short_repr(value, 60)}; write the number without "
                    "quotes.",
                )
            )
        array = _to_array(value)
        if array is None:
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"`{name}` should be a number, but it is {_type_name(value)}"
                    + (". Did a function forget to `return`?" if value is None else "."),
                )
            )
        if array.size != 1:
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"`{name}` should be a single number, but it has shape {array.shape}.",
                )
            )
        number = float(array.reshape(()))
        if math.isnan(number):
            raise _Stop(
                Feedback(INCORRECT, f"`{name}` is NaN: something in its computation is 0/0.")
            )
        if math.isinf(number):
            raise _Stop(Feedback(INCORRECT, f"`{name}` is infinite."))
        return number

    def _check(self, *answers, **kwargs) -> Feedback:
        if kwargs or len(answers) != len(self.names):
            return self._wrong_count(len(self.names))
        blanks = [n for n, v in zip(self.names, answers, strict=True) if _is_blank(v)]
        if len(blanks) == len(self.names):
            return Feedback(
                NOT_ATTEMPTED,
                f"replace `____` with your answer, run that cell, then run `{self.usage}`.",
            )
        if blanks:
            return Feedback(
                NOT_ATTEMPTED,
                "fill in " + ", ".join(f"`{n}`" for n in blanks) + " as well.",
            )
        for name, value in zip(self.names, answers, strict=True):
            number = self._number(name, value)
            want = self.expected[name]
            if self._close(number, want, _precision(value)):
                continue
            return Feedback(INCORRECT, self._what_is_wrong(name, number, want))
        return Feedback(CORRECT, self.success or "well done.")

    def _what_is_wrong(self, name: str, number: float, want: float) -> str:
        """What is wrong with ``number``, without giving away ``want``.

        A known mistake's nudge if ``number`` is one; otherwise the direction of the error
        (wrong sign, too large, too small, off by a round factor, nearly right).
        """
        shown = f"`{name}` = {_format_number(number)}"
        if self.integer and not number.is_integer():
            return (
                f"{shown} is not a whole number: it counts something (steps, epochs, "
                "bytes). Should it be rounded up or down?"
            )
        for wrong, nudge in self.mistakes.get(name, []):
            if self._close(number, float(wrong)):
                return f"{shown} is not right. {nudge}"
        return f"{shown} {_direction(number, want, self.rtol, self.integer)} " + (
            f"Try `{self.name}.hint()` if you are unsure why."
        )


def _direction(got: float, want: float, rtol: float, integer: bool) -> str:
    """How ``got`` misses ``want``, in words that do not reveal ``want``."""
    if want != 0 and got != 0 and (got > 0) != (want > 0):
        return "has the wrong sign."
    if got == 0:
        return "is zero, but the answer is not."
    larger = abs(got) > abs(want)
    size = "too large" if larger else "too small"
    if want != 0 and not integer:
        ratio = abs(got / want) if larger else abs(want / got)
        if math.isclose(ratio, 1, rel_tol=20 * rtol):
            return f"is close, but slightly {size}: check the rounding and the last step."
        if any(math.isclose(ratio, factor, rel_tol=1e-3) for factor in _ROUND_FACTORS):
            return (
                f"is {size} by a round factor (such as 2 or 10): is a division, a square "
                "or a unit missing?"
            )
    return f"is {size}."


_ROUND_FACTORS = (2.0, 4.0, 10.0, 100.0, 1000.0)


class ChoiceQuestion(Question):
    """A multiple-choice question: ``answer = "b"``, then ``q5.check(answer)``.

    Parameters
    ----------
    name : str
    choices : dict
        Letter to the text of the choice (the notebook shows the same text; a test
        checks that it does).
    answer : str
        The right letter.
    why : dict
        Letter to a short explanation of why that choice is right or wrong.
    explanation : str
        The worked answer in Markdown, shown by ``solution()``.
    variable : str
        The variable the learner assigns.
    """

    def __init__(
        self,
        name: str,
        *,
        choices: dict[str, str],
        answer: str,
        why: dict[str, str],
        explanation: str,
        variable: str = "answer",
        hints: Sequence[str] = (),
    ):
        super().__init__(
            name, usage=f"{name}.check({variable})", hints=hints, explanation=explanation
        )
        if answer not in choices or set(why) != set(choices):
            raise ValueError("answer and why must match the choices")
        self.choices, self.answer, self.why, self.variable = choices, answer, why, variable

    @property
    def solution_code(self) -> str:
        return f'{self.variable} = "{self.answer}"'

    def solution_markdown(self) -> str:
        return f"**Answer: ({self.answer})** {self.choices[self.answer]}\n\n{self.explanation}"

    def _check(self, *answers, **kwargs) -> Feedback:
        if kwargs or len(answers) != 1:
            return self._wrong_count(1)
        (value,) = answers
        letters = ", ".join(f'"{k}"' for k in self.choices)
        if _is_blank(value):
            return Feedback(
                NOT_ATTEMPTED,
                f"set `{self.variable}` to one of {letters}, run that cell, then run "
                f"`{self.usage}`.",
            )
        if not isinstance(value, str):
            return Feedback(
                INCORRECT,
                f"`{self.variable}` should be one letter in quotes ({letters}), but it is "
                f"{_type_name(value)}.",
            )
        letter = value.strip().strip("().").strip().lower()
        if letter not in self.choices:
            return Feedback(
                INCORRECT,
                f"{short_repr(value, 60)} is not one of the choices: "
                f"answer with one of {letters}.",
            )
        if letter != self.answer:
            return Feedback(INCORRECT, f"({letter}) is not the best answer. {self.why[letter]}")
        return Feedback(CORRECT, f"({letter}). {self.why[letter]}")


@dataclass
class Case:
    """One set of inputs on which a learner's function is tried.

    ``label`` describes the inputs in messages ("For grad = [1, -2] and lr = 0.1").
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def fresh(self) -> tuple[tuple, dict]:
        """Deep copies of the inputs, so that no function can change them for the next."""
        return copy.deepcopy(self.args), copy.deepcopy(self.kwargs)


class FunctionQuestion(Question):
    """Implement a function: ``q2.check(rmsprop)``.

    The learner's function and ``expected`` are called on each :class:`Case`; the results
    must agree. When they do not, each known wrong variant in ``mistakes`` is called on the
    same inputs, and the message of the first that agrees with the learner's result is shown.

    Parameters
    ----------
    name : str
    reference : callable
        The reference solution, a module-level function whose name and parameters are
        those of the stub; ``solution()`` shows its source.
    cases : list of Case, or a callable returning one
    expected : callable, optional
        Computes the right result (default ``reference``); for example with ``torch.optim``,
        the ground truth, while ``reference`` is the from-scratch solution shown.
    returns : sequence of str, optional
        Names of the values a function returning a tuple returns, for messages.
    mistakes : sequence of (callable, str)
        Known wrong variants and the nudge that names the mistake.
    rtol, atol : float
        Tolerances of the comparison.
    """

    def __init__(
        self,
        name: str,
        *,
        reference: Callable,
        cases: Sequence[Case] | Callable[[], Sequence[Case]],
        expected: Callable | None = None,
        returns: Sequence[str] | None = None,
        mistakes: Sequence[tuple[Callable, str]] = (),
        rtol: float = 1e-5,
        atol: float = 1e-8,
        hints: Sequence[str] = (),
        explanation: str | None = None,
        success: str | None = None,
    ):
        self.function_name = reference.__name__
        super().__init__(
            name,
            usage=f"{name}.check({self.function_name})",
            hints=hints,
            explanation=explanation,
            success=success,
        )
        self.reference = reference
        self._cases = cases
        self.expected = expected or reference
        self.returns = list(returns) if returns else None
        self.mistakes = list(mistakes)
        self.rtol, self.atol = rtol, atol
        self.signature = f"{self.function_name}{inspect.signature(reference)}"

    @property
    def cases(self) -> list[Case]:
        """The inputs tried, built afresh."""
        return list(self._cases() if callable(self._cases) else self._cases)

    @property
    def solution_code(self) -> str:
        return textwrap.dedent(inspect.getsource(self.reference)).strip()

    def call(self, function: Callable, *args, **kwargs):
        """Run the learner's function under the guard (see :func:`call_learner`)."""
        return call_learner(function, *args, signature=self.signature, **kwargs)

    def _function(self, answers: tuple, kwargs: dict) -> Callable:
        """The learner's function from ``check``'s arguments, or a :class:`_Stop`."""
        if kwargs or len(answers) != 1:
            raise _Stop(self._wrong_count(1))
        (function,) = answers
        if _is_blank(function):
            raise _Stop(Feedback(NOT_ATTEMPTED, f"write `{self.function_name}` first."))
        if not callable(function):
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"`{self.usage}` expects your function `{self.function_name}` itself "
                    f"(no parentheses after its name), but it got {_type_name(function)}.",
                )
            )
        return function

    def _run_wrong(self, wrong: Callable, case: Case) -> Any:
        args, kwargs = case.fresh()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return wrong(*args, **kwargs)

    def diagnose(self, results: Sequence[Any], cases: Sequence[Case], failed: int) -> str | None:
        """The nudge of the known mistake that best explains the learner's results.

        A mistake that reproduces the learner's results on every case wins, and its nudge
        is returned as it is. Otherwise the first that reproduces the result on the first
        failing case ``cases[failed]`` is offered as a possibility, not as a fact: other
        cases disagree with it, so more than one thing may be wrong.
        """

        def agrees(wrong: Callable, index: int) -> bool:
            try:
                result = self._run_wrong(wrong, cases[index])
            except Exception:
                return False
            return _matches(results[index], result, self.rtol, self.atol)

        fallback = None
        for wrong, nudge in self.mistakes:
            if not agrees(wrong, failed):
                continue
            others = (i for i in range(len(cases)) if i != failed)
            if all(agrees(wrong, i) for i in others):
                return nudge
            if fallback is None:
                fallback = nudge
        if fallback is None:
            return None
        return (
            f"This result matches a common mistake, though your results on other inputs do "
            f"not, so something else may be wrong too. The common mistake: {fallback}"
        )

    def _check(self, *answers, **kwargs) -> Feedback:
        function = self._function(answers, kwargs)
        cases = self.cases
        results = []
        for case in cases:
            args, kw = case.fresh()
            results.append(self.call(function, *args, **kw))
        for index, (case, got) in enumerate(zip(cases, results, strict=True)):
            args, kw = case.fresh()
            want = self.expected(*args, **kw)
            mismatch = compare(
                got,
                want,
                what="your function's result",
                names=self.returns,
                rtol=self.rtol,
                atol=self.atol,
            )
            if mismatch is None:
                continue
            where = f"{case.label}: " if case.label else ""
            message = where + mismatch.message[0].lower() + mismatch.message[1:]
            # A result of the wrong type cannot come from a known (working) mistake.
            wrong_type = mismatch.kind in ("none", "type")
            nudge = None if wrong_type else self.diagnose(results, cases, index)
            if nudge is None:
                if mismatch.kind != "value":
                    return Feedback(INCORRECT, message)
                nudge = f"Compare each line with the formula; `{self.name}.hint()` can help."
            return Feedback(INCORRECT, f"{message} {nudge}")
        return Feedback(CORRECT, self.success or "your function gives the right results.")
