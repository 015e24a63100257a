"""The schema a migrated database has, as normalised `pg_dump --schema-only` text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from matching.storage.server import embedded_bin_dir

SNAPSHOT_PATH = Path(__file__).with_name("schema.sql")
# Lines that vary between servers and runs without changing the schema.
_NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict|\\unrestrict)")


def dump_schema(conninfo: str) -> str:
    """Dump the schema (no data, no owners) with the bundled pg_dump, stripped of run-specific lines."""
    output = subprocess.run(
        [str(embedded_bin_dir() / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", conninfo],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line.rstrip() for line in output.splitlines() if not _NOISE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
