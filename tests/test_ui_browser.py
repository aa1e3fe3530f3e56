"""End-to-end tests of the planners' view in headless Chromium (Debian's package, driven by
Playwright through ``executable_path``; Playwright's own browser download is not used).

One Solara server serves every test. It runs under a Python audit hook that logs each file
opened under the test's folder and each import of a planted module, so the test of the widget
protocol can show that an unlisted value reads no file and imports no module. Its working
directory holds that planted module and a package TOML naming it as ``class``; its user
preset folder holds a small preset and a broken one. Screenshots go to tests/artifacts/
(gitignored). Skipped, with the reason, only where no Chromium exists (``make test`` installs
it with apt-get when run as root).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[ui-test]')"
)
pytestmark = pytest.mark.slow  # a browser and a server: `make test-fast` skips it

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("SMARTCITY_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 300_000
"""Every wait is on the page's state; this only bounds a wait on a machine whose cores are
busy with other work (a planner's laptop often is)."""
PLANTED_MODULE = "smartcity_planted_module"
MAX_SESSIONS = 3
DISTRICT_MARKS = ".mark-shape.layer_0_marks path"
"""The districts' areas on a map (its first layer)."""
CULL_SECONDS = 2
AUDITED_SERVER = """
import os, sys
watched, module, log = os.environ["AUDIT_DIR"], os.environ["AUDIT_MODULE"], os.environ["AUDIT_LOG"]
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(watched) \\
            and args[0] != log:
        with open(log, "a") as fh:
            fh.write("open " + args[0] + "\\n")
    elif event == "import" and args[0] == module:
        with open(log, "a") as fh:
            fh.write("import " + args[0] + "\\n")
sys.addaudithook(hook)
from solara.__main__ import main
sys.argv = ["solara", *sys.argv[1:]]
main()
"""

ARTIFACTS.mkdir(parents=True, exist_ok=True)


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
def planted(tmp_path_factory) -> dict[str, Path]:
    """The server's working directory with a planted module and a package that names it, a
    user preset folder (a small preset, a broken one) and a preset outside that folder."""
    base = tmp_path_factory.mktemp("ui")
    work = base / "work"
    work.mkdir()
    marker = base / "imported.txt"
    (work / f"{PLANTED_MODULE}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nclass Evil: pass\n"
    )
    (work / "evil.toml").write_text(
        f'title = "evil"\n[initiatives.online_government]\nclass = "{PLANTED_MODULE}:Evil"\n'
    )
    presets = base / "presets"
    presets.mkdir()
    (presets / "small.toml").write_text('extends = "emerging"\n[citizens]\ncount = 3000\n')
    (presets / "broken.toml").write_text('extends = "emerging"\n[citizens]\ncount = "many"\n')
    riverton = ROOT / "docs" / "examples" / "riverton.geojson"
    (presets / "riverton.toml").write_text(
        f'extends = "mature"\n[city]\ngraph_file = "{riverton}"\n[citizens]\ncount = 2000\n'
    )
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.toml").write_text("[citizens]\ncount = 2000\n")
    return {
        "base": base,
        "work": work,
        "marker": marker,
        "presets": presets,
        "outside": outside,
        "log": base / "audit.log",
    }


@pytest.fixture(scope="module")
def server(planted):
    port = _free_port()
    log = open(ARTIFACTS / "solara_server.log", "w")  # noqa: SIM115
    env = {
        **os.environ,
        "SOLARA_TELEMETRY_ENABLED": "False",
        "SOLARA_KERNEL_CULL_TIMEOUT": f"{CULL_SECONDS}s",
        "SMARTCITY_MAX_SESSIONS": str(MAX_SESSIONS),
        "SMARTCITY_PRESETS_DIR": str(planted["presets"]),
        "AUDIT_DIR": str(planted["base"]),
        "AUDIT_MODULE": PLANTED_MODULE,
        "AUDIT_LOG": str(planted["log"]),
        "PYTHONPATH": str(planted["work"]),
    }
    app = ROOT / "visualization" / "app.py"
    proc = subprocess.Popen(
        [sys.executable, "-c", AUDITED_SERVER, "run", str(app), "--host", "127.0.0.1",
         "--port", str(port), "--production"],
        cwd=planted["work"], stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 300
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
        pytest.fail(f"solara server did not open port {port} in 300 s; see {log.name}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        yield browser
        browser.close()


def _open(browser, url: str, size=(1600, 1000)):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector(".sc-step")
    _settle(page)
    return page


def _shot(page, name: str, full_page: bool = False) -> None:
    """A screenshot from the top of the page into tests/artifacts/."""
    page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def _close(page) -> None:
    """Close a page and wait until the server has freed its session."""
    page.close()
    time.sleep(CULL_SECONDS + 2)


def _step_number(page) -> int:
    return int(re.search(r"step (\d+)", page.locator(".sc-step").first.inner_text()).group(1))


def _wait_step(page, n: int) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.sc-step');"
        " const m = e && e.textContent.match(/step (\\d+)/); return m && +m[1] >= n; }",
        arg=n,
        timeout=TIMEOUT_MS,
    )


def _settle(page) -> None:
    """Wait until the page stops changing (the server has rendered the last event)."""
    page.wait_for_timeout(400)
    previous = None
    for _ in range(60):
        html = page.locator("#app").inner_html()
        if html == previous:
            return
        previous = html
        page.wait_for_timeout(300)


def _choose(page, select_class: str, option: str) -> None:
    page.locator(f".{select_class}").click()
    menu = page.locator(".v-menu__content.menuable__content__active")
    menu.locator(".v-list-item", has_text=option).first.click()
    _settle(page)


def _step(page, times: int = 1) -> None:
    for _ in range(times):
        start = _step_number(page)
        page.locator(".sc-step-button").click()
        _wait_step(page, start + 1)
    _settle(page)


def _run_to(page, year: float) -> None:
    field = page.locator(".sc-target-year input")
    for _ in range(5):  # typed while the server still draws a new run, the field may reset
        field.fill(str(year))
        field.press("Tab")
        _settle(page)
        if float(field.input_value() or "nan") == year:
            break
    page.locator(".sc-run-to").click()
    _wait_step(page, round(year * 12))
    _settle(page)


def _map_districts(page, index: int = 0) -> list[str]:
    """What the map shows of each district (name, kind, value) from its marks' labels."""
    marks = page.locator(".sc-map").nth(index).locator(DISTRICT_MARKS)
    return [marks.nth(i).get_attribute("aria-label") for i in range(marks.count())]


def _inside(area) -> tuple[float, float]:
    """A screen point inside a district's area, away from its centre (where the links and
    the name are drawn): a quarter of the way from its first corner to its middle (the
    areas are convex)."""
    return area.evaluate(
        """p => { const v = p.getPointAtLength(0), b = p.getBBox(), m = p.getScreenCTM();
            const x = v.x + 0.25 * (b.x + b.width / 2 - v.x);
            const y = v.y + 0.25 * (b.y + b.height / 2 - v.y);
            return [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]; }"""
    )


def _inspector(page) -> str:
    return page.locator(".sc-inspector-summary").inner_text()


def _download(page, label: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


def _table_row(table: str, title: str, configuration: str) -> str:
    """The end-year table's row of one metric and configuration (tab-separated cells:
    metric, unit, configuration, value, difference, interval, %, per 100 M)."""
    return next(
        line
        for line in table.splitlines()
        if line.startswith(title) and line.split("\t")[2] == configuration
    )


def _no_page_error(page) -> None:
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error in" not in body


def test_inspector_follows_the_run_click_and_hover(browser, server):
    """1: the inspector's values change as the run steps; a click on a district selects it;
    hovering shows its name, kind and value with unit."""
    page = _open(browser, server)
    before = _inspector(page)
    assert "year 0.00" in before
    _run_to(page, 1.0)
    after = _inspector(page)
    assert "year 1.00" in after
    residents = [re.search(r"residents\s+([\d,]+)", t).group(1) for t in (before, after)]
    assert residents[0] != residents[1], "the inspector kept the values of step 0"
    # click the third district on the map: the inspector selects it
    symbols = page.locator(".sc-map svg").first.locator(DISTRICT_MARKS)
    assert symbols.count() >= 3
    page.mouse.click(*_inside(symbols.nth(2)))
    expect_text = re.compile(r"2: ")
    page.wait_for_function(
        "() => document.querySelector('.sc-inspector-summary').textContent.includes(', 2: ')"
    )
    assert expect_text.search(page.locator(".sc-district").inner_text())
    _settle(page)
    x, y = _inside(page.locator(".sc-map svg").first.locator(DISTRICT_MARKS).nth(4))
    page.mouse.move(x, y)
    tooltip = page.locator("#vg-tooltip-element")
    page.wait_for_function(
        "() => { const t = document.querySelector('#vg-tooltip-element');"
        " return t && t.textContent.includes('residents'); }"
    )
    text = tooltip.inner_text()
    assert "district" in text and "kind" in text and "[residents]" in text
    _shot(page, "ui_single_1600x1000.png")
    _no_page_error(page)
    _close(page)


def test_difference_mode_matches_the_export(browser, server):
    """2: B - A map, delta charts and an end-year table whose B - A equals the difference of
    the exported runs."""
    page = _open(browser, server)
    _choose(page, "sc-preset-a", "emerging")
    page.locator(".sc-compare input").check(force=True)
    _settle(page)
    _choose(page, "sc-preset-b", "emerging")
    _choose(page, "sc-policy-b", "Emerging 1")
    seeds = page.locator(".sc-seeds [role=slider]")
    seeds.focus()
    seeds.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.sc-difference') &&"
        " document.querySelector('.sc-difference').textContent.includes('2 paired seeds')"
    )
    _settle(page)
    _step(page, 4)
    page.locator(".sc-map-mode").get_by_role("button", name="B - A").click()
    _settle(page)
    assert page.locator(".sc-diff-map").locator(DISTRICT_MARKS).count() > 3
    # the B - A map is the mean over both seeds and says so (issue 21)
    assert "mean of 2 paired seeds" in page.locator(".sc-diff-map").inner_text()
    table = page.locator(".sc-end-table").inner_text()
    # money and reasons: extra public spending, B - A per 100 M, each index's terms
    assert "M more public money than A" in table and "per 100 M" in table
    spending = _table_row(table, "Public spending", "B")
    assert float(spending.split("\t")[4].replace(",", "")) > 0
    terms = page.locator(".sc-terms").inner_text()
    assert "Why each index moved" in terms and "fiscal health" in terms
    exported = pd.read_csv(io.BytesIO(_download(page, "city CSV")))
    last = exported[exported["step"] == 4]
    for metric, title in (
        ("governance_index", "Governance index"),
        ("population", "Population"),
    ):
        column = next(c for c in exported.columns if c.startswith(f"{metric} ["))
        a = float(last.loc[last["configuration"] == "A", column].mean())
        b = float(last.loc[last["configuration"] == "B", column].mean())
        row = _table_row(table, title, "B")
        shown = float(row.split("\t")[4].replace(",", ""))
        assert shown == pytest.approx(b - a, rel=1e-3, abs=1e-6), (metric, row)
    _shot(page, "ui_difference_1600x1000.png")
    page.locator(".sc-difference").screenshot(path=str(ARTIFACTS / "ui_difference_table.png"))
    page.set_viewport_size({"width": 1366, "height": 768})
    _settle(page)
    _shot(page, "ui_difference_1366x768.png")
    _no_page_error(page)
    _close(page)


def test_history_scrubs_back_to_a_stored_step(browser, server):
    """3: the history slider restores an earlier step's map and inspector."""
    page = _open(browser, server)
    _step(page, 2)
    map_at_2, inspector_at_2 = _map_districts(page), _inspector(page)
    _step(page, 3)
    assert _map_districts(page) != map_at_2
    thumb = page.locator(".sc-history [role=slider]")
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowLeft")
        _settle(page)
    assert "step 2 (year 0.17) (history)" in page.locator(".sc-step").inner_text()
    assert _inspector(page) == inspector_at_2
    assert _map_districts(page) == map_at_2
    _close(page)


def test_scenario_file_url_and_cli_give_the_same_metrics(browser, server, tmp_path):
    """4: a saved scenario, opened from its URL in a fresh page and run by
    ``smartcity run --scenario``, gives the same metrics; a change asks before resetting."""
    page = _open(browser, server)
    _choose(page, "sc-preset-a", "emerging")
    _choose(page, "sc-policy-a", "Emerging 2")
    choices = page.locator(".sc-choices-a")
    choices.locator(".v-expansion-panel-header").click()
    # the package's later start is shown
    assert float(choices.locator(".sc-start-a-online_government input").input_value()) == 1.0
    page.locator(".sc-unified-a input").uncheck(force=True)
    _settle(page)
    seed = page.locator(".sc-seed input")
    seed.fill("7")
    seed.press("Enter")
    _settle(page)
    _run_to(page, 0.5)
    # a change now asks first, and keeping the run keeps it
    page.locator(".sc-unified-a input").check(force=True)
    page.wait_for_selector(".sc-confirm")
    page.locator(".sc-confirm-keep").click()
    _settle(page)
    assert _step_number(page) == 6
    toml = _download(page, "save scenario (TOML)").decode()
    assert 'policy = "emerging-industrial-chain"' in toml and "unified_platform = false" in toml
    assert "seed = 7" in toml
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(toml)
    href = page.locator(".sc-share-link").get_attribute("href")
    fresh = _open(browser, server + "/" + href)
    assert "emerging" in fresh.locator(".sc-preset-a").inner_text()
    # 1.5 years: the package's later initiatives start in year 1, and a run that ends
    # before an initiative starts is refused on the command line
    _run_to(fresh, 1.5)
    viewed = pd.read_csv(io.BytesIO(_download(fresh, "city CSV")))
    out = tmp_path / "cli"
    subprocess.run(
        [sys.executable, "-m", "smartcity", "run", "--scenario", str(scenario), "--years", "1.5",
         "--out", str(out), "--quiet"],
        check=True, cwd=ROOT,
    )  # fmt: skip
    cli = pd.read_parquet(out / "metrics.parquet")
    column = next(c for c in viewed.columns if c.startswith("governance_index ["))
    assert len(cli) == len(viewed) == 19
    assert viewed[column].to_numpy() == pytest.approx(cli["governance_index"].to_numpy(), rel=1e-9)
    assert viewed[column].iloc[-1] != viewed[column].iloc[0]
    _close(fresh)
    _close(page)


def test_play_shows_its_rate_and_step_is_one_month(browser, server):
    """6: STEP advances one month; play shows the simulated months per second."""
    page = _open(browser, server)
    _step(page, 1)
    assert _step_number(page) == 1
    page.locator(".sc-play").click()
    _wait_step(page, 60)  # play runs to the horizon, 5 years
    page.wait_for_function(
        "() => /last play: [\\d.]+ simulated months\\/s/"
        ".test(document.querySelector('.sc-rate').textContent)"
    )
    text = page.locator(".sc-rate").inner_text()
    assert float(re.search(r"([\d.]+) simulated months/s", text)[1]) > 0
    _settle(page)
    assert _step_number(page) == 60
    _close(page)


def test_plain_language_and_home_paths(browser, server):
    """5: titles from the metric registry, a glossary, package titles with home paths."""
    page = _open(browser, server)
    body = page.locator("body").inner_text()
    assert "DIGITAL_ADOPTION" not in body and "digital adoption" in body.lower()
    page.get_by_text("Glossary: what the indices and metrics mean").click()
    glossary = page.locator(".sc-glossary").inner_text()
    assert "Governance index" in glossary and "Demand advancement index" in glossary
    page.locator(".sc-policy-a").click()
    menu = page.locator(".v-menu__content.menuable__content__active").inner_text()
    assert "Mature 1: digitalization reactivates the economy (London) ★ home path" in menu
    assert "★ home path" not in next(line for line in menu.splitlines() if "Emerging 1" in line)
    page.keyboard.press("Escape")
    _close(page)


def test_input_presets_shares_seeds_and_errors(browser, server):
    """7: a user preset's count fills the slider; capability shares sum to 1; an invalid seed
    is refused in place; an error in B keeps A; the layout works at 1366x768."""
    page = _open(browser, server, size=(1366, 768))
    _choose(page, "sc-preset-a", "file: small.toml")
    slider = page.locator(".sc-slider-citizens-count")
    assert "3,000" in slider.inner_text()
    notes = page.locator(".sc-slider").all_inner_texts()
    shares = [float(m[1]) for t in notes if (m := re.search(r"= ([\d.]+) of the capability", t))]
    assert len(shares) == 6 and sum(shares) == pytest.approx(1.0, abs=0.011)
    seed = page.locator(".sc-seed input")
    seed.fill("-1")
    seed.press("Enter")
    _settle(page)
    assert "whole number, 0 or more" in page.locator(".sc-seed").inner_text()
    page.locator(".sc-compare input").check(force=True)
    _settle(page)
    _choose(page, "sc-preset-b", "file: broken.toml")
    assert "configuration B" in page.locator(".sc-error").inner_text()
    assert page.locator(".sc-map").count() == 1  # A is still drawn
    assert len(_map_districts(page)) > 3
    _step(page, 1)
    _shot(page, "ui_input_1366x768.png")
    page.set_viewport_size({"width": 1600, "height": 1000})
    _settle(page)
    _shot(page, "ui_input_1600x1000.png", full_page=True)
    _no_page_error(page)
    _close(page)


def test_export_per_district_with_units(browser, server):
    """8: the district export has one row per district and stored step, units in names."""
    page = _open(browser, server)
    _step(page, 2)
    table = pd.read_csv(io.BytesIO(_download(page, "districts CSV")))
    assert {"population [residents]", "digital_adoption [share of services]"} <= set(table)
    n = table["district"].nunique()
    assert len(table) == 3 * n and sorted(table["step"].unique()) == [0, 1, 2]
    page.set_viewport_size({"width": 1366, "height": 768})
    _settle(page)
    _shot(page, "ui_single_1366x768.png")
    _close(page)


def _send_through_widget(page, css: str, value: str) -> None:
    """Set a select's value as a browser can, whatever the page lists: the Vue component
    emits the value and ipyvue sends it to the server over the widget protocol."""
    page.evaluate(
        """([css, value]) => {
            let el = document.querySelector(css);
            while (el && !el.__vue__) el = el.parentElement;
            let vm = el.__vue__;
            while (vm && !('lazyValue' in vm)) vm = vm.$parent;
            vm.$emit('change', value);
            vm.$emit('input', value);
        }""",
        [css, value],
    )
    _settle(page)


def test_unlisted_values_are_refused_without_reading_or_importing(browser, server, planted):
    """Issue 15: an unlisted policy value and an out-of-folder preset path, sent through the
    widget protocol, are refused with no file read and no module imported; the message is
    the same whether or not the file exists."""
    page = _open(browser, server)
    _choose(page, "sc-preset-a", "file: small.toml")  # a listed user preset is read...
    _choose(page, "sc-preset-a", "mature")
    evil = str(planted["work"] / "evil.toml")
    _send_through_widget(page, ".sc-policy-a", evil)
    refused = page.locator(".sc-refused-a").inner_text()
    assert "is not in the list" in refused
    secret = str(planted["outside"] / "secret.toml")
    _send_through_widget(page, ".sc-preset-a", secret)
    message_existing = page.locator(".sc-refused-a").inner_text()
    _send_through_widget(page, ".sc-preset-a", "../../outside/missing.toml")
    message_missing = page.locator(".sc-refused-a").inner_text()
    assert "is not in the list" in message_existing and "is not in the list" in message_missing
    assert "not found" not in message_missing and "[citizens]" not in message_existing
    # the page still runs the listed configuration
    assert "mature / baseline" in _inspector(page)
    _close(page)
    log = planted["log"].read_text()
    assert "small.toml" in log  # ...and the audit hook sees it
    assert "evil.toml" not in log and "secret.toml" not in log and "missing.toml" not in log
    assert f"import {PLANTED_MODULE}" not in log
    assert not planted["marker"].exists()


def test_a_full_server_says_so(browser, server):
    """Issue 15: beyond the session cap a page says the view is full; a closed page frees
    its session."""
    pages = [_open(browser, server) for _ in range(MAX_SESSIONS)]
    extra = browser.new_page()
    extra.goto(server, timeout=TIMEOUT_MS)
    extra.wait_for_selector(".sc-full")
    assert "is full" in extra.locator(".sc-full").inner_text()
    extra.close()
    _close(pages.pop())
    again = _open(browser, server)
    assert _step_number(again) == 0
    for page in pages:
        page.close()
    _close(again)  # waits until the server has freed these sessions too


def test_a_loaded_scenario_asks_then_starts_a_new_run(browser, server):
    """4: a scenario file's text loaded into the page while a run has stepped asks first;
    starting the new run loads its preset, package, choices, seed and horizon."""
    from smartcity.visualization.scenario import CityConfig, Scenario, scenario_toml

    scenario = Scenario(
        CityConfig("emerging", "emerging-breakthrough", 11, {"citizens.count": 5000},
                   unified_platform=False),
        None, 2.0, 1,
    )  # fmt: skip
    page = _open(browser, server)
    _step(page, 2)
    page.locator(".sc-scenario-text textarea").fill(scenario_toml(scenario))
    page.locator(".sc-scenario-load").click()
    page.wait_for_selector(".sc-confirm")
    assert _step_number(page) == 2  # nothing reset yet
    page.locator(".sc-confirm-new").click()
    page.wait_for_function(  # the new run is drawn (waits on the page, not a time)
        "() => document.querySelector('.sc-step').textContent.startsWith('step 0 ')"
        " && !document.querySelector('.sc-confirm')"
    )
    _settle(page)
    assert "emerging / emerging-breakthrough (modified)" in _inspector(page)
    assert page.locator(".sc-seed input").input_value() == "11"
    assert "year 2" in page.locator(".sc-run").inner_text()
    _close(page)


def _overridden(page) -> list[str]:
    """The sliders marked "(set here)"."""
    return [t for t in page.locator(".sc-slider").all_inner_texts() if "(set here)" in t]


def test_comparing_keeps_the_configuration(browser, server):
    """Issue 21 (high): with preset A tokyo (or paris), ticking "compare with configuration
    B" set the trust slider to 0.005 "(set here)" for A and B, into the saved file; unticking
    and ticking again set more sliders. Now nothing is set that the planner did not move."""
    page = _open(browser, server)
    for preset in ("tokyo", "paris"):
        _choose(page, "sc-preset-a", preset)
        for _ in range(2):
            page.locator(".sc-compare input").check(force=True)
            page.wait_for_selector(".sc-preset-b")
            _settle(page)
            assert _overridden(page) == [], preset
            trust = page.locator(".sc-slider-citizens-trust_mean").inner_text()
            assert "mean trust in government [0-1]: 0.5" in trust and "set here" not in trust
            toml = _download(page, "save scenario (TOML)").decode()
            overrides = toml.split("[overrides]")[1].split("[a]")[0]
            assert overrides.split() == ['"citizens.count"', "=", "5000"], toml
            assert "[b]" in toml
            page.locator(".sc-compare input").uncheck(force=True)
            page.wait_for_selector(".sc-preset-b", state="detached")
            _settle(page)
            assert _overridden(page) == [], preset
    _no_page_error(page)
    _close(page)


def test_a_city_from_geojson_is_drawn_as_its_districts(browser, server):
    """Issue 21: real district shapes: a user preset naming the example GeoJSON is drawn as
    its 12 polygons with a scale bar and a north arrow; a click inspects a district."""
    page = _open(browser, server)
    _choose(page, "sc-preset-a", "file: riverton.toml")
    page.wait_for_function(
        "() => document.querySelector('.sc-inspector-summary').textContent.includes('Old Town')"
    )
    _settle(page)
    areas = page.locator(".sc-map svg").first.locator(DISTRICT_MARKS)
    assert areas.count() == 12
    assert all("geoshape" in (areas.nth(i).get_attribute("aria-roledescription") or "")
               for i in range(12))  # fmt: skip
    labels = (
        page.locator(".sc-map svg")
        .first.locator("text")
        .evaluate_all("els => els.map(e => e.textContent)")
    )
    assert any(t.endswith(" km") for t in labels) and "▲ N" in labels
    page.mouse.click(*_inside(areas.nth(6)))
    page.wait_for_function(
        "() => document.querySelector('.sc-inspector-summary').textContent.includes('6: ')"
    )
    assert "6: North Park" in _inspector(page)
    _shot(page, "ui_geojson_1600x1000.png")
    _no_page_error(page)
    _close(page)


def test_a_url_over_the_limits_is_refused_and_the_run_keeps_its_bounds(browser, server):
    """Issue 21: a shared URL asking for 5,000,000 citizens (or 200 years) is refused in one
    line and the page runs its default city; "run to year" refuses a year past the horizon;
    a switch clicked while playing pauses play at once and asks."""
    from smartcity.visualization.scenario import CityConfig, Scenario, scenario_toml
    from smartcity.visualization.sessions import scenario_query

    for scenario, needle in (
        (Scenario(CityConfig(overrides={"citizens.count": 5_000_000}), None, 5.0, 1),
         "citizens.count = 5,000,000 is outside the view's slider range"),
        (Scenario(CityConfig(), None, 200.0, 1), "horizons up to 50 years, not 200"),
    ):  # fmt: skip
        page = _open(browser, f"{server}/?{scenario_query(scenario_toml(scenario))}")
        message = page.locator(".sc-message").inner_text()
        assert needle in message and "\n" not in message.strip() and "Traceback" not in message
        assert "mature / baseline" in _inspector(page)  # the default city instead
        _close(page)
    page = _open(browser, server)
    field = page.locator(".sc-target-year input")
    field.fill("60")
    field.press("Tab")
    page.wait_for_selector(".sc-target-error")
    assert "at most the horizon, year 5" in page.locator(".sc-target-error").inner_text()
    assert page.locator(".sc-run-to").is_disabled()
    field.fill("5")
    field.press("Tab")
    page.wait_for_selector(".sc-target-error", state="detached")
    speed = page.locator(".sc-run .v-select").last
    speed.click()
    page.locator(".v-menu__content.menuable__content__active .v-list-item",
                 has_text="1 month/s").first.click()  # fmt: skip
    page.locator(".sc-play").click()
    _wait_step(page, 1)
    choices = page.locator(".sc-choices-a")
    choices.locator(".v-expansion-panel-header").click()
    page.locator(".sc-unified-a input").check(force=True)
    page.wait_for_selector(".sc-confirm")  # asked at once, and play paused
    page.wait_for_selector(".sc-play")
    at = _step_number(page)
    page.wait_for_timeout(2500)  # 1 month/s: a still-playing run would move on
    assert _step_number(page) == at
    assert "(changed)" in choices.inner_text()  # the switch shows what was clicked
    _no_page_error(page)
    _close(page)


def test_quick_slider_keys_all_count(browser, server):
    """Issue 21: quick keys on the seeds slider were lost (it showed 3, the run used 2)."""
    page = _open(browser, server)
    page.locator(".sc-compare input").check(force=True)
    page.wait_for_selector(".sc-seeds [role=slider]", state="attached")
    _settle(page)
    seeds = page.locator(".sc-seeds [role=slider]")
    seeds.focus()
    seeds.press("ArrowRight")
    seeds.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.sc-difference') &&"
        " document.querySelector('.sc-difference').textContent.includes('3 paired seeds')"
    )
    _settle(page)
    assert seeds.get_attribute("aria-valuenow") == "3"
    assert "seeds = 3" in _download(page, "save scenario (TOML)").decode()
    _close(page)


def test_n_configurations_side_by_side_round_trip_and_match_the_cli(browser, server, tmp_path):
    """Item 3: a scenario of three configurations opened from its URL compares them on one
    page (a table row per configuration, a difference map per configuration besides the
    reference, a reference the planner picks), saves and shares the same three, and each
    one's metrics equal ``smartcity run --scenario FILE --configuration X``."""
    from smartcity.visualization.scenario import CityConfig, Scenario, scenario_from_text
    from smartcity.visualization.scenario import scenario_toml as to_toml
    from smartcity.visualization.sessions import scenario_query

    small = {"citizens.count": 1500}
    scenario = Scenario.of(
        [CityConfig("emerging", p, 3, small)
         for p in ("baseline", "emerging-breakthrough", "placebo")], 1.0, 2,
    )  # fmt: skip
    page = _open(browser, f"{server}/?{scenario_query(to_toml(scenario))}")
    assert "placebo" in page.locator(".sc-policy-c").inner_text().lower()
    page.wait_for_function(
        "() => document.querySelector('.sc-difference') && document.querySelector("
        "'.sc-difference').textContent.includes('B - A, C - A over 2 paired seeds')"
    )
    _step(page, 3)
    table = page.locator(".sc-end-table").inner_text()
    assert "C spends" in table and "more public money than A" in table
    exported = pd.read_csv(io.BytesIO(_download(page, "city CSV")))
    last = exported[exported["step"] == 3]
    column = next(c for c in exported.columns if c.startswith("governance_index ["))
    mean = last.groupby("configuration")[column].mean()
    assert sorted(mean.index) == ["A", "B", "C"]
    assert "A (reference)" in _table_row(table, "Governance index", "A (reference)")
    for name in "BC":
        row = _table_row(table, "Governance index", name).split("\t")
        assert float(row[4]) == pytest.approx(mean[name] - mean["A"], rel=1e-3, abs=1e-6)
        assert row[5].startswith("[")  # the paired interval over the 2 seeds
    # the small multiple: one difference map per configuration besides the reference
    page.locator(".sc-map-mode").get_by_role("button", name="each - A").click()
    page.wait_for_function("() => document.querySelectorAll('.sc-diff-map').length == 2")
    _settle(page)
    maps = page.locator(".sc-diff-map")
    assert maps.nth(1).locator(DISTRICT_MARKS).count() > 3
    text = maps.nth(0).inner_text() + maps.nth(1).inner_text()
    assert "B - A" in text and "C - A" in text and "mean of 2 paired seeds" in text
    # another reference: the maps and the table follow
    page.locator(".sc-reference").get_by_role("button", name="B").click()
    page.wait_for_function(
        "() => document.querySelector('.sc-end-table').textContent.includes('B (reference)')"
    )
    _settle(page)
    text = page.locator(".sc-diff-map").nth(0).inner_text()
    assert "A - B" in text
    table = page.locator(".sc-end-table").inner_text()
    row = _table_row(table, "Governance index", "C").split("\t")
    assert float(row[4]) == pytest.approx(mean["C"] - mean["B"], rel=1e-3, abs=1e-6)
    _shot(page, "ui_compare_n_1600x1000.png", full_page=True)
    # the saved file and the shared link carry the three configurations
    saved = _download(page, "save scenario (TOML)").decode()
    assert scenario_from_text(saved, "saved") == scenario
    path = tmp_path / "three.toml"
    path.write_text(saved)
    href = page.locator(".sc-share-link").get_attribute("href")
    fresh = _open(browser, server + "/" + href)
    assert "placebo" in fresh.locator(".sc-policy-c").inner_text().lower()
    again = _download(fresh, "save scenario (TOML)").decode()
    assert scenario_from_text(again, "shared") == scenario
    _close(fresh)
    # each configuration's first seed equals the command line's run of it
    for name in "abc":
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "smartcity", "run", "--scenario", str(path),
             "--configuration", name, "--years", "0.25", "--out", str(out), "--quiet"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        cli = pd.read_parquet(out / "metrics.parquet")
        viewed = exported[(exported["configuration"] == name.upper()) & (exported["seed"] == 3)]
        assert len(cli) == len(viewed) == 4
        assert viewed[column].to_numpy() == pytest.approx(
            cli["governance_index"].to_numpy(), rel=1e-9
        )
    _no_page_error(page)
    _close(page)


def test_a_city_s_paths_are_added_with_one_button_within_the_limits(browser, server):
    """Item 3: "A's city: baseline, every home path and the placebo" fills the comparison;
    a URL asking for more configurations than a session runs is refused in one line."""
    from smartcity.visualization.scenario import CityConfig, Scenario
    from smartcity.visualization.scenario import scenario_toml as to_toml
    from smartcity.visualization.sessions import MAX_CONFIGURATIONS, scenario_query

    many = Scenario.of([CityConfig(overrides={"citizens.count": 1000})] * 9, 1.0, 1)
    page = _open(browser, f"{server}/?{scenario_query(to_toml(many))}")
    message = page.locator(".sc-message").inner_text()
    assert f"at most {MAX_CONFIGURATIONS} configurations, not 9" in message
    assert "\n" not in message.strip()
    _choose(page, "sc-preset-a", "emerging")
    page.locator(".sc-every-path").click()
    page.wait_for_selector(".sc-policy-d")
    _settle(page)
    policies = [page.locator(f".sc-policy-{n}").inner_text() for n in "abcd"]
    assert "Baseline" in policies[0] and "Placebo" in policies[3]
    assert all("Emerging" in p for p in policies[1:3])
    page.wait_for_function(
        "() => document.querySelector('.sc-difference') &&"
        " document.querySelector('.sc-difference').textContent.includes('D - A')"
    )
    _no_page_error(page)


def _watch_failures(page) -> list[str]:
    """Every response of 400 or more, failed request and page error the page meets."""
    failures: list[str] = []
    page.on(
        "response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page.on("requestfailed", lambda r: failures.append(f"failed {r.url}"))
    page.on("pageerror", lambda e: failures.append(f"page error {e}"))
    return failures


def test_a_page_logs_no_404_and_no_page_error(browser, server):
    """Issue 21: every page asked for KaTeX (solara's Markdown widget, from a CDN that
    solara-assets does not ship) and logged a 404 and a script error. The view's Markdown is
    drawn on the server now: a page with its tables (a comparison) fetches nothing missing."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    failures = _watch_failures(page)
    page.goto(server, timeout=TIMEOUT_MS)
    page.wait_for_selector(".sc-step")
    page.locator(".sc-compare input").check(force=True)
    page.wait_for_selector(".sc-end-table table")
    _settle(page)
    _step(page, 1)
    page.locator(".sc-district").first.wait_for()
    assert page.locator(".sc-terms table tr").count() > 3  # the Markdown tables are drawn
    _no_page_error(page)
    assert failures == [], failures
    _close(page)


def _set_year(page, which: str, year: float | str) -> None:
    field = page.locator(f".sc-{which}-a-online_government input")
    field.fill(str(year))
    field.press("Tab")
    _settle(page)


def _phases(page) -> str:
    return page.locator(".sc-phases").inner_text()


def test_a_mid_run_start_and_stop_go_on_without_a_restart(browser, server, tmp_path):
    """Issue 21 item 4: an initiative set to start at year 1; at year 0.5 the planner stops
    it at year 1.5 and moves the start to 0.75, both still ahead: the run goes on from step 6
    without asking, the run card and the charts mark the years, and the run ends where
    ``smartcity run --scenario`` of the saved scenario ends. A start moved into the past
    asks before restarting."""
    page = _open(browser, server)
    failures = _watch_failures(page)
    choices = page.locator(".sc-choices-a")
    choices.locator(".v-expansion-panel-header").click()
    choices.locator(".sc-init-a-online_government input").check(force=True)
    _settle(page)
    _set_year(page, "start", 1)
    page.wait_for_function(
        "() => (document.querySelector('.sc-phases') || {}).textContent?.includes('year 1:')"
    )
    assert "starts" in _phases(page) and _step_number(page) == 0
    _run_to(page, 0.5)
    _set_year(page, "stop", 1.5)
    page.wait_for_function(
        "() => document.querySelector('.sc-phases').textContent.includes('year 1.5:')"
    )
    _set_year(page, "start", 0.75)
    page.wait_for_function(
        "() => document.querySelector('.sc-phases').textContent.includes('year 0.75:')"
    )
    assert page.locator(".sc-confirm").count() == 0 and _step_number(page) == 6
    assert "year 0.75: Online government" in page.locator(".sc-phase-key").inner_text()
    _run_to(page, 2.0)
    assert page.locator(".sc-confirm").count() == 0
    toml = _download(page, "save scenario (TOML)").decode()
    assert "online_government = 0.75" in toml and "online_government = 1.5" in toml
    viewed = pd.read_csv(io.BytesIO(_download(page, "city CSV")))
    scenario = tmp_path / "phased.toml"
    scenario.write_text(toml)
    out = tmp_path / "cli"
    subprocess.run(
        [sys.executable, "-m", "smartcity", "run", "--scenario", str(scenario), "--years", "2",
         "--out", str(out), "--quiet"],
        check=True, cwd=ROOT,
    )  # fmt: skip
    cli = pd.read_parquet(out / "metrics.parquet")
    column = next(c for c in viewed.columns if c.startswith("governance_index ["))
    assert len(cli) == len(viewed) == 25
    assert viewed[column].to_numpy() == pytest.approx(cli["governance_index"].to_numpy(), rel=1e-12)
    # a start moved before year 2, which the run has passed, asks first
    _set_year(page, "start", 0.25)
    page.wait_for_selector(".sc-confirm")
    assert _step_number(page) == 24
    _no_page_error(page)
    assert failures == [], failures
    _close(page)
