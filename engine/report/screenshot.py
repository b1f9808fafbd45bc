"""Open a report in headless Chromium (Debian's package, driven by Playwright) and record what a
reader would see: console errors, network requests, and a full-page screenshot.

    python -m engine.report.screenshot reports/seed/index.html reports/seed/screenshot.png
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Rendering:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for except itself
    visible_text: str = ""
    highlighted: list[str] = field(default_factory=list)
    host_state_in_isr_irq: bool = False


def render(html: Path, screenshot: Path | None = None) -> Rendering:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("Chromium not found: install Debian's package (apt-get install chromium)")
    page_url = html.resolve().as_uri()
    result = Rendering()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: result.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: result.console_errors.append(str(exc)))
        page.on("request", lambda req: result.requests.append(req.url) if req.url != page_url else None)
        page.goto(page_url, wait_until="load")
        result.visible_text = page.inner_text("body")
        result.highlighted = [m.inner_text() for m in page.query_selector_all("mark.trigger") if m.is_visible()]
        section = page.query_selector("#pair-ISR-IRQ")
        result.host_state_in_isr_irq = bool(section and section.is_visible()
                                            and "host-state-exposure" in section.inner_text())
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=False)
        browser.close()
    return result


def main() -> None:
    html, png = Path(sys.argv[1]), Path(sys.argv[2])
    rendering = render(html, png)
    print(f"screenshot written to {png}; console errors: {len(rendering.console_errors)}; "
          f"requests leaving the page: {len(rendering.requests)}")
    if rendering.console_errors or rendering.requests:
        print("\n".join(rendering.console_errors + rendering.requests))
        sys.exit(1)


if __name__ == "__main__":
    main()
