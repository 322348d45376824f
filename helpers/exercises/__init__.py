"""Exercise checkers: one module per chapter, each with questions ``q1``, ``q2``, ...

In an exercise notebook::

    from helpers.exercises.ch01_gradient_descent import ____, q1, q2

    w1 = ____          # the learner replaces the blank
    q1.check(w1)       # friendly feedback; q1.hint(), q1.solution()

A chapter module builds its questions from the classes exported here:

- :class:`ValueQuestion`: one or more numbers computed by hand or with a few lines of code;
- :class:`ChoiceQuestion`: a multiple-choice question with a worked answer;
- :class:`FunctionQuestion`: implement a function, tried on several :class:`Case` inputs;
  subclasses check classes or whole training loops.

Each question's task (its text, and a choice question's choices) is written once, in the
exercise notebook's Markdown; the chapter module holds what the feedback needs: the expected
answers, the known mistakes and their nudges, the hints, and the solution.

The framework, one concern a module:

- :mod:`~helpers.exercises.question`, :mod:`~helpers.exercises.value_question`,
  :mod:`~helpers.exercises.choice_question`, :mod:`~helpers.exercises.function_question`:
  the question types and their ``check()``, ``hint()`` and ``solution()``;
- :mod:`~helpers.exercises.comparison`: comparing an answer with the expected one, in words
  that say what is wrong without giving the answer away;
- :mod:`~helpers.exercises.learner_code` and :mod:`~helpers.exercises.guard`: running the
  learner's code under a time limit, putting the global state back afterwards, and reporting
  exceptions, exits and endless loops as the learner's own;
- :mod:`~helpers.exercises.feedback`: the feedback, and how a notebook shows it.
"""

from helpers.exercises.choice_question import ChoiceQuestion
from helpers.exercises.feedback import Feedback
from helpers.exercises.function_question import Case, FunctionQuestion
from helpers.exercises.learner_code import settings
from helpers.exercises.question import Blank, Question, ____
from helpers.exercises.value_question import ValueQuestion

__all__ = [
    "CHAPTERS",
    "Blank",
    "Case",
    "ChoiceQuestion",
    "Feedback",
    "FunctionQuestion",
    "Question",
    "ValueQuestion",
    "____",
    "settings",
]

#: The chapter modules, in the order of the book (``helpers.exercises.<name>``; the numbers
#: are the order in which chapters were written, ``_toc.yml`` the order in which to read them).
CHAPTERS = [
    "ch01_gradient_descent",
    "ch02_learning_rate",
    "ch03_minibatch_sgd",
    "ch04_momentum",
    "ch05_adaptive_methods",
    "ch06_adam",
    "ch12_modern_optimizers",
    "ch07_lr_schedules",
    "ch11_stable_training",
    "ch08_regularization",
    "ch13_scaling_out",
    "ch09_comparing_optimizers",
    "ch14_benchmarking",
    "ch10_beyond_first_order",
]
