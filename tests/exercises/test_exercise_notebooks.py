"""Tests of the exercise notebooks ``book/exercises/NN_topic.ipynb``.

- Structure: one notebook per chapter, listed in ``_toc.yml``, committed without outputs; each
  question of the chapter module has a task cell (tagged ``exercise-task``), a stub cell
  (tagged ``exercise-stub``) and a check cell, and no cell prints a solution. A question's
  task is written only in its task cell: a choice question's choices are listed there, with
  exactly the letters its checker knows. The site's
  version of the notebook (``book/_ext/course_site.py``) wraps each exercise in balanced
  sphinx-exercise gated directives, labels unique in the whole book, with a folded solution.
- Run top to bottom as committed (the site build's run, read back from its cache,
  ``_build/.jupyter_cache``), a notebook shows no solution outside the cells the site adds.
- Solutions: each notebook is executed with every stub replaced by the reference solution of
  its question (the code that ``solution()`` shows); every check must then pass. nbval runs
  the notebooks as committed (stubs unattempted) in ``make test``.
"""

import importlib
import os
import re
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import CHAPTERS, ChoiceQuestion

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "book" / "exercises"
STEMS = {name: name.removeprefix("ch") for name in CHAPTERS}


def load(name):
    return nbformat.read(EXERCISES / f"{STEMS[name]}.ipynb", as_version=4)


def questions(name):
    return importlib.import_module(f"helpers.exercises.{name}").QUESTIONS


def stub_cells(nb):
    return [c for c in nb.cells if "exercise-stub" in c.metadata.get("tags", [])]


def task_cell(nb, question):
    """The index of ``question``'s task cell in ``nb``."""
    tasks = [
        i
        for i, c in enumerate(nb.cells)
        if "exercise-task" in c.metadata.get("tags", []) and c.metadata.exercise == question.name
    ]
    assert len(tasks) == 1, f"{question.name}: {len(tasks)} task cells"
    return tasks[0]


def test_every_chapter_notebook_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for stem in STEMS.values():
        assert (EXERCISES / f"{stem}.ipynb").exists(), stem
        assert f"file: book/exercises/{stem}\n" in toc, stem


@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_structure(name):
    nb = load(name)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    first = nb.cells[0].source
    assert first.startswith("# Exercises: ")
    chapter = STEMS[name]
    assert f"](../{chapter}.ipynb)" in first, "link back to the chapter"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "outputs committed"
    setup = [c for c in nb.cells if c.cell_type == "code"][1].source  # after the import guard
    assert f"from helpers.exercises.{name} import" in setup

    sources = [c.source for c in nb.cells]
    stubs = stub_cells(nb)
    assert [c.metadata["exercise"] for c in stubs] == [q.name for q in questions(name)]
    tasks = [c for c in nb.cells if "exercise-task" in c.metadata.get("tags", [])]
    assert [c.metadata["exercise"] for c in tasks] == [q.name for q in questions(name)]
    for q in questions(name):
        task = task_cell(nb, q)
        assert nb.cells[task].cell_type == "markdown"
        assert sources[task].startswith(f"## {q.name}: "), "the task starts with its title"
        assert nb.cells[task + 1] in stubs, "the stub follows the task"
        assert sources[task + 2].startswith(f"{q.name}.check("), "the check follows the stub"
    # In Jupyter: no directive fences as raw text, and no cell that prints a solution.
    assert not [s for s in sources if re.search(r"\{(exercise|solution)-(start|end)\}", s)]
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert not [s for s in code if re.search(r"^q\d+\.solution\(", s, re.MULTILINE)]


@pytest.mark.parametrize("name", CHAPTERS)
def test_choices_are_the_letters_the_checker_knows(name):
    # The choices are written once, in the task cell; the checker knows only their letters,
    # why each is right or wrong, and the answer. They must be the same letters, in order.
    nb = load(name)
    for q in questions(name):
        if not isinstance(q, ChoiceQuestion):
            continue
        task = nb.cells[task_cell(nb, q)].source
        listed = re.findall(r"^- \*\*\(([a-z])\)\*\* \S", task, re.MULTILINE)
        assert listed == q.letters, f"{q.name}: the task lists {listed}, the checker {q.letters}"
        assert task.count("**(") == len(listed), f"{q.name}: a choice not on a line of its own"
        assert nb.cells[task_cell(nb, q) + 1].source.strip() == f"{q.variable} = ____"


@pytest.mark.parametrize("name", CHAPTERS)
def test_site_wraps_each_exercise_and_folds_its_solution(name, course_site):
    number = STEMS[name][:2]
    site = course_site.exercise_cells_for_site(load(name), number)
    sources = ["".join(c["source"]) for c in site["cells"]]
    gates = [m for s in sources for m in re.findall(r"\{(exercise|solution)-(start|end)\}", s)]
    # Gated directives alternate start/end and never nest.
    assert [g[1] for g in gates] == ["start", "end"] * (len(gates) // 2)
    assert len(gates) == 4 * len(questions(name))
    for q in questions(name):
        label = f"ex{number}-{q.name}"
        start = sources.index(next(s for s in sources if f":label: {label}\n" in s))
        assert sources[start].startswith(f"```{{exercise-start}} {q.name}: ")
        solution = sources.index(f"```{{solution-start}} {label}\n:class: dropdown\n```")
        assert sources[solution - 1] == "```{exercise-end}\n```"
        assert sources[solution - 2].startswith(f"{q.name}.check(")
        # The solution shown is the output of q.solution(): the code the tests check.
        assert sources[solution + 1] == f"{q.name}.solution()"
        assert "remove-input" in site["cells"][solution + 1]["metadata"]["tags"]
        assert sources[solution + 2] == "```{solution-end}\n```"


def test_labels_are_unique_in_the_book(course_site):
    labels = []
    for name in CHAPTERS:
        site = course_site.exercise_cells_for_site(load(name), STEMS[name][:2])
        for cell in site["cells"]:
            labels += re.findall(r":label: (\S+)", "".join(cell["source"]))
    assert len(labels) == len(set(labels)) == sum(len(questions(n)) for n in CHAPTERS)


def _execute(nb, monkeypatch):
    from nbclient import NotebookClient

    # The kernel starts in the notebook's folder: make this checkout's helpers importable.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    client = NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(EXERCISES)}}
    )
    client.execute()
    return _output_text(nb.cells, kinds=("text/plain",))


def _output_text(cells, kinds=("text/plain", "text/markdown", "text/html")) -> str:
    """What the cells' outputs show, as text: every representation in ``kinds``."""
    outputs = [o for c in cells if c.cell_type == "code" for o in c.outputs]
    return "\n".join(
        str(o.get("data", {}).get(kind, "")) + str(o.get("text", ""))
        for o in outputs
        for kind in kinds
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_running_the_notebook_shows_no_solution(name, built_site, execute_notebooks):
    # A learner's "Run All": the site build ran each notebook top to bottom (its outputs are in
    # the build's cache), with the solution cells that the site adds. Outside those, no output
    # may show a solution.
    nb = execute_notebooks.executed_notebook(EXERCISES / f"{STEMS[name]}.ipynb")
    code = [c for c in nb.cells if c.cell_type == "code"]
    learner_cells = [c for c in code if not c.get("id", "").endswith("-solution")]
    assert len(learner_cells) == len([c for c in load(name).cells if c.cell_type == "code"])
    text = _output_text(learner_cells)
    assert "Not attempted yet" in text, "the checks did not run"
    for q in questions(name):
        # The task's own text (and stub) may be quoted by a solution without giving it away.
        task = "\n".join(
            c.source for c in load(name).cells if c.metadata.get("exercise") == q.name
        )
        revealing = [
            line.strip()
            for line in q.solution_markdown().splitlines()
            if len(line.strip()) >= 25 and line.strip() not in task
        ]
        assert revealing, f"{q.name}: no line of its solution to look for"
        leaked = [line for line in revealing if line in text]
        assert not leaked, f"{q.name}: the outputs show its solution: {leaked[:2]}"
        solution = next(
            c for c in nb.cells if c.get("id") == f"ex{STEMS[name][:2]}-{q.name}-solution"
        )
        assert revealing[0] in _output_text([solution]), f"{q.name}: the site shows no solution"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_passes_with_reference_solutions(name, monkeypatch):
    nb = load(name)
    by_name = {q.name: q for q in questions(name)}
    for cell in stub_cells(nb):
        cell.source = by_name[cell.metadata["exercise"]].solution_code
    nb.cells.append(
        nbformat.v4.new_code_cell(
            f"from helpers.exercises.{name} import QUESTIONS\n"
            "failed = [q.name for q in QUESTIONS if not q.passed]\n"
            "assert not failed, f'checks that did not pass: {failed}'"
        )
    )
    text = _execute(nb, monkeypatch)
    assert "Not quite" not in text and "Error:" not in text, text
    assert text.count("Correct:") == len(by_name)
