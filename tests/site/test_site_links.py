"""No broken internal link or cross-reference in the built site, and helpers link to the API.

An equivalent of ``sphinx-build -b linkcheck`` restricted to the site itself (external hosts
are not contacted: the course is built and tested offline): every ``href``/``src``/``srcset``
in every HTML page that points inside the site must name an existing file, and every
``#fragment`` must be an ``id`` (or ``<a name>``) in the target page. And every chapter and
exercise page links each helper its notebook imports to that helper's entry on the API page.
"""

from __future__ import annotations

import ast
import functools
import json
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import ROOT, site_pages

pytestmark = pytest.mark.slow

URL_ATTRIBUTES = {"href", "src", "srcset", "data", "poster", "action"}
# <a href="#">, <form action="#n"> and similar placeholders used by scripts.
PLACEHOLDER_FRAGMENTS = {"", "n", "top"}


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for attr in URL_ATTRIBUTES & a.keys():
            if attr == "srcset":
                urls = [part.split()[0] for part in a[attr].split(",") if part.strip()]
            else:
                urls = [a[attr]]
            self.links += [(tag, attr, url.strip()) for url in urls]
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            match = re.search(r"url=(.+)", a.get("content", ""), re.IGNORECASE)
            if match:
                self.links.append((tag, "content", match.group(1).strip("'\" ")))


@functools.cache
def parse(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(errors="replace"))
    return parser


def is_internal(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith("//"))


def broken_links(html_dir: Path, page: str) -> list[str]:
    """Describe every broken internal link of ``page``."""
    path = html_dir / page
    problems = []
    for tag, attr, url in parse(path).links:
        if not is_internal(url):
            continue
        parts = urlsplit(url)
        target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            shown = target.relative_to(html_dir) if target.is_relative_to(html_dir) else target
            problems.append(f"<{tag} {attr}={url!r}>: no file {shown}")
            continue
        fragment = unquote(parts.fragment)
        if fragment in PLACEHOLDER_FRAGMENTS or target.suffix != ".html":
            continue
        if fragment not in parse(target).ids:
            where = "this page" if target == path else target.relative_to(html_dir).as_posix()
            problems.append(f"<{tag} {attr}={url!r}>: no id {fragment!r} in {where}")
    return problems


def test_internal_links(built_site, site_page):
    assert (built_site / site_page).is_file(), f"{site_page} was not built"
    problems = broken_links(built_site, site_page)
    assert not problems, f"{len(problems)} broken links in {site_page}:\n" + "\n".join(problems)


def test_index_redirects_to_the_first_page(built_site, toc_pages):
    index = parse(built_site / "index.html")
    targets = [url for _, attr, url in index.links if attr == "content"]
    assert targets == [toc_pages[0]], f"index.html should redirect to {toc_pages[0]}"
    assert not broken_links(built_site, "index.html")


def test_every_built_page_is_tested(built_site, site_report, all_pages):
    """The browser tests open the pages of the toc: the site must have no others."""
    built = set(site_report.html_pages(built_site)) - {"index.html"}
    expected = set(all_pages)
    assert built == expected, (
        f"pages built but not in the toc: {sorted(built - expected)}; "
        f"in the toc but not built: {sorted(expected - built)}"
    )


API_PAGE = "book/api.html"
HELPER_MODULE = re.compile(r"helpers(?!\.exercises)(\.\w+)*")
NOTEBOOK_PAGES = [page for page in site_pages() if (ROOT / page).with_suffix(".ipynb").is_file()]


def imported_helpers(notebook: Path) -> set[str]:
    """The full names of the helpers a notebook imports, ``from helpers.x import y`` style.

    The exercise checkers (``helpers.exercises``) are left out: they hold the solutions, so the
    API page does not list them.
    """
    code = "\n".join(
        "".join(cell["source"])
        for cell in json.loads(notebook.read_text())["cells"]
        if cell["cell_type"] == "code"
    )
    names = set()
    for node in ast.walk(ast.parse(code)):
        module = getattr(node, "module", None) or ""
        if isinstance(node, ast.ImportFrom) and HELPER_MODULE.fullmatch(module):
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_a_page_links_the_helpers_it_imports_to_the_api_page(built_site, root, page):
    notebook = (root / page).with_suffix(".ipynb")
    here = posixpath.dirname(page)
    linked = {
        unquote(urlsplit(url).fragment).removeprefix("module-")
        for tag, attr, url in parse(built_site / page).links
        if tag == "a" and posixpath.normpath(posixpath.join(here, urlsplit(url).path)) == API_PAGE
    }
    missing = sorted(imported_helpers(notebook) - linked)
    assert not missing, f"{page} imports {missing} but does not link them to the API page"
