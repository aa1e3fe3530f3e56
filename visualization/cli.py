"""``smartcity ui``: start the planners' view (a Solara server) on 127.0.0.1.

cli.py adds this subcommand through :func:`register`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from smartcity.simulation.errors import InputError

APP = Path(__file__).with_name("app.py")


def solara_command(host: str, port: int, production: bool) -> list[str]:
    """The command line that serves visualization/app.py."""
    command = [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port)]
    return [*command, "--production"] if production else command


def command_ui(args: argparse.Namespace) -> int:
    """Serve the view until interrupted; refuses with a one-line error when the viz extra
    is not installed."""
    if importlib.util.find_spec("solara") is None:
        raise InputError(
            "the interactive view needs the viz extra: pip install -e '.[viz]' (solara, mesa[viz])"
        )
    print(f"smartcity ui: serving the planners' view at http://{args.host}:{args.port}")
    env = {**os.environ, "SOLARA_TELEMETRY_ENABLED": "False"}
    return subprocess.call(solara_command(args.host, args.port, not args.dev), env=env)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ui`` subcommand to the ``smartcity`` parser."""
    ui = subparsers.add_parser("ui", help="start the interactive planners' view (Solara)")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    ui.add_argument(
        "--dev", action="store_true", help="auto-reload on code changes (solara dev mode)"
    )
    ui.set_defaults(handler=command_ui)
