"""Load test of the planners' view: 10 sessions playing at once, then closed.

``smartcity ui`` is started (with a short session timeout); headless Chromium opens one page
to load the server's modules and closes it, and the server's memory (resident set of the
server process tree) is read: that is the start. Then 10 pages open, each presses play (each
session plays its own 5,000-citizen city to year 5); every page is checked for an error
message ("Traceback", "Could not restore session", a Solara error) while and after playing.
All pages are closed, the session timeout passes, and the memory is read again: it must come
back to within 20% of the start, and the server's CPU must be idle.

Two rounds by default, so memory that creeps from round to round shows.

Run: ``python -m benchmarks.bench_view_load [--sessions 10] [--play-seconds 40] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import time

import psutil

from benchmarks.bench_view import CHROMIUM, start_server

SESSION_TIMEOUT_S = 5
ERRORS = ("Traceback", "Could not restore session", "error in step", "Error:")


def tree_rss_mb(proc: psutil.Process) -> float:
    """Resident memory of a process and its children, MB."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def tree_cpu_percent(proc: psutil.Process, seconds: float = 3.0) -> float:
    """CPU use of a process tree over ``seconds`` (100 = one core busy)."""
    procs = [proc, *proc.children(recursive=True)]
    for p in procs:
        p.cpu_percent(None)
    time.sleep(seconds)
    return sum(p.cpu_percent(None) for p in procs)


def page_errors(page) -> list[str]:
    """The error markers shown on a page."""
    text = page.locator("body").inner_text()
    return [marker for marker in ERRORS if marker in text]


def play_round(browser, url: str, tree: psutil.Process, args, size, start: float, round_: int):
    """Open ``args.sessions`` pages, play each, close them all and wait until they are
    freed; print the peak and the memory after; return the failures."""
    failures = []
    contexts = [browser.new_context(viewport=size) for _ in range(args.sessions)]
    pages = [c.new_page() for c in contexts]
    for page in pages:
        page.goto(url, timeout=120_000)
    for page in pages:
        page.wait_for_selector(".sc-play", timeout=180_000)
        page.locator(".sc-play").click()
    t0 = time.monotonic()
    peak = start
    while time.monotonic() - t0 < args.play_seconds:
        time.sleep(2)
        peak = max(peak, tree_rss_mb(tree))
    steps = []
    for i, page in enumerate(pages):
        errors = page_errors(page)
        if errors:
            failures.append(f"round {round_}, page {i}: {errors}")
        steps.append(page.locator(".sc-step").inner_text().split(" (")[0])
    print(f"round {round_}: {args.sessions} sessions playing {args.play_seconds:.0f} s: {steps}")
    print(f"round {round_}: server memory, peak while playing: {peak:.0f} MB")
    for context in contexts:
        context.close()
    time.sleep(SESSION_TIMEOUT_S + 10)
    time.sleep(SESSION_TIMEOUT_S + 5)
    after = tree_rss_mb(tree)
    print(
        f"round {round_}: server memory after every page closed and freed: {after:.0f} MB "
        f"({100 * (after - start) / start:+.1f}% of start)"
    )
    return failures


def main(argv: list[str] | None = None) -> int:
    """Run the load test, print its figures; exit status 1 if a criterion fails."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--play-seconds", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of sessions (default 2)")
    args = parser.parse_args(argv)
    server, url = start_server(
        "--max-sessions",
        str(args.sessions),
        "--session-timeout",
        str(SESSION_TIMEOUT_S),
    )
    tree = psutil.Process(server.pid)
    failures = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            warm = browser.new_page()
            warm.goto(url, timeout=120_000)
            warm.wait_for_selector(".sc-play", timeout=120_000)
            warm.close()
            time.sleep(SESSION_TIMEOUT_S + 5)
            start = tree_rss_mb(tree)
            print(f"server memory at start (one session opened and closed): {start:.0f} MB")
            size = {"width": 1366, "height": 768}
            for round_ in range(1, args.rounds + 1):
                failures += play_round(browser, url, tree, args, size, start, round_)
            # The cap equals the sessions played: a new page is served only if they were freed.
            again = browser.new_page()
            again.goto(url, timeout=120_000)
            again.wait_for_selector(".sc-step, .sc-full", timeout=120_000)
            if again.locator(".sc-full").count():
                failures.append("the closed sessions were not freed: the view is full")
            else:
                print("a new page after closing every session: served (sessions were freed)")
            again.close()
            browser.close()
        time.sleep(SESSION_TIMEOUT_S + 5)
        end = tree_rss_mb(tree)
        cpu = tree_cpu_percent(tree)
        change = 100 * (end - start) / start
        print(
            f"server memory after every page closed and freed: {end:.0f} MB "
            f"({change:+.1f}% of start); server CPU then: {cpu:.0f}%"
        )
        if change > 20:
            failures.append(f"memory did not come back: {change:+.1f}% of start")
        if cpu > 20:
            failures.append(f"the server is still busy: {cpu:.0f}% CPU")
    finally:
        server.terminate()
        server.wait(20)
    print("page errors: none" if not any("page" in f for f in failures) else "")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
