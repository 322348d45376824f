"""The website as a learner sees it, in a real browser (Chromium driven by Playwright).

The built site (``_build/html``) is served on 127.0.0.1 and every page is opened once; the
tests below check what that visit recorded:

- no console errors and no failed requests, and nothing loaded from another host (the course
  works offline: requests that leave 127.0.0.1 are blocked and reported);
- MathJax (served by the site itself) has rendered every formula, and no raw ``$`` or ``\\(``
  is left in the text;
- every image has loaded and has alt text (not just its file name);
- axe-core finds no accessibility violation of impact "serious" or "critical";
- exercise solutions are hidden and open on click;
- next/previous navigation walks the whole book in toc order, and search finds "Nesterov".

A full-page screenshot of every page is saved under ``_build/screenshots/`` and a summary of
each visit (axe counts, images, formulas, load time) in ``_build/browser-report.json``.

Chromium comes from the system (Debian: ``apt-get install chromium``); a browser is never
downloaded. Without Chromium these tests are skipped, unless ``REQUIRE_BROWSER=1`` (set by
``.ci/run``), which makes a missing browser a failure. Select them with ``-m browser``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
BLOCKING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}

# Raw TeX that MathJax should have consumed, looked for in the text outside code.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^\s$][^$]*\$")
# Alt text that is really a file name (docutils uses the image's URI when alt is missing).
FILE_NAME_ALT = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)


# -- finding the browser --------------------------------------------------------------


def _missing(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1: a missing browser is a failure here)")
    pytest.skip(reason)


def find_chromium() -> str | None:
    """The system's Chromium: $CHROMIUM_PATH, /usr/bin/chromium or one on the PATH."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), *CHROMIUM_CANDIDATES):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        _missing(
            "Chromium not found: install it (apt-get install chromium) to run the browser tests"
        )
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        _missing(f"{error.name} is not installed: pip install -r requirements.txt")
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


# -- serving the site -----------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server(built_site: Path):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def route_only_local(target, base_url: str, blocked: list[str] | None = None) -> None:
    """Let `target` (a browser context or a page) load only from `base_url`'s server.

    ``data:`` URLs load too; every other request is aborted (the site must work offline),
    and its URL appended to `blocked` if one is given.
    """
    host = urlsplit(base_url).netloc

    def route(request_route):
        url = request_route.request.url
        if url.startswith("data:") or urlsplit(url).netloc == host:
            request_route.continue_()
            return
        if blocked is not None:
            blocked.append(url)
        request_route.abort("blockedbyclient")

    target.route("**/*", route)


@pytest.fixture(scope="module")
def context(browser, server):
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    context.set_default_timeout(TIMEOUT_MS)
    context.external_requests = []
    route_only_local(context, server, blocked=context.external_requests)
    yield context
    context.close()


# -- visiting every page once ---------------------------------------------------------


@dataclass
class Visit:
    """What one page load showed."""

    page: str
    seconds: float = 0.0
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    solutions: list[dict] = field(default_factory=list)
    axe_violations: list[dict] = field(default_factory=list)
    axe_passes: int = 0
    screenshot: str = ""

    def axe_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("critical", "serious", "moderate", "minor"), 0)
        for violation in self.axe_violations:
            counts[violation["impact"] or "minor"] += 1
        return counts


MATH_STATE_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
  const maths = [...document.querySelectorAll('.math')];
  const unrendered = maths.filter(m => !m.querySelector('mjx-container'))
                          .map(m => m.textContent.trim().slice(0, 80));
  const errors = [...document.querySelectorAll('mjx-merror')]
      .map(e => e.getAttribute('data-mjx-error') || e.textContent);
  const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && !node.parentElement.closest(skip) && node.textContent.trim()) {
      texts.push(node.textContent);
    }
  }
  return {
    loaded: !!(window.MathJax && MathJax.version),
    version: window.MathJax ? MathJax.version || null : null,
    formulas: maths.length,
    containers: document.querySelectorAll('mjx-container').length,
    unrendered, errors, text: texts.join('\\n'),
  };
}
"""

IMAGES_JS = """
async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(resolve => { img.onload = img.onerror = resolve; })));
  return images.map(img => ({
    src: (img.getAttribute('src') || img.currentSrc || '').slice(0, 120),
    alt: img.getAttribute('alt'),
    loaded: img.complete && img.naturalWidth > 0,
  }));
}
"""


def _check_solutions(page) -> list[dict]:
    """Each dropdown solution: hidden at first, shown after a click on its toggle."""
    results = []
    solutions = page.locator(".solution.dropdown")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator(":scope > :not(.admonition-title)").first
        button = solution.locator(".toggle-button").first
        result = {
            "id": solution.get_attribute("id"),
            "hidden_at_first": not body.is_visible(),
            "has_button": button.count() == 1,
            "shown_after_click": False,
        }
        if result["has_button"]:
            button.click()
            try:
                body.wait_for(state="visible", timeout=5_000)
                result["shown_after_click"] = True
            except Exception:
                pass
            result["aria_expanded"] = button.get_attribute("aria-expanded")
        results.append(result)
    return results


def visit_page(context, base_url: str, html_page: str, screenshot_dir: Path) -> Visit:
    from axe_playwright_python.sync_playwright import Axe

    visit = Visit(html_page)
    page = context.new_page()
    # axe-core fetches the stylesheets itself to inspect them, and resolves their @import
    # rules against the page's address instead of the stylesheet's (the theme's
    # "@import ../basic.css" becomes a 404 for /basic.css that a learner never requests):
    # what happens while axe runs is not the page's doing, so it is not recorded.
    axe_running = False

    def record(target: list[str], text: str) -> None:
        if not axe_running:
            target.append(text)

    page.on("console", lambda m: m.type == "error" and record(visit.console_errors, m.text))
    page.on("pageerror", lambda e: record(visit.console_errors, f"uncaught: {e}"))
    page.on(
        "requestfailed",
        lambda r: record(visit.failed_requests, f"{r.url[:150]} ({r.failure})"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and record(visit.failed_requests, f"HTTP {r.status} {r.url}"),
    )
    before = len(context.external_requests)
    start = time.perf_counter()
    try:
        page.goto(base_url + html_page, wait_until="load")
        visit.math = page.evaluate(MATH_STATE_JS)
        page.wait_for_load_state("networkidle")
        visit.seconds = time.perf_counter() - start
        visit.images = page.evaluate(IMAGES_JS)

        shot = screenshot_dir / html_page.replace(".html", ".png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        visit.screenshot = str(shot)

        axe_running = True
        results = Axe().run(page).response
        page.wait_for_load_state("networkidle")
        axe_running = False
        visit.axe_violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [" ".join(map(str, n["target"])) for n in v["nodes"]][:10],
            }
            for v in results["violations"]
        ]
        visit.axe_passes = len(results.get("passes", []))

        # Last, as it changes the page: open every solution.
        visit.solutions = _check_solutions(page)
        page.wait_for_load_state("networkidle")
    finally:
        visit.external_requests = context.external_requests[before:]
        page.close()
    return visit


@pytest.fixture(scope="module")
def visits(context, server, built_site):
    """Cache of page visits, so each page is loaded once for all the checks."""
    cache: dict[str, Visit] = {}
    yield cache
    report = {
        page: {**asdict(v), "axe_counts": v.axe_counts(), "math": {**v.math, "text": None}}
        for page, v in cache.items()
    }
    (built_site.parent / "browser-report.json").write_text(json.dumps(report, indent=1))


@pytest.fixture
def visit(visits, context, server, built_site, site_page) -> Visit:
    if site_page not in visits:
        visits[site_page] = visit_page(
            context, server, site_page, built_site.parent / "screenshots"
        )
    return visits[site_page]


# -- the checks, per page -------------------------------------------------------------


def test_no_console_errors(visit):
    assert not visit.console_errors, "console errors:\n" + "\n".join(visit.console_errors)


def test_no_failed_or_external_requests(visit):
    assert not visit.external_requests, (
        "the page loads from other hosts (the site must work offline):\n"
        + "\n".join(visit.external_requests)
    )
    assert not visit.failed_requests, "failed requests:\n" + "\n".join(visit.failed_requests)


def test_math_rendered(visit):
    math = visit.math
    if math["formulas"]:
        assert math["loaded"], "the page has formulas but MathJax did not load"
    assert not math["unrendered"], f"formulas MathJax did not render: {math['unrendered']}"
    assert not math["errors"], f"TeX errors: {math['errors']}"
    raw = [m.group(0) for m in RAW_TEX.finditer(math["text"])]
    assert not raw, f"raw TeX left in the text (not rendered as math): {raw[:10]}"


def test_images_loaded_with_alt_text(visit):
    problems = []
    for img in visit.images:
        if not img["loaded"]:
            problems.append(f"not loaded: {img['src']}")
        alt = (img["alt"] or "").strip()
        if not alt or FILE_NAME_ALT.search(alt) or alt == img["src"]:
            problems.append(
                f"no alt text (alt={img['alt']!r}): {img['src']}; give the figure's cell "
                'metadata {"mystnb": {"image": {"alt": "..."}}}'
            )
    assert not problems, "\n".join(problems)


def test_accessibility(visit):
    blocking = [v for v in visit.axe_violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, "axe-core violations:\n" + "\n".join(
        f"[{v['impact']}] {v['id']}: {v['help']} at {v['nodes']}" for v in blocking
    )


def test_solutions_hidden_until_clicked(visit):
    for solution in visit.solutions:
        assert solution["has_button"], f"solution {solution['id']} has no toggle button"
        assert solution["hidden_at_first"], f"solution {solution['id']} is visible at first"
        assert solution["shown_after_click"], f"solution {solution['id']} did not open on click"
        assert solution["aria_expanded"] == "true", solution


def test_screenshot_saved(visit):
    shot = Path(visit.screenshot)
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot {shot}"


# -- the checks across pages ----------------------------------------------------------


def test_exercise_pages_have_solution_dropdowns(visits, context, server, built_site, toc_pages):
    exercise_pages = [p for p in toc_pages if "/exercises/" in f"/{p}"]
    if not exercise_pages:
        pytest.skip("no exercise pages in _toc.yml yet")
    for html_page in exercise_pages:
        if html_page not in visits:
            visits[html_page] = visit_page(
                context, server, html_page, built_site.parent / "screenshots"
            )
    without = [p for p in exercise_pages if not visits[p].solutions]
    assert not without, f"exercise pages without solution dropdowns: {without}"


def test_next_previous_navigation(context, server, toc_pages):
    page = context.new_page()
    try:
        page.goto(server + toc_pages[0])
        assert page.locator("a.left-prev").count() == 0, "the first page has a 'previous' link"
        for expected in toc_pages[1:]:
            page.locator("a.right-next").first.click()
            page.wait_for_url(server + expected)
        assert page.locator("a.right-next").count() == 0, "the last page has a 'next' link"
        for expected in reversed(toc_pages[:-1]):
            page.locator("a.left-prev").first.click()
            page.wait_for_url(server + expected)
    finally:
        page.close()


def test_search_finds_nesterov(context, server, toc_pages):
    page = context.new_page()
    try:
        page.goto(server + toc_pages[0])
        # As a learner does: open the search box from the header, type, press Enter.
        page.locator("button.search-button__button:visible").first.click()
        box = page.locator("input[name='q']:visible").first
        box.fill("Nesterov")
        box.press("Enter")
        page.wait_for_url(re.compile(r"search\.html\?q=Nesterov"))
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=TIMEOUT_MS)
        links = [a.get_attribute("href") for a in results.locator("a").all()]
        assert any(link and "book/" in link for link in links), links
    finally:
        page.close()


# -- the header's toggles, on a desktop and on a phone ----------------------------------

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

ON_SCREEN_JS = """
el => {
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0
      && r.right > 1 && r.left < window.innerWidth - 1;
}
"""


def _on_screen(locator) -> bool:
    return locator.count() > 0 and locator.first.evaluate(ON_SCREEN_JS)


@pytest.fixture(params=sorted(SCREENS), ids=sorted(SCREENS))
def screen_page(request, browser, server, toc_pages):
    """A chapter page (with a table of contents on the page) at a desktop or phone size."""
    context = browser.new_context(viewport=SCREENS[request.param], color_scheme="light")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    chapter = next(p for p in toc_pages if re.match(r"book/\d\d_", p))
    page.goto(server + chapter, wait_until="load")
    yield request.param, page
    context.close()


def _click_visible(page, selector: str):
    """Click the one button matching ``selector`` that is on the screen (not slid away)."""
    found = page.locator(f"{selector}:visible")
    toggles = [found.nth(i) for i in range(found.count()) if _on_screen(found.nth(i))]
    assert len(toggles) == 1, f"{len(toggles)} {selector} buttons on the screen, expected 1"
    toggles[0].click()
    page.wait_for_timeout(500)  # the sidebars slide in


def test_navigation_toggle_opens_and_closes_the_chapter_list(screen_page, server):
    screen, page = screen_page
    sidebar = page.locator(".bd-sidebar-primary")
    shown_at_first = _on_screen(sidebar)
    assert shown_at_first == (screen == "desktop"), f"{screen}: chapter list shown at first?"
    _click_visible(page, ".primary-toggle")
    assert _on_screen(sidebar) != shown_at_first, f"{screen}: the toggle did not change it"
    if screen == "phone":
        # Opened on a phone, the list works: a chapter link is there and leads to its page.
        link = sidebar.locator("a.reference.internal", has_text="Momentum").first
        assert link.is_visible(), "the chapter list opened, but its links are not visible"
        link.click()
        page.wait_for_url(re.compile(r"04_momentum\.html"))
    else:
        _click_visible(page, ".primary-toggle")
        assert _on_screen(sidebar), "desktop: a second click did not bring the list back"


def test_contents_toggle_shows_the_page_sections(screen_page):
    screen, page = screen_page
    contents = page.locator(".bd-sidebar-secondary")
    if screen == "phone":
        assert not _on_screen(contents), "phone: the page's contents are shown at first"
        _click_visible(page, ".secondary-toggle")
    assert _on_screen(contents), f"{screen}: the page's contents are not shown"
    assert contents.locator("a.reference.internal").first.is_visible()


def test_download_and_search_buttons_open_what_they_name(screen_page):
    screen, page = screen_page
    _click_visible(page, ".dropdown-download-buttons > button")
    menu = page.locator(".dropdown-download-buttons .dropdown-menu")
    assert menu.is_visible(), f"{screen}: the download menu did not open"
    assert menu.locator("a[href$='.ipynb']").first.is_visible(), "no notebook download"
    page.keyboard.press("Escape")
    _click_visible(page, ".search-button__button")
    assert page.locator("input[name='q']:visible").count() == 1, f"{screen}: no search box"


def test_theme_switch_changes_the_mode(screen_page):
    screen, page = screen_page
    mode = page.evaluate("document.documentElement.dataset.theme")
    _click_visible(page, ".theme-switch-button")
    assert page.evaluate("document.documentElement.dataset.theme") != mode, screen
