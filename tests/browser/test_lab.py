"""The static explorables as notebook outputs, opened in JupyterLab as a reader gets it from ``make lab``
(Chromium driven by Playwright; part of ``make browser-test``).

JupyterLab is started the way the Makefile's ``lab`` target starts it -- the repository as root, the course's
notebooks trusted, BokehJS from the bokeh wheel among the server's static files -- but on a free local port,
with its own Jupyter data and settings folders (the reader's are not touched). Notebook 04 is opened and
**no cell is run** (JupyterLab starts a kernel for it, which is never asked for anything): the stored output of its static-explorable cell must load BokehJS from the server, and
moving its slider must change what is shown. Every request must stay on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_in_chromium import _fingerprint, _move

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/04_rare_words.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server as `make lab` runs it; yields its base URL."""
    sys.path.insert(0, str(ROOT))
    from helpers.static_explorable import lab_static_dir

    tmp = tmp_path_factory.mktemp("lab")
    static = tmp / "static"
    lab_static_dir(static)
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell (JupyterLab 4 otherwise renders only the cells in view)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp / "data"), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "jupyter"), "trust", str(ROOT / NOTEBOOK)], env=env, check=True, capture_output=True)
    port = _free_port()
    cmd = [str(bin_dir / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={ROOT}",
           f"--ServerApp.extra_static_paths={json.dumps([str(static)])}"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "api/status", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("jupyter lab exited: " + proc.stderr.read()[-2000:])
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not answer within 60 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_stored_explorable_moves_in_jupyterlab_without_running_a_cell(lab, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    remote, failed = [], []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            r.continue_()
        else:
            remote.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfailed", lambda req: failed.append(f"{req.url} ({req.failure})"))
    page.on("response", lambda resp: resp.status >= 400 and "/static/course-bokehjs/" in resp.url
            and failed.append(f"{resp.url}: HTTP {resp.status}"))
    page.goto(lab + "lab/tree/" + NOTEBOOK, wait_until="domcontentloaded")
    box = page.locator(".course-explorable[data-explorable='04_rare_word']")
    box.wait_for(state="attached", timeout=60_000)
    handle = box.locator(".noUi-handle").first
    try:
        handle.wait_for(state="visible", timeout=60_000)
    except Exception:  # noqa: BLE001 - report what the output said instead of a bare timeout
        note = page.locator(".course-explorable-note").first.inner_text()
        pytest.fail(f"the stored explorable did not render in JupyterLab; its note says: {note!r}; failed: {failed}")
    assert page.evaluate("window.Bokeh && window.Bokeh.version") is not None
    assert page.locator(".noUi-handle").count() >= 2, "04's explorable has two sliders"
    page.wait_for_timeout(500)
    before = _fingerprint(page)
    # a first click makes the cell JupyterLab's active one, which scrolls the notebook: drag only after that
    handle.scroll_into_view_if_needed()
    handle.click()
    page.wait_for_timeout(500)
    title = box.locator(".bk-slider-title").first
    value_before = title.inner_text()
    _move(page, "bokeh", handle)
    page.wait_for_timeout(700)
    after = _fingerprint(page)
    assert title.inner_text() != value_before, f"the slider did not move ({value_before})"
    SHOTS = ROOT / "_build" / "browser-test"
    SHOTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=str(SHOTS / "lab_04_static_explorable.png"))
    context.close()
    assert after != before, "moving the slider of the stored explorable did not change what is shown"
    assert not remote, remote
    assert not failed, failed
