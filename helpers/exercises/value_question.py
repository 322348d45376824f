"""Numbers to compute: :class:`ValueQuestion`, checked with ``q1.check(w1, c1)``.

A value question never prints the expected value: it names a known mistake when the answer
is one, and otherwise says how the answer misses (the sign, too large or too small, a round
factor); the answer itself comes only from ``solution()``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from helpers._checks import short_repr
from helpers.exercises.comparison import _EPS64, _direction, _precision, _to_array
from helpers.exercises.feedback import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    Feedback,
    _format_number,
    _Stop,
    _type_name,
)
from helpers.exercises.question import Question, _is_blank

__all__ = ["ValueQuestion"]


class ValueQuestion(Question):
    """Numbers to compute: ``q1.check(w1, c1)``.

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
