"""Exercise checkers: one module per chapter, each with questions ``q1``, ``q2``, ...

In an exercise notebook::

    from helpers.exercises.ch01_gradient_descent import ____, q1, q2

    w1 = ____          # the learner replaces the blank
    q1.check(w1)       # friendly feedback; q1.hint(), q1.solution()

See :mod:`helpers.exercises.core` for the framework.
"""

from helpers.exercises.core import (
    Blank,
    Case,
    ChoiceQuestion,
    Feedback,
    FunctionQuestion,
    Question,
    ValueQuestion,
    ____,
    settings,
)

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
