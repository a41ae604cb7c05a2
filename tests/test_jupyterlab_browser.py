"""A notebook opens *as a notebook* in JupyterLab, in a real headless browser, and shows its figure.

What a reader does after ``make notebooks``: JupyterLab serves a directory holding
``stuhmer2020_app_b3_fa_rotation.py``; its URL opens it with the default viewer, which the
project's settings (``jupyter/lab/settings/overrides.d/betalab-notebooks.json``, installed into the
environment by ``make notebooks-install``) make the jupytext notebook and not the text editor. Opening it and
starting its kernel must leave it without unsaved changes (the server's contents manager,
``betalab/notebook_server.py``, also installed there). Running all cells through the page's kernel
must render the markdown, and exactly one figure image.

The user's own JupyterLab settings, workspaces and config are replaced by empty temporary
directories, so only the installed configuration decides. Chromium and chromedriver are the
Debian packages (``make notebooks-install`` installs them when missing).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "stuhmer2020_app_b3_fa_rotation.py"
SETTINGS = ROOT / "jupyter" / "lab" / "settings" / "overrides.d" / "betalab-notebooks.json"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Hang guards, not performance bounds: a stuck server or page fails the test instead of
# blocking the suite. Generous for a shared 2-core machine (the whole test takes ~20 s idle).
READY_S, RUN_S = 180, 300


def _installed_overrides() -> Path:
    from jupyterlab.commands import get_app_dir

    return Path(get_app_dir()) / "settings" / "overrides.d" / SETTINGS.name


def test_the_installed_lab_settings_are_the_projects():
    installed = _installed_overrides()
    assert installed.exists(), f"{installed} missing: run `make notebooks-install`"
    assert json.loads(installed.read_text()) == json.loads(SETTINGS.read_text())
    viewers = json.loads(SETTINGS.read_text())["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["python"] == "Jupytext Notebook"
    server = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.json"
    assert server.exists(), f"{server} missing: run `make notebooks-install`"
    assert json.loads(server.read_text()) == json.loads((ROOT / "jupyter" / "server" / server.name).read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free localhost port, serving a copy of the notebook."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)  # a copy: autosave never touches the project
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    for var, sub in (("JUPYTERLAB_SETTINGS_DIR", "user-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "ws"),
                     ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython")):
        env[var] = str(tmp_path / sub)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    port, token = _free_port(), "betalab-test-token"
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    while True:
        assert proc.poll() is None, (tmp_path / "lab.log").read_text()
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                break
        except OSError:
            assert time.monotonic() - t0 < READY_S, (tmp_path / "lab.log").read_text()
            time.sleep(0.3)
    yield url, token, tmp_path
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def test_a_notebook_opens_as_a_notebook_and_shows_its_figure(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, token, tmp_path = lab
    try:
        browser.get(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
        wait = WebDriverWait(browser, READY_S)
        # the document widget is a notebook (not a .jp-FileEditor) with rendered markdown
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-MarkdownCell h1, "
                                                            ".jp-FileEditor"))
        assert not browser.find_elements(By.CSS_SELECTOR, ".jp-FileEditor"), "opened in the text editor"
        title = browser.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-MarkdownCell h1").text
        assert "Factor analysis" in title
        n_code = len(browser.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-CodeCell"))
        assert n_code >= 2
        # the kernel named in the file's header starts; then run every cell as the Run menu does
        wait.until(lambda d: d.execute_script(
            "const w = window.jupyterapp.shell.currentWidget;"
            "return !!(w && w.sessionContext && w.sessionContext.session"
            " && w.sessionContext.session.kernel"
            " && w.sessionContext.session.kernel.connectionStatus === 'connected'"
            " && w.sessionContext.session.kernel.status === 'idle');"))
        # opening it and starting its kernel leaves nothing to save: the kernel's language_info
        # (which the jupytext header leaves out) came with the notebook from the server
        info = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const w = window.jupyterapp.shell.currentWidget;"
            "w.sessionContext.session.kernel.info.then(i => setTimeout(() => done("
            "  [w.context.model.dirty, i.language_info.version,"
            "   (w.context.model.getMetadata('language_info') || {}).version]), 1000));")
        assert info[0] is False, f"the notebook opened with unsaved changes: {info}"
        assert info[1] == info[2], info
        browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
        done = ("return Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell "
                ".jp-InputArea-prompt')).map(e => e.textContent.trim());")
        WebDriverWait(browser, RUN_S).until(
            lambda d: all(p.startswith("[") and p != "[*]:" and p != "[ ]:" for p in d.execute_script(done)))
        errors = browser.find_elements(By.CSS_SELECTOR, "[data-mime-type='application/vnd.jupyter.stderr']")
        assert not [e.text for e in errors if "Traceback" in e.text or "Error" in e.text]
        images = browser.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-OutputArea-output img")
        assert len(images) == 1, f"{len(images)} images: each figure is shown once"
        width = browser.execute_script("return arguments[0].naturalWidth;", images[0])
        assert width > 300, "the figure did not render"
        assert "[holds" in browser.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel").text
    finally:
        browser.save_screenshot(str(tmp_path / "jupyterlab.png"))  # kept in pytest's basetemp
