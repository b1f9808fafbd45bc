"""Open a report in headless Chromium (Debian's package, driven by Playwright) and record what a
reader would see: console errors, network requests, horizontal overflow, the brief, and a
screenshot; and print a report to PDF with the same browser.

    python -m engine.report.screenshot reports/seed/index.html reports/seed/screenshot-latest.png

The screenshot is of the top of the page (the brief) at 1280 x 900 px.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import EngineError

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--font-render-hinting=none", "--force-color-profile=srgb", "--hide-scrollbars"]
MISSING_CHROMIUM = ("Chromium not found: the PDF and the screenshot are made with the system Chromium. "
                    "Install it (Debian: apt-get install chromium) or leave out --pdf")


class ChromiumMissing(EngineError):
    """No Chromium (or no Playwright to drive it) on this machine."""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Chromium's path, or ChromiumMissing with what to install."""
    executable = chromium_path()
    if executable is None:
        raise ChromiumMissing(MISSING_CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise ChromiumMissing("Playwright is not installed: it drives Chromium for the PDF and the screenshot "
                              "(it comes with the project's dev dependencies: make venv)") from None
    return executable


@dataclass
class Rendering:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for except itself
    visible_text: str = ""
    brief_text: str = ""
    brief_pairs: list[tuple[str, str]] = field(default_factory=list)  # (source, target) codes in the brief
    page_width: int = 0  # the document's scroll width ...
    viewport_width: int = 0  # ... against the viewport: wider means horizontal overflow
    highlighted: list[str] = field(default_factory=list)
    host_state_in_isr_irq: bool = False
    rows: int = 0  # rows of the ranked table ...
    rows_matching: dict[str, int] = field(default_factory=dict)  # ... left visible by the filter box, per word
    sorted_scores: list[float] = field(default_factory=list)  # the score column after two clicks on its heading

    @property
    def overflows(self) -> bool:
        return self.page_width > self.viewport_width


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium to render several pages with (``render(..., browser=...)``)."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def render(html: Path, screenshot: Path | None = None, width: int = 1280, height: int = 900,
           browser=None) -> Rendering:
    """What a reader of ``html`` sees in a window ``width`` x ``height`` px wide; in ``browser`` (from
    ``chromium()``) or in a Chromium started for this page."""
    if browser is None:
        with chromium() as own:
            return render(html, screenshot, width, height, own)
    page_url = html.resolve().as_uri()
    result = Rendering()
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.on("console", lambda msg: result.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: result.console_errors.append(str(exc)))
        page.on("request", lambda req: result.requests.append(req.url) if req.url != page_url else None)
        page.goto(page_url, wait_until="load")
        result.page_width = page.evaluate("document.documentElement.scrollWidth")
        result.viewport_width = page.evaluate("document.documentElement.clientWidth")
        brief = page.query_selector("#brief")
        result.brief_text = brief.inner_text() if brief else ""
        result.brief_pairs = [(li.get_attribute("data-source"), li.get_attribute("data-target"))
                              for li in page.query_selector_all("#brief li[data-source]")]
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=False)
        if page.query_selector("#ranked-filter"):
            result.rows = len(page.query_selector_all("#ranked-table tbody tr"))
            for word in ("Iraq", "zzz-no-such-pair"):
                page.fill("#ranked-filter", word)
                result.rows_matching[word] = len([r for r in page.query_selector_all("#ranked-table tbody tr")
                                                  if r.is_visible()])
            page.fill("#ranked-filter", "")
            heading = page.query_selector("#ranked-table thead th:nth-child(4) button")
            heading.click()
            heading.click()
            result.sorted_scores = [float(c.get_attribute("data-sort") or c.inner_text().split()[-1])
                                    for c in page.query_selector_all("#ranked-table tbody td:nth-child(4)")]
        page.evaluate("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
        result.visible_text = page.inner_text("body")
        result.highlighted = [m.inner_text() for m in page.query_selector_all("mark.trigger") if m.is_visible()]
        section = page.query_selector("#pair-ISR-IRQ")
        result.host_state_in_isr_irq = bool(section and section.is_visible()
                                            and "host-state-exposure" in section.inner_text())
    finally:
        page.close()
    return result


def pdf_of_html(html: str) -> bytes:
    """The report printed to PDF (A4, its print stylesheet, every section open) by the system Chromium."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with tempfile.TemporaryDirectory(prefix="escalation-pdf-") as folder:
        page_file = Path(folder) / "index.html"
        page_file.write_text(html, encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url == page_file.as_uri()
                       else route.abort())
            page.goto(page_file.as_uri(), wait_until="load")
            page.evaluate("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
            page.emulate_media(media="print")
            data = page.pdf(format="A4", print_background=True,
                            margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
            browser.close()
    return data


def main() -> None:
    html, png = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        rendering = render(html, png)
    except ChromiumMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"screenshot written to {png}; console errors: {len(rendering.console_errors)}; "
          f"requests leaving the page: {len(rendering.requests)}")
    if rendering.console_errors or rendering.requests:
        print("\n".join(rendering.console_errors + rendering.requests))
        sys.exit(1)


if __name__ == "__main__":
    main()
