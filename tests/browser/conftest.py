"""A real Chromium for the browser journeys.

Debian's chromium is used (``playwright install`` cannot download a browser
here); ``.ci/run`` installs it together with a CJK font. In CI a missing browser
is a failure, never a silent skip; on a developer's machine without chromium
the journeys are skipped.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LIANHU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The smallest screen the pages are built for.
VIEWPORT = {"width": 1366, "height": 768}


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason} (.ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip(f"{reason}; install Debian's chromium and fonts-wqy-microhei to run the browser tests")


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        _unavailable(f"the playwright package is not importable ({exc})")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        _unavailable(f"no Chromium at {CHROMIUM}")
    # Playwright's sync API keeps an event loop running in this thread for as
    # long as the browser lives; Django would take that for async code and refuse
    # the ORM calls of the tests and of the live server's database teardown.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(chromium):
    """Pages in separate browser contexts (one per user, like separate browsers)."""
    contexts = []

    def make():
        context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
