"""Open the built documentation in headless Chromium and check that it renders.

Run after the HTML build (``make docs-check`` does both)::

    .venv/bin/python docs/check_site.py [docs/_build/html] [--screenshots DIR]

The site is served over http on 127.0.0.1 (a thread of this process), so the
search page's JavaScript runs as on a real host. Chromium is driven with
Selenium through Debian's ``chromium`` and ``chromium-driver`` packages
(``apt-get install chromium chromium-driver``; nothing is downloaded at run
time). Checked:

* the index page, the API page of ``sklearn_bert.BertClassifier`` (its path is
  read from the site's own ``objects.inv``), the gallery index and one gallery
  example render: a title and a heading, and every image on the page loads
  (``naturalWidth > 0``); with ``--require-figures`` (set when the gallery was
  executed) the example must also show at least one figure;
* ``search.html?q=BertClassifier`` lists a result that links to that API page;
* no page logs a browser error about a file of the site (a missing script,
  stylesheet or image).

A PNG screenshot of each page goes to ``docs/_build/screenshots/``. Exit
status 0 when all checks pass, 1 when one fails, 2 when the check cannot run.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urljoin, urlsplit

DOCS = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,900",
]
API_OBJECT = "sklearn_bert.BertClassifier"
SEARCH_QUERY = "BertClassifier"
TIMEOUT = 30  # seconds for a page, or the search, to finish


class SetupError(Exception):
    """The check cannot run (no build, no browser): exit status 2."""


# -- the site -----------------------------------------------------------------


def object_page(build: Path, name: str) -> str:
    """Path (relative to the site root) of the page that documents ``name``."""
    inv = build / "objects.inv"
    if not inv.is_file():
        raise SetupError(f"{inv} is missing: build the HTML first (make docs)")
    raw = inv.read_bytes()
    header_end = 0
    for _ in range(4):  # four header lines, then zlib
        header_end = raw.index(b"\n", header_end) + 1
    for line in zlib.decompress(raw[header_end:]).decode().splitlines():
        fields = line.split(" ", 4)
        if len(fields) == 5 and fields[0] == name and fields[1] == "py:class":
            return fields[3].replace("$", name).split("#")[0]
    raise SetupError(f"{name} is not documented in {inv}")


def gallery_example(build: Path) -> str:
    examples = sorted((build / "auto_examples").glob("plot_*.html"))
    if not examples:
        raise SetupError(f"no gallery example page in {build / 'auto_examples'}")
    preferred = [p for p in examples if p.stem == "plot_finetune_classifier"]
    return (preferred or examples)[0].relative_to(build).as_posix()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def serve(build: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(build))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# -- the browser --------------------------------------------------------------


def start_browser(profile: str):
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not shutil.which(path):
            raise SetupError(
                f"{path} not found: install it with `apt-get install -y {package}` "
                "(make docs-check does)"
            )
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: no downloads
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        msg = f"{exc}: `pip install selenium` (make docs-check does)"
        raise SetupError(msg) from exc

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    except Exception as exc:
        raise SetupError(f"Chromium did not start: {exc}") from exc


def wait_for(driver, script: str, what: str, timeout: float = TIMEOUT):
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


IMAGES_JS = """
const imgs = Array.from(document.images);
imgs.forEach((img) => { if (img.loading === "lazy") img.loading = "eager"; });
return imgs.map((img) => ({
  src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth,
}));
"""


def load_page(driver, url: str) -> None:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    wait_for(driver, "document.readyState === 'complete'", f"{url} to load")


def check_images(driver, origin: str, min_images: int, notes: list[str]) -> int:
    """Every image of the site on the page loads; return how many there are."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        images = driver.execute_script(IMAGES_JS)
        if all(img["complete"] for img in images) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ours = [img for img in images if img["src"].startswith(origin)]
    for img in images:
        if img not in ours and not img["width"]:
            notes.append(f"external image not loaded (offline?): {img['src']}")
    broken = [img["src"] for img in ours if not img["complete"] or img["width"] <= 0]
    if broken:
        raise AssertionError(f"{len(broken)} image(s) did not load: {broken}")
    if len(ours) < min_images:
        raise AssertionError(
            f"{len(ours)} image(s) on the page, expected {min_images}+"
        )
    return len(ours)


def check_title(driver, expected: str | None) -> str:
    title = driver.title.strip()
    heading = driver.execute_script(
        "const h = document.querySelector('main h1, article h1, h1');"
        "return h ? h.textContent.trim() : '';"
    )
    if not title:
        raise AssertionError("the page has no <title>")
    if not heading:
        raise AssertionError("the page has no <h1> heading")
    if expected and expected not in heading and expected not in title:
        raise AssertionError(f"{expected!r} not in the heading {heading!r}")
    return heading.replace("\n", " ").replace("#", "").strip()


def screenshot(driver, path: Path, max_height: int = 4000) -> None:
    """Screenshot the page (up to max_height pixels of it) as a PNG."""
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight,"
        " document.documentElement.scrollHeight);"
    )
    driver.set_window_size(1280, max(900, min(int(height), max_height)))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)


def site_errors(driver, origin: str) -> list[str]:
    """Errors the browser logged about files of the site (404s, script errors)."""
    errors = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        # The browser asks for /favicon.ico by itself; no page links to it.
        if f"{origin}/favicon.ico" in message:
            continue
        if entry.get("level") == "SEVERE" and origin in message:
            errors.append(message)
    return errors


# -- the checks ---------------------------------------------------------------


def run_checks(driver, root: str, build: Path, shots: Path, require_figures: bool):
    api_page = object_page(build, API_OBJECT)
    example = gallery_example(build)
    origin = root.rstrip("/")
    pages = [
        ("index", "index.html", "sklearn_bert", 0),
        ("api", api_page, "BertClassifier", 0),
        ("gallery", "auto_examples/index.html", None, 1),
        ("example", example, None, 1 if require_figures else 0),
    ]
    failures = []
    for name, path, expected, min_images in pages:
        notes: list[str] = []
        url = urljoin(root, path)
        try:
            load_page(driver, url)
            heading = check_title(driver, expected)
            count = check_images(driver, origin, min_images, notes)
            errors = site_errors(driver, origin)
            if errors:
                raise AssertionError(f"browser errors: {errors}")
            screenshot(driver, shots / f"{name}.png")
            print(f"ok    {name:8} /{path}: {heading!r}, {count} image(s) loaded")
        except AssertionError as exc:
            failures.append(f"{name} (/{path}): {exc}")
            print(f"FAIL  {name:8} /{path}: {exc}")
            screenshot(driver, shots / f"{name}.png")
        for note in notes:
            print(f"      note: {note}")

    # Search: the result list is built by searchtools.js from searchindex.js.
    url = urljoin(root, f"search.html?q={SEARCH_QUERY}")
    target = urljoin(root, api_page)
    try:
        load_page(driver, url)
        # Results are appended one by one; the summary line comes last.
        summary = wait_for(
            driver,
            "(document.querySelector('#search-results p.search-summary') || {})"
            ".innerText",
            "the search to finish",
        )
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'#search-results ul.search li a')).map((a) => a.href);"
        )
        hits = [h for h in links if urlsplit(h).path == urlsplit(target).path]
        if not hits:
            raise AssertionError(
                f"no result links to /{api_page}; results: {links[:10]}"
            )
        errors = site_errors(driver, origin)
        if errors:
            raise AssertionError(f"browser errors: {errors}")
        screenshot(driver, shots / "search.png")
        print(
            f"ok    search   /search.html?q={SEARCH_QUERY}: {summary.strip()!r}, "
            f"{len(hits)} link(s) to /{api_page}"
        )
    except AssertionError as exc:
        failures.append(f"search (/search.html?q={SEARCH_QUERY}): {exc}")
        print(f"FAIL  search   /search.html?q={SEARCH_QUERY}: {exc}")
        screenshot(driver, shots / "search.png")
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "build",
        nargs="?",
        default=DOCS / "_build" / "html",
        type=Path,
        help="the HTML build (default: docs/_build/html)",
    )
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=DOCS / "_build" / "screenshots",
        help="folder for the PNGs (default: docs/_build/screenshots)",
    )
    parser.add_argument(
        "--require-figures",
        action="store_true",
        default=os.environ.get("SKLEARN_BERT_PLOT_GALLERY", "0").strip().lower()
        in {"1", "true", "yes", "on"},
        help="the gallery example must show a figure (default: on "
        "when SKLEARN_BERT_PLOT_GALLERY is set)",
    )
    args = parser.parse_args(argv)
    build = args.build.resolve()

    profile = tempfile.mkdtemp(prefix="check-site-chromium-")
    server = driver = None
    try:
        if not (build / "index.html").is_file():
            raise SetupError(f"{build / 'index.html'} is missing: run `make docs`")
        args.screenshots.mkdir(parents=True, exist_ok=True)
        server, root = serve(build)
        driver = start_browser(profile)
        print(
            f"checking {build} at {root} with {driver.capabilities.get('browserName')} "
            f"{driver.capabilities.get('browserVersion')}"
        )
        failures = run_checks(
            driver, root, build, args.screenshots, args.require_figures
        )
    except SetupError as exc:
        print(f"check_site: cannot check the site: {exc}", file=sys.stderr)
        return 2
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

    print(f"screenshots: {args.screenshots}")
    if failures:
        print(f"check_site: {len(failures)} check(s) failed:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print("check_site: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
