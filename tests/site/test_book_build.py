"""The book builds with warnings as errors, and its pages carry their figures."""

from __future__ import annotations

import re

import pytest

from tests.conftest import toc_docnames

pytestmark = pytest.mark.slow


def test_build_succeeds_without_warnings(site_build):
    log = site_build.log
    # Sphinx reports problems as "file:line: WARNING: ..." (kernels' own log lines differ).
    problems = [
        line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)
    ]
    assert site_build.returncode == 0, "jupyter-book build failed:\n" + log[-4000:]
    assert not problems, "the build printed warnings:\n" + "\n".join(problems[:30])


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
