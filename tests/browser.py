"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, with every request to anything but
localhost blocked: the pages must work offline."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, sync_playwright

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def chromium_path() -> str | None:
    return os.environ.get("ELECTION_CHROMIUM") or shutil.which("chromium")


@contextmanager
def local_only_page(width: int = 1400, height: int = 1000) -> Iterator[tuple[Page, list[str]]]:
    """A page whose requests outside localhost are aborted; yields the page and the list of blocked URLs."""
    blocked: list[str] = []

    def only_local(route: Route) -> None:
        url = route.request.url
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname or ""
        if scheme in {"data", "blob"} or host in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("chromium is missing: `make browser` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route("**/*", only_local)
            yield context.new_page(), blocked
        finally:
            browser.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
