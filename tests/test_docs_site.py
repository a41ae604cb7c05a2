"""The documentation site as a reader sees it: built by Sphinx (docs/conf.py) with one notebook
executed (the full build, every notebook executed, is `make docs`, run by `make test` after the
suite), then read in headless Chromium and checked file by file:

* equations are typeset by the MathJax that ships with the site (no raw TeX delimiters left, no
  request leaves the machine);
* every image of the pages visited loads;
* no internal link is broken, over the whole site (every href and its #fragment resolved);
* the site's search finds the factor-analysis pages for "factor analysis".
"""

import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
EXECUTED = "stuhmer2020_app_b3_fa_rotation"  # the cheapest notebook: seconds, one figure
# hang guards, not performance bounds
BUILD_S, PAGE_S = 900, 120


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(BETALAB_DOCS_NOTEBOOKS=EXECUTED, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                           str(ROOT / "docs"), str(out)], env=env, capture_output=True, text=True,
                          timeout=BUILD_S)
    assert done.returncode == 0, done.stderr[-4000:]
    return out


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and key == "href" and a.get("rel") == "preconnect"):
                self.refs.append(a[key])


def test_no_internal_link_is_broken(site):
    # the pages (the theme's template files copied into _static are assets, not pages)
    pages = {p: _Links() for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts}
    for p, parser in pages.items():
        parser.feed(p.read_text(errors="replace"))
    assert len(pages) > 50
    broken = []
    for page, parser in pages.items():
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith(("//", "mailto:", "javascript:", "data:")):
                if parts.scheme in ("http", "https") and page.name != "report.html":
                    continue          # outward links (the papers' sites) are not the site's
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {ref}")
            elif parts.fragment and target.suffix == ".html" and target in pages \
                    and unquote(parts.fragment) not in pages[target].ids:
                broken.append(f"{page.relative_to(site)} -> {ref} (no such anchor)")
    assert broken == [], broken[:20]


def test_no_page_shows_raw_tex(site):
    """Every equation reached MathJax: outside code blocks no page has TeX left between dollar
    signs (a wrapped inline equation whose next line starts with + or - used to become a list)."""
    raw = []
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue
        html = re.sub(r"<(pre|script|style|code)\b.*?</\1>", " ", page.read_text(errors="replace"),
                      flags=re.S)
        for m in re.finditer(r"\$[^$<>]{0,300}?\\[a-zA-Z]+", html):
            raw.append(f"{page.relative_to(site)}: {m.group(0)[:60]}")
    assert raw == [], raw[:10]


def test_the_site_needs_no_network(site):
    """Scripts, styles and fonts are all the site's own (MathJax included)."""
    outside = set()
    for page in site.rglob("*.html"):
        for tag in re.findall(r"<(?:script|link)[^>]+>", page.read_text(errors="replace")):
            for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', tag):
                outside.add(url)
    assert outside == set(), sorted(outside)[:10]
    assert (site / "_static" / "MathJax.js").exists()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", "--allow-file-access-from-files",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def _open(browser, path: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(path.as_uri())
    WebDriverWait(browser, PAGE_S).until(lambda d: d.execute_script(
        "return document.readyState === 'complete'"))


def _typeset(browser) -> None:
    """Wait until MathJax (2) has typeset the page."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, PAGE_S).until(lambda d: d.execute_script(
        "return !document.querySelector('span.math, div.math')"       # Sphinx loads MathJax only there
        " || !!(window.MathJax && MathJax.isReady && MathJax.Hub.queue"
        " && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0);"))


@pytest.mark.parametrize("page", [f"_generated/notebooks/{EXECUTED}.html",
                                  "_generated/api/theory.factor_analysis.html",
                                  "_generated/papers/stuhmer.html",
                                  "guide/studies.html"])
def test_equations_are_typeset_and_figures_load(site, browser, page):
    _open(browser, site / page)
    _typeset(browser)
    if page.startswith(("_generated/notebooks/", "_generated/api/")):     # the pages with equations
        shown = browser.execute_script("return document.querySelectorAll('.MathJax, .MathJax_Display').length;")
        sources = browser.execute_script("return document.querySelectorAll('script[type^=\"math/tex\"]').length;")
        assert shown >= sources > 0, (page, shown, sources)   # every equation typeset
    text = browser.execute_script("return document.querySelector('article').innerText;")
    assert "\\(" not in text and "\\[" not in text and "$$" not in text, page
    assert not re.search(r"\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$", text), page     # no raw $\alpha$
    errors = browser.execute_script("return document.querySelectorAll('.MathJax_Error, merror').length;")
    assert errors == 0, page
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);")
    assert all(ok and w > 0 for _, ok, w in sizes), [s for s in sizes if not (s[1] and s[2] > 0)]
    if page.startswith("_generated/notebooks/"):
        assert len(sizes) >= 1                      # the executed notebook shows its figure


def test_search_finds_the_factor_analysis_pages(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, site / "search.html")
    browser.get((site / "search.html").as_uri() + "?q=factor+analysis")
    found = WebDriverWait(browser, PAGE_S).until(lambda d: d.execute_script(
        "const r = Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href);"
        "return r.length ? r : false;"))
    assert any("factor_analysis" in href for href in found), found[:10]
