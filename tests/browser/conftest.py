"""A real JupyterLab on loopback and Debian's Chromium driven by Playwright.

The recipe and its flakiness fixes are in docs (TOOLCHAIN_NOTES §6, copied here as code):
``--allow-root`` as root, ``?reset`` on every page, locators scoped to the visible notebook,
waiting for the session and the kernel info, and a run-all that is fired and not awaited.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.notebooks.conftest import kernel_env, make_workspace

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
TOKEN = "testtoken"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = make_workspace(tmp_path_factory.mktemp("labroot"))
    port = _free_port()
    settings = root / ".jsettings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    env = dict(
        kernel_env(), JUPYTER_CONFIG_DIR=str(root / ".jcfg"), JUPYTER_RUNTIME_DIR=str(root / ".jrt"),
        JUPYTER_DATA_DIR=str(root / ".jdata"), JUPYTERLAB_SETTINGS_DIR=str(root / ".jsettings"),
    )
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = root / "lab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url, deadline = f"http://127.0.0.1:{port}", time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                proc.terminate()
                raise RuntimeError("jupyter lab did not start:\n" + log_path.read_text()) from None
            time.sleep(0.25)
    yield {"url": url, "token": TOKEN, "root": root}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True, args=CHROMIUM_ARGS,
        )
        yield b
        b.close()


def open_notebook(page: Any, lab: dict[str, Any], name: str) -> Any:
    """Open ``name`` in a fresh workspace and wait until its kernel can run cells."""
    page.goto(f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}",
              wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.evaluate("""async () => { const p = window.jupyterapp.shell.currentWidget;
        await p.context.ready; await p.sessionContext.ready;
        await p.sessionContext.session.kernel.info; }""")
    return page.locator(".jp-NotebookPanel:visible")


def run_all(page: Any) -> None:
    """Run every cell; fired, not awaited (``page.evaluate`` has no timeout)."""
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


