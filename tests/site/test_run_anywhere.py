"""The course runs outside the repository, as a learner who downloaded it runs it.

The site offers the wheel of the ``helpers`` distribution and a "whole course" archive
(``book/_ext/course_site.py`` builds both). Here: build them, unzip the archive into a temporary
folder outside the repository, create a fresh virtual environment there, install the archive's
requirements but Jupyter Lab (the pip cache may serve them), and execute a chapter and an
exercise notebook with zero errors. Before the wheel is installed, a notebook's first cell
stops with one clear message that names the pip line.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("[0-9][0-9]_*.ipynb"))
# Every notebook's first code cell.
GUARD = """from importlib.util import find_spec

if find_spec("helpers") is None:  # the course's shared code
    raise ModuleNotFoundError(
        "This notebook needs the course's helpers package. Download its wheel from the page "
        "'Run the notebooks' of the course website, then, in the wheel's folder, run: "
        "pip install --extra-index-url https://download.pytorch.org/whl/cpu "
        "onn_course_helpers-*.whl"
    )
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_code_cell_imports_helpers_or_says_how_to_install_them(path):
    # Its own cell, folded on the site (hide-input), so that it does not crowd the page.
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert first.source == GUARD.rstrip("\n"), f"{path.name}: the first code cell is not the guard"
    assert "hide-input" in first.metadata.get("tags", []), f"{path.name}: the guard is not folded"


def _pip(venv: Path, *args: str) -> None:
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
        check=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def learner(tmp_path_factory, course_site):
    """An unzipped course archive and a fresh venv with its requirements but not the wheel."""
    where = tmp_path_factory.mktemp("learner")
    assert not where.is_relative_to(ROOT)
    wheel = course_site.build_wheel(where / "dist")
    with zipfile.ZipFile(course_site.build_archive(wheel, where / "dist")) as archive:
        archive.extractall(where)
    folder = where / course_site.ARCHIVE_NAME
    venv = where / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    requirements = (folder / "requirements.txt").read_text().splitlines()
    # Everything but the wheel (installed later) and Jupyter Lab (nbclient runs the kernel).
    needed = [r for r in requirements if r and not r.startswith(("#", "./", "jupyterlab"))]
    _pip(venv, *needed)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "ipykernel", "install", "--sys-prefix"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder, venv


def _execute(nb, folder: Path, venv: Path, monkeypatch) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(venv / "share" / "jupyter"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(folder)}}
    ).execute()


@pytest.mark.slow
def test_downloaded_course_runs_in_a_fresh_environment(learner, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    folder, venv = learner
    chapter = nbformat.read(folder / "01_gradient_descent.ipynb", as_version=4)
    first = next(c for c in chapter.cells if c.cell_type == "code")
    # Without the wheel: one clear message naming the pip line, and nothing else runs.
    with pytest.raises(CellExecutionError) as stopped:
        _execute(nbformat.v4.new_notebook(cells=[first]), folder, venv, monkeypatch)
    assert "needs the course's helpers package" in str(stopped.value)
    assert "pip install" in str(stopped.value) and "onn_course_helpers" in str(stopped.value)

    _pip(venv, str(next(folder.glob("onn_course_helpers-*.whl"))))
    where = nbformat.v4.new_code_cell("import helpers; print(helpers.__file__)")
    chapter.cells.append(where)
    _execute(chapter, folder, venv, monkeypatch)
    assert str(venv) in where.outputs[0]["text"], "helpers came from somewhere else"
    assert not [o for c in chapter.cells for o in c.get("outputs", []) if o.output_type == "error"]

    exercises = nbformat.read(folder / "exercises" / "05_adaptive_methods.ipynb", as_version=4)
    _execute(exercises, folder / "exercises", venv, monkeypatch)
    outputs = [o for c in exercises.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "Not attempted yet" in str(outputs), "the checks did not run"


def test_the_wheel_asks_only_for_loose_lower_bounds():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] != "helpers", "the PyPI project 'helpers' is somebody else's"
    for requirement in project["dependencies"]:
        assert ">=" in requirement and "==" not in requirement, requirement
