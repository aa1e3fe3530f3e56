"""End-to-end test of the planners' view in headless Chromium (Debian's package, driven by
Playwright through ``executable_path``; Playwright's own browser download is not used).

Starts ``solara run visualization/app.py`` on a free port, changes a slider and the preset,
steps and plays the model, switches on comparison mode, switches on an initiative and the
unified platform of package A, and enters a bad preset path, and
checks that the map and charts change and that errors are shown as messages. Screenshots go
to tests/artifacts/ (gitignored). Skipped, with the reason, only where no Chromium exists
(``make test`` installs it with apt-get when run as root).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[ui-test]')"
)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("SMARTCITY_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.skip(
            f"no Chromium at {CHROMIUM} or on PATH, and it could not be installed "
            "(run 'make test' as root, or 'apt-get install chromium')"
        )
    return path


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    solara_cli = Path(sys.executable).parent / "solara"
    command = [str(solara_cli)] if solara_cli.exists() else [sys.executable, "-m", "solara"]
    log = open(ARTIFACTS.parent / "artifacts" / "solara_server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [*command, "run", "visualization/app.py", "--host", "127.0.0.1", "--port", str(port),
         "--production"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SOLARA_TELEMETRY_ENABLED": "False"},
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"solara server exited with {proc.returncode}; see {log.name}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail(f"solara server did not open port {port} in 90 s; see {log.name}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


ARTIFACTS.mkdir(parents=True, exist_ok=True)


def _step_number(page) -> int:
    text = page.locator(".sc-step").first.inner_text()
    return int(re.search(r"step (\d+)", text).group(1))


def _wait_step(page, n: int) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.sc-step');"
        " const m = e && e.textContent.match(/step (\\d+)/); return m && +m[1] >= n; }",
        arg=n,
        timeout=TIMEOUT_MS,
    )


def _stable_step(page, quiet_ms: int = 2000) -> int:
    """The step number once it has not changed for ``quiet_ms``."""
    last, since = _step_number(page), time.monotonic()
    while time.monotonic() - since < quiet_ms / 1000:
        page.wait_for_timeout(250)
        now = _step_number(page)
        if now != last:
            last, since = now, time.monotonic()
    _settle(page)
    return last


def _choose(page, select_class: str, option: str) -> None:
    page.locator(f".{select_class}").click()
    menu = page.locator(".v-menu__content.menuable__content__active")
    menu.locator(".v-list-item", has_text=option).first.click()


def _settle(page) -> None:
    """Wait until the page stops changing (the server has rendered the last event)."""
    page.wait_for_timeout(300)
    previous = None
    for _ in range(40):
        html = page.locator("#app").inner_html()
        if html == previous:
            return
        previous = html
        page.wait_for_timeout(250)


def test_view_in_browser(chromium, server):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server, timeout=TIMEOUT_MS)
        expect(page.locator(".sc-step")).to_have_text(re.compile(r"step 0"))
        _settle(page)
        map_start = page.locator(".sc-map").first.screenshot()
        # nothing is overridden before the user touches a slider
        assert "(set here)" not in page.locator(".sc-slider").first.inner_text()

        # a slider: click at 60% of the capability budget share slider's track
        slider = page.locator(".sc-slider-government-capability_budget_share")
        expect(slider).to_contain_text("[share of revenue]: 0.05")
        box = slider.locator(".v-slider").bounding_box()
        page.mouse.click(box["x"] + 0.6 * box["width"], box["y"] + box["height"] / 2)
        expect(slider).to_contain_text("(set here)")
        assert "0.05 " not in slider.inner_text()

        # the preset: the map now shows the emerging city
        _choose(page, "sc-preset-a", "emerging")
        expect(page.locator(".sc-inspector")).to_contain_text("emerging / baseline")
        _settle(page)
        map_emerging = page.locator(".sc-map").first.screenshot()
        charts_start = page.locator(".sc-charts").screenshot()
        assert map_emerging != map_start, "the map did not change with the preset"

        # step twice, then play and pause
        step_button = page.get_by_role("button", name="Step", exact=True)
        step_button.click()
        _wait_step(page, 1)
        step_button.click()
        _wait_step(page, 2)
        page.get_by_role("button", name="▶").click()
        _wait_step(page, 6)
        page.get_by_role("button", name="❚❚").click()
        paused_at = _step_number(page)
        reached = _stable_step(page)
        # Mesa's controller may finish the step it was in when pause was pressed
        assert paused_at <= reached <= paused_at + 1, "the model kept stepping after pause"
        page.wait_for_timeout(1500)
        assert _step_number(page) == reached, "the model kept stepping after pause"
        map_stepped = page.locator(".sc-map").first.screenshot()
        charts_stepped = page.locator(".sc-charts").screenshot()
        assert map_stepped != map_emerging, "the map did not change when the model stepped"
        assert charts_stepped != charts_start, "the charts did not change when the model stepped"

        # comparison: two maps, stepped together
        page.locator(".sc-compare input").check(force=True)
        expect(page.locator(".sc-map")).to_have_count(2)
        _choose(page, "sc-policy-b", "emerging-industrial-chain")
        expect(page.locator(".sc-inspector")).to_contain_text("A: emerging / baseline")
        step_button = page.get_by_role("button", name="Step", exact=True)
        for n in (1, 2, 3):
            step_button.click()
            _wait_step(page, n)
        _settle(page)
        page.screenshot(path=str(ARTIFACTS / "ui_compare.png"), full_page=True)
        assert "Traceback" not in page.locator("body").inner_text()
        charts_compare = page.locator(".sc-charts").screenshot()

        # the inspector follows the chosen city and district
        inspector = page.locator(".sc-inspector")
        inspector.get_by_role("button", name="B", exact=True).click()
        expect(inspector).to_contain_text("B: emerging / emerging-industrial-chain, 0:")
        expect(inspector).to_contain_text("residents")
        expect(inspector).to_contain_text("manufacturing")

        # the export: a CSV of both cities, one row per city and step
        with page.expect_download() as download_info:
            page.locator(".sc-export").get_by_role("button", name="CSV").click()
        exported = Path(download_info.value.path()).read_text().splitlines()
        assert "demand_advancement_index" in exported[0]
        assert len(exported) == 1 + 2 * 4

        # the package's own choices (A): one initiative on, the unified platform on
        choices = page.locator(".sc-choices-a")
        choices.locator(".v-expansion-panel-header").click()
        page.locator(".sc-init-a-online_government input").check(force=True)
        expect(choices).to_contain_text("package choices: 1 initiative, platform off (changed)")
        page.locator(".sc-unified-a input").check(force=True)
        expect(choices).to_contain_text("1 initiative, platform on (changed)")
        inspector.get_by_role("button", name="A", exact=True).click()
        expect(inspector).to_contain_text("A: emerging / baseline (modified)")
        step_button = page.get_by_role("button", name="Step", exact=True)
        for n in (1, 2, 3):
            step_button.click()
            _wait_step(page, n)
        _settle(page)
        page.screenshot(path=str(ARTIFACTS / "ui_policy_choices.png"), full_page=True)
        assert page.locator(".sc-error").count() == 0
        assert "Traceback" not in page.locator("body").inner_text()
        assert page.locator(".sc-charts").screenshot() != charts_compare, (
            "the charts did not change with the package choices"
        )

        # a bad user preset: a readable message, no traceback, no blank page
        _choose(page, "sc-preset-a", "user TOML file")
        path_input = page.locator(".sc-preset-path-a input")
        path_input.fill("/nonexistent/city.toml")
        path_input.press("Enter")
        error = page.locator(".sc-error")
        expect(error).to_contain_text("file not found: /nonexistent/city.toml")
        expect(error).to_contain_text("configuration A")
        expect(page.locator(".sc-city-a")).to_be_visible()  # the controls are still there
        assert "Traceback" not in page.locator("body").inner_text()
        page.screenshot(path=str(ARTIFACTS / "ui_error.png"), full_page=True)
        browser.close()
