"""The API page lists every public helper, and each docstring names the chapter that introduces it.

``book/api.md`` documents the helpers with Sphinx autodoc (a module's ``:members:`` are its
``__all__``). Here, without building the site: every module of ``helpers`` that a chapter can
import is on the page, and every public name of those modules has a docstring that says
"Introduced in the chapter *Title*." with the title (or its start, before a colon) of a chapter
of the book. The chapters link the helpers they use to these entries
(``tests/site/test_site_links.py``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re

import pytest

import helpers
from tests.conftest import ROOT, toc_docnames

API_PAGE = ROOT / "book" / "api.md"
INTRODUCED = re.compile(r"Introduced in the chapter \*([^*]+)\*")
#: Modules that are not for the chapters' code: the exercise checkers hold the solutions.
NOT_ON_THE_PAGE = ("helpers.exercises",)


def documented_modules() -> list[str]:
    """Modules named by the API page's automodule directives."""
    return re.findall(r"\.\. automodule:: (helpers[\w.]*)", API_PAGE.read_text())


def public_modules() -> list[str]:
    """Modules of helpers whose names have no leading underscore, outside NOT_ON_THE_PAGE."""
    names = [
        info.name
        for info in pkgutil.walk_packages(helpers.__path__, "helpers.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    return [name for name in names if not name.startswith(NOT_ON_THE_PAGE)]


def chapter_titles() -> list[str]:
    """The first heading of every chapter notebook, in reading order."""
    titles = []
    for name in toc_docnames():
        path = ROOT / f"{name}.ipynb"
        if path.is_file() and "/exercises/" not in f"/{name}":
            first = "".join(json.loads(path.read_text())["cells"][0]["source"])
            titles.append(first.splitlines()[0].lstrip("#").strip())
    return titles


def public_names() -> list[tuple[str, str]]:
    """(module, name) for every name in the ``__all__`` of a documented module."""
    pairs = []
    for module_name in documented_modules():
        module = importlib.import_module(module_name)
        pairs += [(module_name, name) for name in module.__all__]
    return pairs


def test_every_public_module_is_on_the_api_page():
    documented = set(documented_modules())
    # a module documented through its package (helpers.optim.muon's names are helpers.optim's)
    covered = {
        name
        for name in public_modules()
        if any(name == doc or name.startswith(f"{doc}.") for doc in documented)
    }
    missing = sorted(set(public_modules()) - covered)
    assert not missing, f"book/api.md has no automodule for {missing}"


@pytest.mark.parametrize(("module_name", "name"), public_names())
def test_a_public_helper_names_the_chapter_that_introduces_it(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    documented_itself = inspect.isclass(obj) or inspect.isroutine(obj) or callable(obj)
    doc = inspect.getdoc(obj) if documented_itself else _attribute_comment(module_name, name)
    assert doc, f"{module_name}.{name} has no docstring"
    match = INTRODUCED.search(doc)
    assert match, (
        f"{module_name}.{name}: its docstring should say 'Introduced in the chapter *…*.'"
    )
    named, titles = " ".join(match[1].split()), chapter_titles()
    assert any(title == named or title.startswith(f"{named}:") for title in titles), (
        f"{module_name}.{name} names the chapter *{named}*, which is not one of {titles}"
    )


def _attribute_comment(module_name: str, name: str) -> str:
    """The ``#:`` comment above a module constant (what autodoc shows for it).

    A package's constant may be defined in one of its modules and imported by the package.
    """
    module = importlib.import_module(module_name)
    modules = [module]
    if hasattr(module, "__path__"):
        modules += [
            importlib.import_module(info.name)
            for info in pkgutil.iter_modules(module.__path__, f"{module_name}.")
        ]
    for candidate in modules:
        source = inspect.getsource(candidate)
        match = re.search(rf"((?:^#:.*\n)+)^{name}\b", source, re.MULTILINE)
        if match:
            return " ".join(line[2:].strip() for line in match[1].splitlines())
    return ""
