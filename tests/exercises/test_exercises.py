"""Tests of the exercise checkers (``helpers.exercises``).

For every question of every chapter:

- the reference solution (the code that ``solution()`` shows) is accepted;
- blanks and untouched stubs are "not attempted yet";
- at least two typical wrong answers are rejected with a message that names the mistake
  (the wrong answers live in ``tests/exercises/exercise_wrong_answers.py``, written as a
  learner would);
- garbage (None, wrong types and shapes, NaN, a function that raises or loops forever)
  gives feedback, never an exception.
"""

import importlib
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.exercises import (
    CHAPTERS,
    ChoiceQuestion,
    Feedback,
    FunctionQuestion,
    ValueQuestion,
    ____,
    settings,
)
from helpers.exercises.feedback import ERROR, INCORRECT, NOT_ATTEMPTED


def _load_wrong_answers():
    path = Path(__file__).with_name("exercise_wrong_answers.py")
    spec = importlib.util.spec_from_file_location("exercise_wrong_answers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG


WRONG = _load_wrong_answers()
MODULES = {
    name: importlib.import_module(f"helpers.exercises.{name}")
    for name in CHAPTERS
    if importlib.util.find_spec(f"helpers.exercises.{name}")
}
QUESTIONS = {f"{name}.{q.name}": q for name, module in MODULES.items() for q in module.QUESTIONS}


@pytest.fixture(autouse=True)
def _quiet_and_quick(monkeypatch):
    monkeypatch.setattr(settings, "time_limit", 5.0)


ROOT = Path(__file__).resolve().parents[2]


def setup_code(chapter):
    """The code cells before the first exercise of the chapter's notebook (guard, imports)."""
    nb = json.loads((ROOT / "book" / "exercises" / f"{chapter[2:]}.ipynb").read_text())
    setup = []
    for cell in nb["cells"]:
        if "exercise-task" in cell["metadata"].get("tags", []):
            break
        if cell["cell_type"] == "code":
            setup.append("".join(cell["source"]))
    return "\n".join(setup)


def solution_namespace(key):
    """Run the solution code as the notebook would: after the setup cell and the solutions
    of the earlier questions (a later answer may use an earlier function)."""
    chapter, name = key.split(".")
    namespace = {}
    exec(setup_code(chapter), namespace)
    for question in MODULES[chapter].QUESTIONS:
        exec(question.solution_code, namespace)
        if question.name == name:
            return namespace
    raise KeyError(key)


def answers_from(question, namespace):
    if isinstance(question, ValueQuestion):
        return [namespace[n] for n in question.names]
    if isinstance(question, ChoiceQuestion):
        return [namespace[question.variable]]
    return [namespace[question.function_name]]


def blank_answers(question):
    if isinstance(question, ValueQuestion):
        return [____] * len(question.names)
    return [____]


def test_every_chapter_has_three_to_six_questions():
    for name, module in MODULES.items():
        names = [q.name for q in module.QUESTIONS]
        assert 3 <= len(names) <= 6, name
        assert names == [f"q{i + 1}" for i in range(len(names))], name
        for q in module.QUESTIONS:
            assert getattr(module, q.name) is q


@pytest.mark.parametrize("key", QUESTIONS)
def test_reference_solution_is_accepted(key):
    question = QUESTIONS[key]
    feedback = question.check(*answers_from(question, solution_namespace(key)))
    assert feedback.passed, feedback.message
    assert question.passed


@pytest.mark.parametrize("key", QUESTIONS)
def test_solution_and_hints_display(key, capsys):
    question = QUESTIONS[key]
    question.solution()
    shown = capsys.readouterr().out
    assert shown.strip()
    if not isinstance(question, ChoiceQuestion):
        assert question.solution_code in shown
    question.hint()
    assert capsys.readouterr().out.startswith("**Hint 1 of") or not question.hints


@pytest.mark.parametrize("key", QUESTIONS)
def test_blank_is_not_attempted(key):
    question = QUESTIONS[key]
    feedback = question.check(*blank_answers(question))
    assert feedback.status == NOT_ATTEMPTED
    assert "not attempted" in str(feedback).lower()
    assert not question.passed


@pytest.mark.parametrize(
    "key", [k for k, q in QUESTIONS.items() if isinstance(q, FunctionQuestion)]
)
def test_untouched_stub_is_not_attempted(key):
    def stub(*args, **kwargs):
        raise NotImplementedError

    feedback = QUESTIONS[key].check(stub)
    assert feedback.status == NOT_ATTEMPTED, feedback.message


def test_every_question_has_wrong_answers():
    missing = [k for k in QUESTIONS if len(WRONG.get(k, [])) < 2]
    assert not missing, f"fewer than two wrong answers for {missing}"
    assert set(WRONG) <= set(QUESTIONS)


@pytest.mark.parametrize(
    ("key", "index"), [(k, i) for k in QUESTIONS for i in range(len(WRONG.get(k, [])))]
)
def test_wrong_answer_names_the_mistake(key, index):
    answers, pattern = WRONG[key][index]
    feedback = QUESTIONS[key].check(*answers)
    assert feedback.status in (INCORRECT, ERROR), feedback.message
    assert re.search(pattern, feedback.message, re.IGNORECASE), feedback.message


# --- garbage -------------------------------------------------------------------------------


def _returns(value):
    def learner_function(*args, **kwargs):
        return value

    return learner_function


def _raises(*args, **kwargs):
    return 1 / 0


def _loops(*args, **kwargs):
    n = 0
    while True:
        n += 1


def _garbage(question):
    if isinstance(question, ValueQuestion):
        values = [None, "abc", [1, 2, 3], np.nan, np.inf, np.zeros((2, 2)), print, True]
        return [[v] * len(question.names) for v in values] + [[]]
    if isinstance(question, ChoiceQuestion):
        return [[v] for v in (None, 3, "z", np.nan, ["a"], print)] + [["a", "b"]]
    functions = [
        _returns(None),
        _returns("abc"),
        _returns(np.zeros((7, 3))),
        _returns(np.nan),
        _returns((np.nan, np.nan)),
        _returns(torch.full((2,), torch.nan)),
        _returns([None, None]),
        lambda: 0,
    ]
    return [[f] for f in functions] + [[None], [42], ["abc"], []]


@pytest.mark.parametrize("key", QUESTIONS)
def test_garbage_gives_feedback(key):
    question = QUESTIONS[key]
    for answers in _garbage(question):
        feedback = question.check(*answers)
        assert isinstance(feedback, Feedback)
        assert not feedback.passed, answers
        assert feedback.message
        assert "Traceback" not in feedback.message


@pytest.mark.parametrize(
    "key", [k for k, q in QUESTIONS.items() if isinstance(q, FunctionQuestion)]
)
def test_learner_exception_is_reported_as_theirs(key):
    feedback = QUESTIONS[key].check(_raises)
    assert feedback.status == ERROR
    assert "ZeroDivisionError" in feedback.message
    assert "line" in feedback.message and "return 1 / 0" in feedback.message
    assert "helpers" not in feedback.message


@pytest.mark.parametrize(
    "key", [k for k, q in QUESTIONS.items() if isinstance(q, FunctionQuestion)]
)
def test_infinite_loop_is_stopped(key, monkeypatch):
    monkeypatch.setattr(settings, "time_limit", 0.2)
    feedback = QUESTIONS[key].check(_loops)
    assert feedback.status == ERROR
    assert "infinite loop" in feedback.message
