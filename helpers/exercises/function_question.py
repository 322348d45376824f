"""Implement a function: :class:`FunctionQuestion`, checked with ``q2.check(rmsprop)``.

The learner's function is called on several fixed inputs (:class:`Case`) under the guard
and compared with the expected results; when they differ, known wrong variants (a flipped
sign, a missing bias correction, ...) are run on the same inputs, and the one that explains
the learner's results names the mistake. Subclasses in the chapter modules check classes or
whole training loops.
"""

from __future__ import annotations

import copy
import inspect
import textwrap
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers.exercises.comparison import _matches, compare
from helpers.exercises.feedback import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Feedback,
    _Stop,
    _type_name,
)
from helpers.exercises.learner_code import call_learner
from helpers.exercises.question import Question, _is_blank
from helpers.notebook import _without_docstring

__all__ = ["Case", "FunctionQuestion"]


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
        """The reference's code, with only the summary of its docstring (the task has the rest)."""
        source = textwrap.dedent(inspect.getsource(self.reference))
        return _without_docstring(source, keep_summary=True).strip()

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
