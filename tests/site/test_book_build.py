"""The book builds with warnings as errors, and its pages carry their figures."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, toc_docnames

pytestmark = pytest.mark.slow


def test_build_succeeds_without_warnings(site_build):
    log = site_build.log
    # Sphinx reports problems as "file:line: WARNING: ..." (kernels' own log lines differ).
    problems = [
        line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)
    ]
    assert site_build.returncode == 0, "jupyter-book build failed:\n" + log[-4000:]
    assert not problems, "the build printed warnings:\n" + "\n".join(problems[:30])


def test_the_book_build_reads_every_notebook_from_the_cache(site_build):
    # book/_ext/execute_notebooks.py executed every notebook, one per core, as the build would
    # have executed it; a notebook that the build executes again (its code, or the site's
    # version of an exercise notebook, hashed differently) runs twice and on one core.
    log = site_build.log
    if not log:
        pytest.skip("no build log: SITE_ALREADY_BUILT=1 tests a site built before this run")
    notebooks = [f for f in toc_docnames() if (ROOT / f"{f}.ipynb").is_file()]
    executed_again = re.findall(r"(\S+\.ipynb): Executing notebook", log)
    cached = set(re.findall(r"(\S+)\.ipynb: Using cached notebook", log))
    assert not executed_again, f"the book build executed these notebooks again: {executed_again}"
    assert cached == {str(ROOT / f) for f in notebooks}


def test_every_toc_page_is_rendered(built_site, root):
    missing = [f for f in toc_docnames() if not (built_site / f"{f}.html").exists()]
    assert (built_site / "index.html").exists()
    assert not missing, f"pages missing from the site: {missing}"


def test_chapter_pages_show_their_figures(built_site, root):
    chapters = [f for f in toc_docnames() if re.match(r"book/\d\d_", f)]
    assert chapters, "no chapter notebooks in _toc.yml"
    for chapter in chapters:
        page = (built_site / f"{chapter}.html").read_text()
        images = re.findall(r"<img [^>]*src=\"[^\"]*_images/[^\"]+\.png\"", page)
        assert len(images) >= 4, f"{chapter} shows {len(images)} figures, expected at least 4"
        assert "Traceback" not in page, f"{chapter} shows a traceback"
