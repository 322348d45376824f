"""A multiple-choice question: :class:`ChoiceQuestion`, checked with ``q5.check(answer)``.

The choices themselves are written once, in the exercise notebook's task cell, as
``- **(a)** ...`` lines; the question knows their letters (the keys of ``why``), the right
one, and why each is right or wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpers._checks import short_repr
from helpers.exercises.feedback import CORRECT, INCORRECT, NOT_ATTEMPTED, Feedback, _type_name
from helpers.exercises.question import Question, _is_blank

__all__ = ["ChoiceQuestion"]


class ChoiceQuestion(Question):
    """A multiple-choice question: ``answer = "b"``, then ``q5.check(answer)``.

    Parameters
    ----------
    name : str
    answer : str
        The right letter.
    why : dict
        Each letter of the choices, in the notebook's order, to a short explanation of why
        that choice is right or wrong (shown by ``check()``). The texts of the choices are
        in the notebook only.
    explanation : str
        The worked answer in Markdown, shown by ``solution()`` after the right letter and
        why it is right.
    variable : str
        The variable the learner assigns.
    """

    def __init__(
        self,
        name: str,
        *,
        answer: str,
        why: dict[str, str],
        explanation: str,
        variable: str = "answer",
        hints: Sequence[str] = (),
    ):
        super().__init__(
            name, usage=f"{name}.check({variable})", hints=hints, explanation=explanation
        )
        if not why or any(len(k) != 1 or not k.islower() for k in why):
            raise ValueError(f"why must map lower-case letters to texts, got {list(why)}")
        if answer not in why:
            raise ValueError(f"answer must be one of the letters of why {list(why)}: {answer!r}")
        self.letters = list(why)
        self.answer, self.why, self.variable = answer, why, variable

    @property
    def solution_code(self) -> str:
        return f'{self.variable} = "{self.answer}"'

    def solution_markdown(self) -> str:
        return f"**Answer: ({self.answer})** {self.why[self.answer]}\n\n{self.explanation}"

    def _check(self, *answers, **kwargs) -> Feedback:
        if kwargs or len(answers) != 1:
            return self._wrong_count(1)
        (value,) = answers
        letters = ", ".join(f'"{k}"' for k in self.letters)
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
        if letter not in self.letters:
            return Feedback(
                INCORRECT,
                f"{short_repr(value, 60)} is not one of the choices: "
                f"answer with one of {letters}.",
            )
        if letter != self.answer:
            return Feedback(INCORRECT, f"({letter}) is not the best answer. {self.why[letter]}")
        return Feedback(CORRECT, f"({letter}). {self.why[letter]}")
