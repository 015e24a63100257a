"""A coordinator's export or a dump on disk: FT offers (JSON array or {"resultats": [...]}), CSV or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg

from ingestion.connectors import Page
from ingestion.connectors.eq2030 import read_rows
from ingestion.fetch import Fetcher

BATCH = 500
FORMATS = ("francetravail", "csv", "jsonl")


def read_file(path: Path, fmt: str) -> list:
    """Every record of a file in one of `FORMATS`."""
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "francetravail":
        data = json.loads(text)
        return data.get("resultats", []) if isinstance(data, dict) else data
    return read_rows(text, fmt)


class FileConnector:
    """Records of one file, ingested in batches; FT dumps parse as FT offers, CSV/JSON lines as EQ2030 rows."""

    parser = "by_format"

    def parser_for(self, config: dict) -> str:
        """The parser of the configured format."""
        return "francetravail" if config.get("format", "francetravail") == "francetravail" else "eq2030"

    def snapshot(self, config: dict) -> bool:
        """A file is a snapshot only when the operator says so."""
        return bool(config.get("snapshot", False))

    def pages(self, conn: psycopg.Connection, config: dict, cursor: dict | None, fetcher: Fetcher) -> Iterator[Page]:
        """Yield batches of the file's records from the cursor on."""
        records = read_file(Path(config["path"]), config.get("format", "francetravail"))
        start = int((cursor or {}).get("next", 0))
        size = int(config.get("batch_size", BATCH))
        for i in range(start, len(records), size):
            end = min(len(records), i + size)
            yield Page(records[i:end], {"next": end} if end < len(records) else None, len(records))


CONNECTOR = FileConnector()
