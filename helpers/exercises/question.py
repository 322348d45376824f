"""The base class of every question: ``check()``, ``hint()`` and ``solution()``.

A chapter module (``helpers.exercises.ch01_gradient_descent``, ...) creates one question
per exercise. The learner fills in a stub in the notebook and calls its methods:

- ``q1.check(answer)`` runs the learner's answer, shows friendly feedback and returns it as
  a :class:`~helpers.exercises.feedback.Feedback`;
- ``q1.hint()`` shows the next hint; ``q1.hint(2)`` shows hint 2;
- ``q1.solution()`` shows the reference solution: the very code the tests check.

The whole check runs under the guard (:mod:`helpers.exercises.guard`) with autograd on, and
leaves grad mode, the default dtype, the random states and open figures as it found them.
The blank ``____`` that the learner replaces is :class:`Blank`.
"""

from __future__ import annotations

import contextlib
import numbers
import sys
import textwrap
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers._checks import short_repr
from helpers.exercises.feedback import (
    INCORRECT,
    Feedback,
    _shortened,
    _show_feedback,
    _show_markdown,
    _Stop,
)
from helpers.exercises.guard import TimeUp, guarded, raised_by_learner
from helpers.exercises.learner_code import (
    _exit_feedback,
    _is_learner_file,
    _timeout_feedback,
    settings,
)

__all__ = ["Blank", "Question", "____"]


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


#: The whole check (reference code included) may take this many times
#: ``settings.time_limit``, and at least ``_CHECK_LIMIT_MIN`` seconds (a first check pays for
#: warming up PyTorch). A backstop: the learner's own calls have the tighter limit.
_CHECK_LIMIT_FACTOR = 3.0
_CHECK_LIMIT_MIN = 30.0


def _is_whole_number(value: Any) -> bool:
    """True for 2, ``np.int64(2)`` and 2.0; False for bools, strings, NaN and 2.5."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return False
    return float(value).is_integer()


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
        How ``check`` is called, for messages: ``"q1.check(w1, c1)"``.
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
