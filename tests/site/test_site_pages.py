"""The site's own pages and files, read from the build (no browser needed).

- the intro's contents list every page of ``_toc.yml``, in order, each with a description;
- the execution-statistics page names notebooks by their titles, not their paths;
- a favicon is linked from every page and served at the root (``/favicon.ico``);
- no page loads Font Awesome's 1.5 MB JavaScript (its stylesheet draws the icons);
- the PDF of the book is there when the build printed one, and is a real book.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import ROOT, toc_docnames

INTRO = ROOT / "book" / "intro.md"
# A Markdown list item that links a page: "- [Title](target): description".
CONTENTS_ITEM = re.compile(r"^- \[(?P<title>[^\]]+)\]\((?P<target>[^)\s]+)\)(?P<rest>.*)$")
MIN_DESCRIPTION_WORDS = 6


def contents_items(intro: str) -> list[tuple[str, str]]:
    """(target docname, description) of each item of the intro's Contents section."""
    section = intro.split("\n## Contents\n", 1)[1].split("\n## ", 1)[0]
    items, current = [], None
    for line in section.splitlines():
        match = CONTENTS_ITEM.match(line)
        if match:
            target = "book/" + str(Path(match["target"]).with_suffix(""))
            current = [target, match["rest"]]
            items.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current[1] += " " + line.strip()
        else:
            current = None
    return [(target, rest.lstrip(": ").strip()) for target, rest in items]


def test_intro_lists_every_page_of_the_toc_in_order():
    items = contents_items(INTRO.read_text())
    listed = [target for target, _ in items]
    pages = toc_docnames()[1:]  # the intro itself is not listed
    missing = [p for p in pages if p not in listed]
    assert not missing, f"pages of _toc.yml missing from the intro's Contents: {missing}"
    extra = [p for p in listed if p not in pages]
    assert not extra, f"the intro's Contents lists pages that are not in _toc.yml: {extra}"
    assert listed == pages, "the intro's Contents is not in the order of _toc.yml"


def test_every_intro_entry_has_a_description():
    short = [
        (target, description)
        for target, description in contents_items(INTRO.read_text())
        if len(description.split()) < MIN_DESCRIPTION_WORDS
    ]
    assert not short, f"entries without a one-line description: {short}"


def test_contents_items_are_parsed():
    # The parser the two tests above rely on: an item, its continuation line, the next item.
    text = (
        "# T\n\n## Contents\n\n- [A](01_a.ipynb): one two\n  three.\n"
        "- [B](exercises/01_a.ipynb): four\n\n## Next\n- [C](c.md): no\n"
    )
    assert contents_items(text) == [
        ("book/01_a", "one two three."),
        ("book/exercises/01_a", "four"),
    ]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []
        self.scripts: list[str] = []
        self.table_links: list[str] = []
        self._table_depth = 0
        self._in_link = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link":
            self.links.append(a)
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "table":
            self._table_depth += 1
        if tag == "a" and self._table_depth:
            self._in_link = True
            self.table_links.append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table_depth -= 1
        if tag == "a":
            self._in_link = False

    def handle_data(self, data):
        if self._in_link:
            self.table_links[-1] += data


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text())
    return parser


def test_execution_statistics_name_notebooks_by_title(built_site):
    page = built_site / "book" / "exec_stats.html"
    if not page.is_file():
        pytest.skip("this build has no execution-statistics page")
    names = [name.strip() for name in _parse(page).table_links]
    assert names, "the execution-statistics table links no notebook"
    paths = [name for name in names if "/" in name or re.match(r"\d\d_", name)]
    assert not paths, f"notebooks named by their paths, not their titles: {paths}"


def test_favicon_linked_and_served_at_the_root(built_site):
    assert (built_site / "favicon.ico").stat().st_size > 100, "no favicon.ico at the root"
    page = built_site / "book" / "intro.html"
    icons = [link for link in _parse(page).links if "icon" in (link.get("rel") or "").split()]
    assert icons, "the pages link no favicon"
    for icon in icons:
        assert (page.parent / icon["href"]).resolve().is_file(), icon


def test_no_page_loads_font_awesome_javascript(built_site, all_pages):
    heavy = [
        page
        for page in all_pages
        if (built_site / page).is_file()
        and any("fontawesome" in src for src in _parse(built_site / page).scripts)
    ]
    assert not heavy, f"pages that load Font Awesome's JavaScript: {heavy}"
    stylesheet = list((built_site / "_static" / "vendor").glob("fontawesome/*/css/all.min.css"))
    assert stylesheet, "Font Awesome's stylesheet, which draws the icons, is gone"


def test_the_pdf_is_a_book(built_site, course_site, toc_pages):
    pdf = built_site / course_site.PDF_FOLDER / course_site.PDF_NAME
    intro = (built_site / "book" / "intro.html").read_text()
    linked = f"../{course_site.PDF_FOLDER}/{course_site.PDF_NAME}" in intro
    if not pdf.is_file():
        assert not linked, "the intro links a PDF that the build did not make"
        pytest.skip("this build printed no PDF (no Chromium, or COURSE_PDF=0)")
    assert linked, "the build made a PDF, but the intro does not link it"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-"), "not a PDF"
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    # At least two printed pages per page of the book (a title, text and figures).
    assert pages >= 2 * len(toc_pages), f"the PDF has {pages} pages for {len(toc_pages)} pages"
    assert b"/Outlines" in data, "the PDF has no outline (bookmarks) of its chapters"


def test_the_pdf_within_its_budget(built_site, site_report):
    size = site_report.pdf_bytes(built_site)
    assert size < site_report.PDF_BUDGET, (
        f"the PDF weighs {size / 1e6:.1f} MB; its budget is {site_report.PDF_BUDGET / 1e6:.0f} MB"
    )
