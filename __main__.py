"""``python -m smartcity``: the command line (same as the ``smartcity`` script)."""

from smartcity.cli import main

raise SystemExit(main())
