"""The explorer in a real browser: JupyterLab serves a copy of Lesson 12, headless Chromium
(Debian's ``chromium``, driven by Playwright) opens it, runs every cell, moves the explorer's
*target* control and checks that the displayed output image changed.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; ``COURSE_CHROMIUM`` names another
binary) and the ``playwright`` Python package (the ``dev`` extra; its own browser download,
``playwright install``, is never used).  Without them the test is skipped locally, with the
reason; CI sets ``COURSE_REQUIRE_BROWSER=1`` (``.ci/run``), which turns the skip into a failure.
When the course has no shipped checkpoint yet, the notebook copy is pointed at a temporary
folder of randomly initialised ones (``test_explorer.write_shipped``)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "12_explorer.ipynb"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = pytest.mark.slow


def _require_browser():
    missing = []
    if not Path(CHROMIUM).is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        why = "browser test needs " + " and ".join(missing)
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(why + "; COURSE_REQUIRE_BROWSER=1 (CI) makes this a failure")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook_copy(folder: Path, shipped_dir: Path | None) -> Path:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    if shipped_dir is not None:   # no shipped checkpoint yet: point the copy at temporary ones
        src = (f"from pathlib import Path\nfrom course_lib import shipped\n"
               f"shipped.SHIPPED_DIR = Path({str(shipped_dir)!r})")
        nb["cells"].insert(0, {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                               "source": src})
    out = folder / "explorer.ipynb"
    out.write_text(json.dumps(nb), encoding="utf-8")
    return out


def _start_lab(folder: Path, port: int, token: str):
    env = {**os.environ, "COURSE_FAST": "1", "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(folder / ".runtime")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
           "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.user_settings_dir={folder / '.settings'}", f"--LabApp.workspaces_dir={folder / '.workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(folder / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    _stop(proc)
    raise AssertionError("JupyterLab did not start within 60 s:\n" + (folder / "jupyterlab.log").read_text()[-3000:])


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_moving_the_target_changes_the_displayed_output(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    from course_lib import shipped

    shipped_dir = None
    if not shipped.available():
        from test_explorer import write_shipped

        shipped_dir = write_shipped(tmp_path / "shipped", names=("lgp-gan", "ganimation"))
    work = tmp_path / "lab"
    work.mkdir()
    _notebook_copy(work, shipped_dir)
    port, token = _free_port(), uuid.uuid4().hex
    lab = _start_lab(work, port, token)
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
                viewport={"width": 1400, "height": 1000})
            try:
                page = context.new_page()
                page.set_default_timeout(90_000)
                page.goto(f"http://127.0.0.1:{port}/lab/tree/explorer.ipynb?token={token}")
                page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                       " && window.jupyterapp.shell.currentWidget.sessionContext"
                                       " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                                       " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel")
                page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session"
                                       ".kernel.status === 'idle'")
                ok = page.evaluate("() => Promise.race([window.jupyterapp.commands.execute('notebook:run-all-cells'),"
                                   " new Promise(r => setTimeout(() => r('timeout'), 240000))])")
                assert ok != "timeout", "running the notebook took more than 240 s"
                output = page.locator("img.course-explorer-output")
                output.wait_for(state="visible")
                page.wait_for_function("() => { const i = document.querySelector('img.course-explorer-output');"
                                       " return i && i.complete && i.naturalWidth > 0; }")
                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
                assert ok is not False and not tracebacks, tracebacks
                output.scroll_into_view_if_needed()
                before, src_before = output.screenshot(), output.get_attribute("src")
                target = page.locator(".course-explorer-target select")
                assert target.input_value() == "happy"
                target.select_option("surprised")
                changed, deadline = False, time.time() + 60
                while time.time() < deadline and not changed:
                    page.wait_for_timeout(500)
                    changed = output.get_attribute("src") != src_before and output.screenshot() != before
                assert changed, "the displayed output image did not change after moving the target control"
            finally:
                context.close()
    finally:
        _stop(lab)
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
