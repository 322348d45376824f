"""Notebooks are committed clean, run on the course kernel and are all in the table of contents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import toc_docnames

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_uses_the_python3_kernel(path):
    kernelspec = json.loads(path.read_text())["metadata"].get("kernelspec", {})
    assert kernelspec.get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_listed_in_the_toc(path):
    listed = set(toc_docnames())
    assert str(path.relative_to(ROOT).with_suffix("")) in listed, f"{path.name} is not in _toc.yml"


def test_every_toc_entry_exists():
    missing = [
        f
        for f in toc_docnames()
        if not any((ROOT / f).with_suffix(s).exists() for s in (".ipynb", ".md"))
    ]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


CHAPTERS = [p for p in NOTEBOOKS if p.parent.name == "book"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_backs_its_claims_with_hidden_asserts(path):
    cells = json.loads(path.read_text())["cells"]
    hidden_asserts = [
        c
        for c in cells
        if c["cell_type"] == "code"
        and "remove-cell" in c.get("metadata", {}).get("tags", [])
        and "assert " in "".join(c["source"])
    ]
    assert len(hidden_asserts) >= 3, f"{path.name}: {len(hidden_asserts)} hidden assert cells"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_cell_has_alt_text(path):
    cells = json.loads(path.read_text())["cells"]
    plotting = [
        c for c in cells if c["cell_type"] == "code" and "plt.show()" in "".join(c["source"])
    ]
    missing = [
        "".join(c["source"]).splitlines()[0]
        for c in plotting
        if not c.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    ]
    assert len(plotting) >= 4, f"{path.name}: {len(plotting)} figure cells, expected at least 4"
    assert not missing, f"{path.name}: figure cells without alt text: {missing}"
