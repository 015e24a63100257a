"""Entrepreneuriat Quartiers 2030 exports: CSV (`;` or `,`) or JSON files, from a URL or a path."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg

from ingestion.connectors import Page
from ingestion.fetch import Fetcher

BATCH = 500


def read_rows(text: str, fmt: str) -> list:
    """Rows of a CSV export (dialect sniffed) or a JSON export (an array or {"offres": [...]})."""
    if fmt == "json":
        data = json.loads(text)
        return data.get("offres", data.get("offers", [])) if isinstance(data, dict) else data
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


class Eq2030Connector:
    """An EQ2030 network's export, read whole and ingested in batches."""

    parser = "eq2030"

    def snapshot(self, config: dict) -> bool:
        """An export lists every live offer of the network."""
        return bool(config.get("snapshot", True))

    def pages(self, conn: psycopg.Connection, config: dict, cursor: dict | None, fetcher: Fetcher) -> Iterator[Page]:
        """Yield batches of rows, resuming at the cursor's row."""
        fmt = config.get("format", "csv")
        if config.get("path"):
            text = Path(config["path"]).read_text(encoding="utf-8-sig")
        else:
            response = fetcher.client.get(config["url"])
            response.raise_for_status()
            text = response.content.decode("utf-8-sig")
        rows = read_rows(text, fmt)
        start = int((cursor or {}).get("next", 0))
        for i in range(start, len(rows), BATCH):
            end = min(len(rows), i + BATCH)
            yield Page(rows[i:end], {"next": end} if end < len(rows) else None, len(rows))
        if start >= len(rows):
            yield Page([], None, len(rows))


CONNECTOR = Eq2030Connector()
