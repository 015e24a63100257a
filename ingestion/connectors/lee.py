"""Les entreprises s'engagent partner feed: FT *Offres d'emploi v2* pages (`range=a-b`) and a member roster."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg

from ingestion.connectors import Page
from ingestion.fetch import Fetcher, FetchError
from matching.storage.offers import CompanyRecord, upsert_company

MAX_PAGE = 150
_CONTENT_RANGE = re.compile(r"(\d+)-(\d+)/(\d+)")
SELECT_MEMBER = """
SELECT name, naf_code, size_band, postal_code, lee_member, lee_commitments, qpv_clause
FROM companies WHERE siret = %(siret)s
"""


def _member(item: dict) -> CompanyRecord | None:
    siret = "".join(str(item.get("siret") or "").split())
    name = str(item.get("nom") or item.get("name") or "").strip()
    if len(siret) != 14 or not siret.isdigit() or not name:
        return None
    commitments = tuple(sorted({str(c) for c in item.get("engagements") or item.get("commitments") or []}))
    return CompanyRecord(
        name=name[:300], siret=siret, naf_code=(item.get("codeNAF") or item.get("naf") or None),
        size_band=item.get("tranche_effectif") or item.get("size_band"), postal_code=item.get("codePostal"),
        lee_member=True, lee_commitments=commitments, qpv_clause="recrutement_qpv" in commitments,
    )  # fmt: skip


def sync_roster(conn: psycopg.Connection, url: str, fetcher: Fetcher) -> int:
    """Flag the roster's companies as LEE members (only rows that changed are written); return how many."""
    body, _ = fetcher.get_json(url)
    members = body.get("entreprises", []) if isinstance(body, dict) else body or []
    written = 0
    for item in members:
        record = _member(item) if isinstance(item, dict) else None
        if record is None:
            continue
        row = conn.execute(SELECT_MEMBER, {"siret": record.siret}).fetchone()
        if (
            row
            and row["lee_member"]
            and set(record.lee_commitments) <= set(row["lee_commitments"])
            and row["name"] == record.name
        ):
            continue
        upsert_company(conn, record)
        written += 1
    return written


class LeeConnector:
    """Pages of the LEE partner feed, resumable at any page."""

    parser = "francetravail"

    def snapshot(self, config: dict) -> bool:
        """The feed serves every live offer on each run."""
        return bool(config.get("snapshot", True))

    def pages(self, conn: psycopg.Connection, config: dict, cursor: dict | None, fetcher: Fetcher) -> Iterator[Page]:
        """Yield pages of at most 150 offers, following `Content-Range: offres a-b/N`."""
        start = int((cursor or {}).get("next", 0))
        if start == 0 and config.get("roster_url"):
            sync_roster(conn, config["roster_url"], fetcher)
        size = min(MAX_PAGE, int(config.get("page_size", MAX_PAGE)))
        while True:
            body, response = fetcher.get_json(config["url"], {"range": f"{start}-{start + size - 1}"})
            if body is None:
                return
            if not isinstance(body, dict) or not isinstance(body.get("resultats"), list):
                raise FetchError(f"{config['url']}: response without a `resultats` list")
            records = body["resultats"]
            match = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
            total = int(match[3]) if match else None
            start += len(records)
            done = not records or (total is not None and start >= total) or (total is None and len(records) < size)
            yield Page(records, None if done else {"next": start}, total)
            if done:
                return


CONNECTOR = LeeConnector()
