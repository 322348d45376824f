"""The website for every reader: readable figures, dark mode, phones (Chromium, Playwright).

- **Figures a reader can read.** Every figure is measured as it is displayed on a 1280 px
  desktop: each PNG that ``helpers.plotting.set_style`` made records its smallest text size
  in points (``SMALLEST_TEXT_KEY``) and its resolution (pHYs), and the browser gives the size
  at which it is shown, so its smallest text in CSS pixels is known. It must be at least
  80 % of the body text, and the figure must have twice the pixels it is shown with (crisp
  on high-DPI screens). A summary of every figure goes to ``_build/figure-report.json``.
- **Dark mode.** axe-core, with its colour-contrast rule, finds nothing serious or critical
  on any page in dark mode (the light-mode run is in ``test_site_browser.py``).
- **Phones.** At 390 px no wide equation, table or code block is cut off: each one that is
  wider than its column scrolls in a box of its own, inside the column, that the keyboard
  can reach (and equations and tables show a scroll shadow); the page itself never scrolls
  sideways.
- **Toggles.** Every "show code" toggle opens its code, at 1280 and 390 px (the header's
  toggles are clicked in ``test_site_browser.py``).
- **Search** results show formulas as text, not raw TeX.

The fixtures (Chromium, the local server) are those of ``test_site_browser.py``.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from helpers.plotting import SMALLEST_TEXT_KEY
from tests.site import test_site_browser as _browser_tests
from tests.site.test_site_browser import BLOCKING_IMPACTS, TIMEOUT_MS, route_only_local

# The browser and the local server of test_site_browser.py, as fixtures of this module too.
chromium = _browser_tests.chromium
browser = _browser_tests.browser
server = _browser_tests.server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: No figure text smaller than this fraction of the body text, as displayed on a desktop.
MIN_TEXT_RATIO = 0.8
#: A figure has at least this many image pixels per displayed CSS pixel.
MIN_PIXEL_RATIO = 2.0


def _context(browser, server, viewport, scheme="light"):
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    context.set_default_timeout(TIMEOUT_MS)
    route_only_local(context, server)
    return context


@pytest.fixture(scope="module")
def desktop(browser, server):
    context = _context(browser, server, DESKTOP)
    yield context
    context.close()


@pytest.fixture(scope="module")
def dark_desktop(browser, server):
    context = _context(browser, server, DESKTOP, scheme="dark")
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone(browser, server):
    context = _context(browser, server, PHONE)
    yield context
    context.close()


def _open(context, server, site_page):
    page = context.new_page()
    page.goto(server + site_page, wait_until="load")
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise;"
        " await document.fonts.ready; }"
    )
    page.wait_for_load_state("networkidle")
    return page


# -- figures ------------------------------------------------------------------------------


def png_facts(data: bytes) -> dict:
    """Width, height, dots per inch and text fields of a PNG (read from its chunks)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return {}
    facts, text, offset = {}, {}, 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            facts["width"], facts["height"] = struct.unpack(">II", body[:8])
        elif kind == b"pHYs" and body[8] == 1:  # pixels per metre
            facts["dpi"] = struct.unpack(">I", body[:4])[0] * 0.0254
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, value = body.partition(b"\0")
            text[key.decode("latin-1")] = zlib.decompress(value[1:]).decode("latin-1")
        elif kind == b"IEND":
            break
        offset += 12 + length
    facts["text"] = text
    return facts


FIGURES_JS = """
() => {
  const p = document.querySelector('.bd-article p');
  const body = parseFloat(getComputedStyle(p || document.body).fontSize);
  return {body, figures: [...document.querySelectorAll('.bd-article .cell_output img')]
    .map((img, index) => ({
      index, src: img.getAttribute('src') || '', alt: (img.getAttribute('alt') || '').slice(0, 70),
      natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
      animation: !!img.closest('.animation')
          || (img.getAttribute('src') || '').startsWith('data:'),
    }))};
}
"""

_figure_reports: dict[str, list[dict]] = {}


def measure_figures(page, page_file: Path) -> tuple[float, list[dict]]:
    """Each figure of the open page: how big its smallest text is shown, in CSS px."""
    found = page.evaluate(FIGURES_JS)
    figures = []
    for figure in found["figures"]:
        facts = {}
        if not figure["src"].startswith("data:"):
            path = page_file.parent / unquote(urlsplit(figure["src"]).path)
            facts = png_facts(path.read_bytes()) if path.is_file() else {}
        scale = figure["shown"] / figure["natural"] if figure["natural"] else 0.0
        smallest_pt = facts.get("text", {}).get(SMALLEST_TEXT_KEY)
        dpi = facts.get("dpi")
        figure.update(
            pixel_ratio=round(1 / scale, 2) if scale else None,
            smallest_pt=float(smallest_pt) if smallest_pt else None,
            dpi=round(dpi) if dpi else None,
        )
        if smallest_pt and dpi:
            figure["smallest_px"] = round(float(smallest_pt) * dpi / 72 * scale, 1)
        figures.append(figure)
    return found["body"], figures


def _figure_problems(body: float, figures: list[dict]) -> list[str]:
    problems = []
    for f in figures:
        name = f"figure {f['index'] + 1} ({f['alt'] or f['src'][-24:]})"
        if f["animation"]:
            # An animation's frames are JPEGs drawn by the player: only their scale is known.
            if f["pixel_ratio"] and f["pixel_ratio"] < 1:
                problems.append(f"{name}: an animation shown at {1 / f['pixel_ratio']:.2f}x")
            continue
        if f.get("smallest_px") is None:
            problems.append(
                f"{name}: no text size recorded (not drawn after helpers.plotting.set_style())"
            )
            continue
        if f["smallest_px"] < MIN_TEXT_RATIO * body:
            problems.append(
                f"{name}: smallest text {f['smallest_px']:.1f} px ({f['smallest_pt']:g} pt "
                f"at {f['dpi']} dpi, shown at {100 / f['pixel_ratio']:.0f} % of its pixels), "
                f"under {MIN_TEXT_RATIO:.0%} of the {body:g} px body text: use a FIGSIZE size "
                "and the style's font sizes (no fontsize below 10)"
            )
        if f["pixel_ratio"] < MIN_PIXEL_RATIO - 0.01:
            problems.append(f"{name}: only {f['pixel_ratio']:.2f} image pixels per CSS pixel")
    return problems


def test_figures_are_readable_on_a_desktop(desktop, server, built_site, site_page):
    page = _open(desktop, server, site_page)
    try:
        body, figures = measure_figures(page, built_site / site_page)
    finally:
        page.close()
    _figure_reports[site_page] = figures
    report = built_site.parent / "figure-report.json"
    report.write_text(json.dumps(_figure_reports, indent=1))
    problems = _figure_problems(body, figures)
    assert not problems, f"{site_page}: figures too small to read:\n" + "\n".join(problems)


def test_png_facts_reads_size_resolution_and_text():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 1), dpi=100)
    fig.add_subplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200, metadata={SMALLEST_TEXT_KEY: "9.5"})
    plt.close(fig)
    facts = png_facts(buffer.getvalue())
    assert (facts["width"], facts["height"]) == (400, 200)
    assert round(facts["dpi"]) == 200
    assert facts["text"][SMALLEST_TEXT_KEY] == "9.5"


def test_figure_problems_are_found():
    body = 16.0
    good = {"index": 0, "alt": "a", "src": "a.png", "animation": False, "pixel_ratio": 2.0,
            "smallest_pt": 10.0, "dpi": 200, "smallest_px": 13.9}  # fmt: skip
    assert _figure_problems(body, [good]) == []
    small = {**good, "smallest_pt": 8.0, "smallest_px": 11.1}
    blurry = {**good, "pixel_ratio": 1.0, "smallest_px": 27.8}
    unknown = {**good, "smallest_px": None}
    assert len(_figure_problems(body, [small, blurry, unknown])) == 3


# -- dark mode ----------------------------------------------------------------------------


def test_dark_mode_accessibility_with_colour_contrast(dark_desktop, server, site_page):
    from axe_playwright_python.sync_playwright import Axe

    page = _open(dark_desktop, server, site_page)
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}).response  # fmt: skip
    finally:
        page.close()
    ran = {rule["id"] for kind in ("passes", "violations", "incomplete") for rule in results[kind]}
    assert "color-contrast" in ran, "axe did not run its colour-contrast rule"
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{site_page} in dark mode:\n" + "\n".join(
        f"[{v['impact']}] {v['id']}: {v['help']} at "
        f"{[' '.join(map(str, n['target'])) for n in v['nodes']][:6]}"
        for v in blocking
    )


# -- phones: nothing cut off ----------------------------------------------------------------

WIDE_CONTENT_JS = """
() => {
  const article = document.querySelector('.bd-article') || document.querySelector('main')
      || document.body;
  const column = article.getBoundingClientRect();
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const describe = el => el.tagName.toLowerCase() + ': '
      + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
  const problems = [];
  const selector = 'mjx-container[display="true"], table, pre';
  for (const el of article.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!box.width || el.closest('.toggle-hidden, details:not([open])')) continue;
    let container = el;
    while (container && container !== article && !scrolls(container)) {
      container = container.parentElement;
    }
    if (!container || container === article) {
      if (box.right > column.right + 1 || box.left < column.left - 1) {
        problems.push(describe(el) + ' is cut off: it has no scroll container');
      }
      continue;
    }
    if (container.scrollWidth <= container.clientWidth + 1) continue;  // it fits
    const outer = container.getBoundingClientRect();
    if (outer.right > column.right + 1) {
      problems.push(describe(el) + ' scrolls in a box wider than the column');
    }
    if (container.tabIndex < 0) {
      problems.push(describe(el) + ' scrolls, but the keyboard cannot reach it');
    }
    const hinted = el.tagName === 'PRE' || getComputedStyle(container).backgroundImage !== 'none';
    if (!hinted) problems.push(describe(el) + ' scrolls without a scroll shadow');
  }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) {
    problems.push(`the page scrolls sideways (${page.scrollWidth} px wide)`);
  }
  return problems;
}
"""


def test_nothing_cut_off_on_a_phone(phone, server, site_page):
    page = _open(phone, server, site_page)
    try:
        page.wait_for_timeout(300)  # course.js marks the scroll boxes after MathJax
        problems = page.evaluate(WIDE_CONTENT_JS)
    finally:
        page.close()
    assert not problems, f"{site_page} at 390 px:\n" + "\n".join(problems)


# -- toggles --------------------------------------------------------------------------------


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_show_code_toggles_open_their_code(request, screen, server, toc_pages):
    context = request.getfixturevalue(screen)
    chapters = [p for p in toc_pages if re.match(r"book/\d\d_", p)]
    opened = 0
    for chapter in chapters:
        page = _open(context, server, chapter)
        try:
            toggles = page.locator("details.hide.above-input > summary")
            for i in range(toggles.count()):
                toggle = toggles.nth(i)
                code = toggle.locator("xpath=..").locator(".cell_input").first
                assert not code.is_visible(), f"{chapter}: folded code {i} is shown at first"
                toggle.scroll_into_view_if_needed()
                toggle.click()
                code.wait_for(state="visible", timeout=5_000)
                opened += 1
        finally:
            page.close()
    if not opened:
        pytest.skip("no page of this build has folded code")


# -- search -------------------------------------------------------------------------------


def test_search_results_show_no_raw_tex(desktop, server, toc_pages):
    page = desktop.new_page()
    try:
        page.goto(server + "search.html?q=learning+rate", wait_until="load")
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1000)  # the summaries arrive one page at a time
        text = page.locator("#search-results").inner_text()
    finally:
        page.close()
    raw = re.findall(r"\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]+|\$[^$\s]", text)
    assert not raw, f"raw TeX in the search results: {sorted(set(raw))[:10]}"


def test_tex_is_read_as_text(desktop, server):
    page = desktop.new_page()
    try:
        page.goto(server + "search.html", wait_until="load")
        cases = {
            r"\(\eta < 2/L\)": "η < 2/L",
            r"\(\theta_{t+1} = \theta_t - \eta \nabla L(\theta_t)\)": "θ_(t+1) = θ_t - η ∇ L(θ_t)",
            r"\(\frac{\sqrt{\kappa}-1}{\sqrt{\kappa}+1}\)": "(√κ-1)/(√κ+1)",
            r"\(\theta \in \mathbb{R}^d\)": "θ ∈ ℝ^d",
        }
        for tex, text in cases.items():
            assert page.evaluate("t => courseSite.texToText(t)", tex) == text
    finally:
        page.close()
