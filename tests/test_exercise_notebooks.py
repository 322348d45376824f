"""Tests of the exercise notebooks ``book/exercises/NN_topic.ipynb``.

- Structure: one notebook per chapter, listed in ``_toc.yml``, committed without outputs; each
  question of the chapter module has a stub cell (tagged ``exercise-stub``), a check cell,
  and a solution cell inside balanced sphinx-exercise gated directives whose labels are
  unique in the whole book.
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

from helpers.exercises import CHAPTERS
from helpers.exercises.core import ChoiceQuestion

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "book" / "exercises"
STEMS = {name: name.removeprefix("ch") for name in CHAPTERS}


def load(name):
    return nbformat.read(EXERCISES / f"{STEMS[name]}.ipynb", as_version=4)


def questions(name):
    return importlib.import_module(f"helpers.exercises.{name}").QUESTIONS


def stub_cells(nb):
    return [c for c in nb.cells if "exercise-stub" in c.metadata.get("tags", [])]


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
    setup = nb.cells[1].source
    assert f"from helpers.exercises.{name} import" in setup

    sources = [c.source for c in nb.cells]
    number = chapter[:2]
    stubs = stub_cells(nb)
    assert [c.metadata["exercise"] for c in stubs] == [q.name for q in questions(name)]
    for q in questions(name):
        label = f"ex{number}-{q.name}"
        start = sources.index(next(s for s in sources if f":label: {label}\n" in s))
        assert sources[start].startswith("```{exercise-start}")
        stub = next(i for i, c in enumerate(nb.cells) if c.metadata.get("exercise") == q.name)
        assert stub == start + 1
        assert sources[stub + 1].startswith(f"{q.name}.check(")
        assert sources[stub + 2] == "```{exercise-end}\n```"
        assert sources[stub + 3] == f"```{{solution-start}} {label}\n:class: dropdown\n```"
        assert sources[stub + 4] == f"{q.name}.solution()"
        assert "remove-input" in nb.cells[stub + 4].metadata.get("tags", [])
        assert sources[stub + 5] == "```{solution-end}\n```"
        if isinstance(q, ChoiceQuestion):
            text = sources[start]
            for letter, choice in q.choices.items():
                assert f"**({letter})** {choice}" in text, (q.name, letter)
            assert sources[stub].strip() == f"{q.variable} = ____"
    # Gated directives alternate start/end and never nest.
    gates = [m for s in sources for m in re.findall(r"\{(exercise|solution)-(start|end)\}", s)]
    assert [g[1] for g in gates] == ["start", "end"] * (len(gates) // 2)


def test_labels_are_unique_in_the_book():
    labels = []
    for name in CHAPTERS:
        for cell in load(name).cells:
            labels += re.findall(r":label: (\S+)", cell.source)
    assert len(labels) == len(set(labels))


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_notebook_passes_with_reference_solutions(name, monkeypatch):
    from nbclient import NotebookClient

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
    # The kernel starts in the notebook's folder: make this checkout's helpers importable.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    client = NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(EXERCISES)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "Not quite" not in text and "Error:" not in text, text
    assert text.count("Correct:") == len(by_name)
