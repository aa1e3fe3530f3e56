"""``smartcity ui``: start the planners' view (a Solara server), on 127.0.0.1 by default.

The root cli.py adds this subcommand through :func:`register`. ``--presets DIR`` and
``--packages DIR`` list the user presets and policy packages of those folders; with
``--allow-code`` a listed package may name a Python initiative (``class = "module:Class"``,
the module on the server's Python path), which the view then runs and offers. The server
runs as a child process; SIGTERM, SIGINT and SIGHUP sent to ``smartcity ui`` are passed on
to it, so stopping the command stops the server. The view has no login: ``--host`` other
than 127.0.0.1 prints a warning.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from smartcity.simulation.world.errors import InputError

APP = Path(__file__).with_name("app.py")
LOCAL_HOST = "127.0.0.1"
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def solara_command(host: str, port: int, production: bool) -> list[str]:
    """The command line that serves visualization/app.py."""
    command = [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port)]
    return [*command, "--production"] if production else command


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """The server's environment: the user preset folder (or none), the session cap and the
    time after which a disconnected session is freed; no $HOST (the host is explicit)."""
    # The views (and the model) are imported only when the view is served.
    from smartcity.visualization.views import ALLOW_CODE_ENV, PACKAGES_ENV, PRESETS_ENV

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HOST", PRESETS_ENV, PACKAGES_ENV, ALLOW_CODE_ENV)
    }
    env.update(
        SOLARA_TELEMETRY_ENABLED="False",
        SOLARA_KERNEL_CULL_TIMEOUT=f"{args.session_timeout}s",
        SMARTCITY_MAX_SESSIONS=str(args.max_sessions),
    )
    if args.presets is not None:
        env[PRESETS_ENV] = str(args.presets)
    if getattr(args, "packages", None) is not None:
        env[PACKAGES_ENV] = str(args.packages)
    if getattr(args, "allow_code", False):
        env[ALLOW_CODE_ENV] = "1"
    return env


def command_ui(args: argparse.Namespace) -> int:
    """Serve the view until interrupted; one-line error when the viz extra is missing or an
    option is bad."""
    if importlib.util.find_spec("solara") is None:
        raise InputError(
            "the interactive view needs the viz extra: pip install -e '.[viz]' (solara, mesa[viz])"
        )
    if args.presets is not None:
        folder = Path(args.presets)
        if not folder.is_dir():
            raise InputError(f"--presets {folder}: not a directory of preset .toml files")
        args.presets = folder.resolve()
    if args.packages is not None:
        folder = Path(args.packages)
        if not folder.is_dir():
            raise InputError(f"--packages {folder}: not a directory of policy package .toml files")
        args.packages = folder.resolve()
    if args.max_sessions < 1:
        raise InputError(f"--max-sessions must be at least 1, got {args.max_sessions}")
    if args.session_timeout <= 0:
        raise InputError(f"--session-timeout must be positive, got {args.session_timeout}")
    if args.host != LOCAL_HOST:
        print(
            f"smartcity ui: warning: serving on {args.host}; the view has no login, anyone who "
            "can reach this address can use it",
            file=sys.stderr,
        )
    print(f"smartcity ui: serving the planners' view at http://{args.host}:{args.port}")
    child = subprocess.Popen(
        solara_command(args.host, args.port, not args.dev), env=server_environment(args)
    )

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # pragma: no cover - SIGINT is forwarded instead
                child.send_signal(signal.SIGINT)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ui`` subcommand to the ``smartcity`` parser."""
    ui = subparsers.add_parser("ui", help="start the interactive planners' view (Solara)")
    ui.add_argument(
        "--host",
        default=LOCAL_HOST,
        help=f"address to bind (default {LOCAL_HOST}; the view has no login)",
    )
    ui.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    ui.add_argument(
        "--presets",
        help="folder whose .toml preset files the view lists (default: shipped presets only)",
    )
    ui.add_argument(
        "--packages",
        help="folder whose .toml policy package files the view lists (default: shipped only)",
    )
    ui.add_argument(
        "--allow-code",
        action="store_true",
        help="let the listed user packages name Python initiative classes (imported and run; "
        "only for packages you trust)",
    )
    ui.add_argument(
        "--max-sessions",
        type=int,
        default=8,
        help="most browser sessions served at once (default 8)",
    )
    ui.add_argument(
        "--session-timeout",
        type=float,
        default=60.0,
        help="seconds after which a disconnected session is freed (default 60)",
    )
    ui.add_argument(
        "--dev", action="store_true", help="auto-reload on code changes (solara dev mode)"
    )
    ui.set_defaults(handler=command_ui)
