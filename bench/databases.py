"""The database a benchmark works in: a database of its own beside the configured one, kept between runs."""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import connection


def use_database(name: str, *, copy_from: str | None = None) -> str:
    """Point Django at the database ``name`` (created, and migrated, if missing; with ``copy_from``, first
    copied from that database when it exists: faster than filling it again) and return its name."""
    if copy_from:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)", [name, copy_from])
            present = {row[0] for row in cursor.fetchall()}
            if name not in present and copy_from in present:
                print(f"copying {copy_from} into {name}…", file=sys.stderr, flush=True)
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{copy_from}"')
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    return connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
