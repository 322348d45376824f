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

The learner's code runs under a guard: an exception inside it is reported as the learner's
error (with the line of *their* code), a stub that still raises ``NotImplementedError`` is
"not attempted yet", and a loop that runs longer than :attr:`settings.time_limit` seconds
is stopped and reported. Feedback names likely mistakes by comparing the learner's answer
with what known wrong variants (a flipped sign, a missing bias correction, ...) return.
"""

from __future__ import annotations

import copy
import functools
import html
import inspect
import math
import re
import sys
import sysconfig
import textwrap
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

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

#: Run-time settings of the checkers. ``time_limit``: seconds a learner's function may run.
settings = SimpleNamespace(time_limit=15.0)

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"

# Colour, icon and label of each kind of feedback (colours readable on light and dark pages).
_LOOK = {
    CORRECT: ("#1a7f37", "\u2713", "Correct"),
    INCORRECT: ("#cf222e", "\u2717", "Not quite"),
    NOT_ATTEMPTED: ("#57606a", "\u25cb", "Not attempted yet"),
    ERROR: ("#bc4c00", "!", "Error"),
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
            f'<div style="border-left: 4px solid {colour}; background: {colour}1a; '
            f'padding: 0.45em 0.9em; margin: 0.3em 0; border-radius: 3px; line-height: 1.5">'
            f'<strong style="color: {colour}">{icon} {label}:</strong> '
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


class _TimeUp(BaseException):
    """Raised inside the learner's code when it runs past the time limit.

    A BaseException, so that a learner's ``except Exception`` cannot swallow it.
    """


class _Stop(Exception):
    """Carries a finished :class:`Feedback` out of a checker (error, timeout, ...)."""

    def __init__(self, feedback: Feedback):
        super().__init__(feedback.message)
        self.feedback = feedback


def _run_guarded(function: Callable, args: tuple, kwargs: dict, time_limit: float):
    """Call ``function`` and stop it with :class:`_TimeUp` after ``time_limit`` seconds.

    The deadline is checked on every line executed in the learner's own frames (a trace
    function that ignores library code), so a ``while True:`` loop is interrupted cleanly.
    """
    deadline = time.perf_counter() + time_limit

    def local_trace(frame, event, arg):
        if time.perf_counter() > deadline:
            raise _TimeUp
        return local_trace

    def global_trace(frame, event, arg):
        if _is_learner_file(frame.f_code.co_filename):
            return local_trace
        return None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        return function(*args, **kwargs)
    finally:
        sys.settrace(previous)


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


def call_learner(
    function: Callable,
    *args,
    what: str = "Your function",
    signature: str | None = None,
    **kwargs,
):
    """Call the learner's ``function``; turn every way it can fail into :class:`_Stop`.

    ``NotImplementedError`` raised by the learner's own code means "not attempted yet";
    other exceptions are reported with the line of the learner's code that raised them;
    running past ``settings.time_limit`` is reported as a probable infinite loop.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return _run_guarded(function, args, kwargs, settings.time_limit)
    except _TimeUp:
        raise _Stop(
            Feedback(
                ERROR,
                f"{what} was still running after {settings.time_limit:g} s, so the check "
                "stopped it. Is there an infinite loop, for example a `while` loop whose "
                "condition never becomes false, or a loop without a limit on its steps?",
            )
        ) from None
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


def _to_array(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or None when it is not numeric (str, None, function, ...)."""
    if isinstance(value, bool | np.bool_ | str | bytes) or value is None or callable(value):
        return None
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind not in "iuf":
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array


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
            return _Mismatch("value", f"{what} is {got!r}, but here it should be {expected!r}.")
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
    if not np.allclose(array, want, rtol=rtol, atol=atol, equal_nan=True):
        return _Mismatch("value", f"{what} has the right type and shape but wrong values.")
    return None


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
        """Check the answer, show the feedback and return it as a :class:`Feedback`."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                feedback = self._check(*answers, **kwargs)
        except _Stop as stop:
            feedback = stop.feedback
        except Exception as exc:  # a checker must never show its own traceback
            feedback = Feedback(
                INCORRECT,
                f"The checker could not make sense of this answer ({type(exc).__name__}: "
                f"{exc}). Check that you pass what the exercise asks for: `{self.usage}`.",
            )
        self.passed = feedback.passed
        _show_feedback(feedback)
        return feedback

    def hint(self, level: int | None = None) -> None:
        """Show the next hint, or hint number ``level`` (from 1)."""
        if not self.hints:
            _show_markdown("There is no hint for this one: `solution()` shows the answer.")
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

    def _close(self, got: float, want: float) -> bool:
        if self.integer:
            return got == want
        return math.isclose(got, want, rel_tol=self.rtol, abs_tol=self.atol)

    def _number(self, name: str, value: Any) -> float:
        """``value`` as a float, or a :class:`_Stop` that says what is wrong with it."""
        if isinstance(value, str):
            raise _Stop(
                Feedback(
                    INCORRECT,
                    f"`{name}` is the string {value!r}; write the number without quotes.",
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
            if self._close(number, want):
                continue
            if self.integer and not number.is_integer():
                return Feedback(
                    INCORRECT,
                    f"`{name}` = {_format_number(number)} is not a whole number: it counts "
                    "something (steps, epochs, bytes). Should it be rounded up or down?",
                )
            message = (
                f"`{name}` = {_format_number(number)}, but it should be {_format_number(want)}."
            )
            for wrong, nudge in self.mistakes.get(name, []):
                if self._close(number, float(wrong)):
                    return Feedback(INCORRECT, f"{message} {nudge}")
            return Feedback(
                INCORRECT, f"{message} Try `{self.name}.hint()` if you are unsure why."
            )
        return Feedback(CORRECT, self.success or "well done.")


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
                INCORRECT, f"{value!r} is not one of the choices: answer with one of {letters}."
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

        A mistake that reproduces the learner's results on every case wins; otherwise the
        first that reproduces the result on the first failing case ``cases[failed]``.
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
        return fallback

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
