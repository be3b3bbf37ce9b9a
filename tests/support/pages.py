"""The HTML pages the API serves (the interactive docs, the dashboard): what a browser would
load for them, checked as far as HTTP allows, and signing in to them as a browser does. A page that names an outside host is blank on a machine
without internet, so every script, style sheet and image must come from the app itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

# What a browser accepts for each kind of asset (Python's mimetypes answers
# application/javascript or text/javascript for .js, depending on the version and the host).
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".svg": ("image/svg+xml",),
    ".ico": ("image/x-icon", "image/vnd.microsoft.icon"),
}


class _Assets(HTMLParser):
    """Collects the URLs a browser loads for a page: scripts, style sheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get("href") if tag == "link" else values.get("src")
        if tag in ("script", "img", "link") and url:
            self.urls.append(url)


def page_assets(html: str) -> list[str]:
    """The URLs of the scripts, style sheets, icons and images ``html`` loads, as written."""
    parser = _Assets()
    parser.feed(html)
    parser.close()
    return parser.urls


def assert_served_offline(http: httpx.Client, path: str) -> list[str]:
    """``path`` answers an HTML page that names no outside host, and every asset it loads
    answers 200 from the app with a content type a browser accepts for it. Returns the
    assets' paths."""
    page = http.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text, page.text
    urls = page_assets(page.text)
    assert urls, f"{path} loads no assets"
    paths = []
    for url in urls:
        # A scheme-less //host/... URL would still leave the machine.
        assert not urlsplit(url).scheme and not url.startswith("//"), url
        absolute = urljoin(str(page.url), url)
        assert urlsplit(absolute).netloc == urlsplit(str(page.url)).netloc, absolute
        asset = http.get(absolute)
        assert asset.status_code == 200, (url, asset.status_code)
        suffix = PurePosixPath(urlsplit(url).path).suffix
        assert suffix in CONTENT_TYPES, url
        content_type = asset.headers["content-type"].split(";")[0].strip()
        assert content_type in CONTENT_TYPES[suffix], (url, content_type)
        assert asset.content, url
        paths.append(urlsplit(absolute).path)
    return paths


def form_token(html: str) -> str:
    """The CSRF token a page's form carries (its hidden ``csrf_token`` field)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match[1]


def sign_in(http: httpx.Client, key: str, next_path: str = "/") -> httpx.Response:
    """Sign ``http`` in to the pages with ``key`` through the login form, as a browser does;
    the session cookie stays in the client's cookie jar."""
    token = form_token(http.get("/login").text)
    return http.post("/login", data={"csrf_token": token, "api_key": key, "next": next_path})
