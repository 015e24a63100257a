"""Ranking benchmark: 100k offers and 50k candidates, the API driven by concurrent clients, both directions.

Vectors are synthetic but realistic: one centre per ROME job (the real e5 embedding of the fiche's label,
as a passage for offers and as a query for candidates) plus noise, so offers cluster by job family. Places
(`--geography`): `cities` clusters offers and candidates around 32 large cities (the default, and the denser
workload: the median candidate has ~680 offers passing their filters); `qpv` puts each candidate in a priority
neighbourhood, as the programme's residents are, and clusters offers around the 1,584 QPV (closer to the density
of the issue's reference data, a median of 187). Texts are short and written from ROME labels and skills (for
the lexical channel). The encoder is not run 150,000 times.

Prints: data and index build times, index sizes, resident memory, p50/p95/p99 of both API directions and of the
bare retrieval SQL in the same run, the CPU a request of the API, PostgreSQL and the load client in each
direction, filtered recall@10 of the semantic channel versus exact search, and a closing line per goal of the
issue, met or not. Advisers call as the API scopes them: one per structure (~500 candidates each), each asking
about its own candidates, and about the candidates of its structure for an offer; the candidates for an offer
are also measured as a platform admin (every structure).

Run from the repository root: ``python bench/ranking.py`` (``--scale 0.1`` for a quick check).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import psutil
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.auth.tokens import sign_local_token
from matching.config import Settings
from matching.embeddings import load_embedder
from matching.matches import candidate_search
from matching.referentiels.load import load_reference_data
from matching.retrieval import HARD_FILTERS, OfferQuery, hybrid_offers, hybrid_params
from matching.storage.advisers import upsert_adviser
from matching.storage.database import connect
from matching.storage.migrator import upgrade
from matching.storage.offers import refresh_place_counts
from matching.storage.server import start_embedded_server

# Large cities (INSEE) with a rough weight: where offers and candidates cluster.
CITIES = {
    "75056": 10, "13055": 5, "69123": 5, "31555": 4, "06088": 3, "44109": 3, "67482": 3, "34172": 3,
    "33063": 3, "59350": 4, "35238": 2, "51454": 1, "76351": 1, "42218": 1, "83137": 1, "38185": 2,
    "21231": 1, "49007": 1, "30189": 1, "63113": 1, "37261": 1, "45234": 1, "93066": 3, "93008": 2,
    "92050": 2, "94028": 2, "95585": 1, "57463": 1, "68224": 1, "29019": 1, "87085": 1, "80021": 1,
}  # fmt: skip
# Where offers and candidates are placed (`--geography`).
GEOGRAPHIES = {
    "cities": "offers and candidates clustered around 32 large cities (Paris and inner suburbs: 28 % of the weight)",
    "qpv": "candidates live in a priority neighbourhood (QPV), offers are clustered around the 1,584 QPV",
}
QPV_HOME_SPREAD_KM = 1.0  # a QPV spans ~1–2 km: its residents live within about that of its centroid
BENCH_GEOGRAPHY = "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'bench'"
CONTRACTS = ("CDI", "CDD", "MIS", "APPRENTISSAGE", "IAE", "SAI")
CONTRACT_WEIGHTS = (0.45, 0.27, 0.12, 0.08, 0.05, 0.03)
JOB_CLUSTERS = 600
NOISE = 0.55  # norm of the per-item noise added to the job centre: in-cluster cosine ≈ 0.75–0.9

JOBS = """
SELECT f.code_rome::text AS code, f.label,
       ARRAY(SELECT a.label FROM rome_appellations AS a WHERE a.code_rome = f.code_rome AND NOT a.peu_usite
             ORDER BY a.code_ogr LIMIT 8) AS appellations,
       ARRAY(SELECT c.label FROM rome_fiche_items AS i JOIN rome_competences AS c ON c.code_ogr = i.code_ogr
             WHERE i.code_rome = f.code_rome AND i.block = 'competences' ORDER BY i.principal DESC, i.code_ogr
             LIMIT 12) AS skills
FROM rome_fiches AS f ORDER BY f.code_rome
"""
INDEXES = {
    "offers_pt_active_idx (GiST)": "CREATE INDEX offers_pt_active_idx ON offers USING gist (pt) "
                                   "WHERE status = 'active'",
    "offers_retrieval_cover_idx (B-tree, covering)": "CREATE INDEX offers_retrieval_cover_idx ON offers USING btree "
                                                     "(contract_type, place_cell) "
                                                     "INCLUDE (id, pt, hours_per_week, part_time, licences, "
                                                     "source_id, rome_code, embedding_half, lexical_tsv) "
                                                     "WHERE status = 'active' AND embedding IS NOT NULL",
    "offers_embedding_half_active_idx (HNSW)": "CREATE INDEX offers_embedding_half_active_idx ON offers USING hnsw "
                                               "(embedding_half halfvec_cosine_ops) WHERE status = 'active'",
    "offers_search_tsv_active_idx (GIN)": "CREATE INDEX offers_search_tsv_active_idx ON offers USING gin "
                                          "(search_tsv) WHERE status = 'active'",
    "offers_rome_active_idx (btree)": "CREATE INDEX offers_rome_active_idx ON offers (rome_code) "
                                      "WHERE status = 'active'",
}  # fmt: skip


def _vec_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.5f}" for x in v) + "]"


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _around(rng: random.Random, lat: float, lon: float, spread_km: float) -> tuple[float, float]:
    return lat + rng.gauss(0, spread_km) / 111.0, lon + rng.gauss(0, spread_km) / 75.0


def _place(rng: random.Random, centres: list[tuple[float, float]], weights: list[int], spread_km: float):
    if rng.random() < 0.12:  # some offers and people far from any centre
        lat, lon = rng.uniform(43.3, 50.5), rng.uniform(-1.5, 7.5)
    else:
        lat, lon = rng.choices(centres, weights)[0]
    return _around(rng, lat, lon, spread_km)


def _qpv_home(rng: random.Random, quarters: list[dict]) -> tuple[float, float, str, str]:
    """A QPV resident's place: near the centroid of a priority neighbourhood, with its commune and code."""
    q = rng.choice(quarters)
    lat, lon = _around(rng, q["centroid_lat"], q["centroid_lon"], QPV_HOME_SPREAD_KM)
    return lat, lon, q["communes"][0], q["code"]


def generate(conn: psycopg.Connection, offers: int, candidates: int, model_id: str, centres: dict, geography: str,
             seed: int = 1):
    """Write companies, structures, offers and candidates with synthetic vectors (COPY), placed by `geography`."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    jobs, passage, query = centres["jobs"], centres["passage"], centres["query"]
    quarters = []
    if geography == "cities":
        city_rows = conn.execute("SELECT lat, lon, insee FROM communes WHERE insee = ANY(%s)",
                                 (list(CITIES),)).fetchall()  # fmt: skip
        places = [(r["lat"], r["lon"]) for r in city_rows]
        weights = [CITIES[r["insee"]] for r in city_rows]
    else:
        quarters = conn.execute("SELECT code, communes, centroid_lat, centroid_lon FROM qpv ORDER BY code").fetchall()
        places = [(q["centroid_lat"], q["centroid_lon"]) for q in quarters]
        weights = [1] * len(places)
    conn.execute("INSERT INTO sources (id, kind, label) VALUES ('bench', 'file', 'Banc d''essai')")
    with conn.cursor().copy("COPY companies (name, name_normalized, lee_member, eq2030, qpv_clause) FROM STDIN") as cp:
        for i in range(max(50, offers // 20)):
            lee = rng.random() < 0.4
            cp.write_row((f"Entreprise {i}", f"entreprise {i}", lee, rng.random() < 0.1, lee and rng.random() < 0.4))
    company_ids = [r["id"] for r in conn.execute("SELECT id FROM companies ORDER BY id")]
    add_structure = "INSERT INTO structures (kind, name) VALUES ('france_travail', %s) RETURNING id"
    structures = [conn.execute(add_structure, (f"Agence {i}",)).fetchone()["id"]
                  for i in range(max(5, candidates // 500))]  # fmt: skip
    # Popular jobs get more offers (Zipf-like), as in real data.
    popularity = 1 / np.arange(1, len(jobs) + 1) ** 0.6
    popularity /= popularity.sum()
    offer_jobs = nrng.choice(len(jobs), size=offers, p=popularity)
    noise = nrng.normal(size=(offers, 384)).astype(np.float32) * (NOISE / np.sqrt(384))
    vectors = _unit(passage[offer_jobs] + noise)
    columns = ("source_id, external_id, company_id, title, description, rome_code, contract_type, hours_per_week, "
               "part_time, work_schedule, experience_required, skills, licences, lat, lon, content_hash, "
               "source_created_at, embedding, embedding_model")  # fmt: skip
    started = time.perf_counter()
    with conn.cursor().copy(f"COPY offers ({columns}) FROM STDIN") as cp:
        for i in range(offers):
            job = jobs[offer_jobs[i]]
            skills = rng.sample(job["skills"], min(4, len(job["skills"])))
            hours = rng.choice((35.0, 35.0, 35.0, 24.0, 28.0, 39.0, 20.0))
            lat, lon = _place(rng, places, weights, 9)
            title = rng.choice(job["appellations"] or [job["label"]])
            missions = "Missions : " + "; ".join(skills) if rng.random() < 0.7 else ""
            description = f"{title}. {job['label']}. {missions}"
            cp.write_row((
                "bench", f"B{i}", rng.choice(company_ids), title, description, job["code"],
                rng.choices(CONTRACTS, CONTRACT_WEIGHTS)[0], hours, hours < 35,
                rng.sample(("early", "late", "weekend", "night"), rng.choice((0, 0, 0, 1, 2))),
                rng.choice("DDSE"), psycopg.types.json.Jsonb([{"label": s} for s in skills]),
                ["B"] if rng.random() < 0.12 else [], lat, lon, b"\x00",
                f"2026-{rng.randint(9, 11):02d}-{rng.randint(1, 28):02d}", _vec_text(vectors[i]), model_id,
            ))  # fmt: skip
    offers_s = time.perf_counter() - started
    cand_jobs = nrng.choice(len(jobs), size=candidates, p=popularity)
    cnoise = nrng.normal(size=(candidates, 384)).astype(np.float32) * (NOISE / np.sqrt(384))
    cvectors = _unit(query[cand_jobs] + cnoise)
    ccolumns = ("structure_id, reference, commune_insee, qpv_code, lat, lon, target_rome_codes, skills, licences, "
                "max_commute_km, unavailable_schedules, part_time_only, desired_contracts, embedding, "
                "embedding_model, consent_given_at")  # fmt: skip
    started = time.perf_counter()
    with conn.cursor().copy(f"COPY candidates ({ccolumns}) FROM STDIN") as cp:
        for i in range(candidates):
            job = jobs[cand_jobs[i]]
            if geography == "cities":
                lat, lon = _place(rng, places, weights, 7)
                commune, qpv_code = "75056", None
            else:
                lat, lon, commune, qpv_code = _qpv_home(rng, quarters)
            childcare = rng.random() < 0.2
            cp.write_row((
                rng.choice(structures), f"C{i}", commune, qpv_code, lat, lon, [job["code"]],
                psycopg.types.json.Jsonb([{"label": s} for s in rng.sample(job["skills"], min(3, len(job["skills"])))]),
                ["B"] if rng.random() < 0.4 else [], float(rng.choice((10, 15, 20, 30, 40))),
                ["early", "late"] if childcare else [], childcare and rng.random() < 0.5,
                rng.sample(("CDI", "CDD", "MIS", "APPRENTISSAGE", "IAE"), rng.randint(1, 3)),
                _vec_text(cvectors[i]), model_id, "2026-01-01",
            ))  # fmt: skip
    candidates_s = time.perf_counter() - started
    conn.commit()
    return offers_s, candidates_s, structures


def job_centres(conn: psycopg.Connection, embedder) -> dict:
    """The e5 embeddings of 600 ROME job labels, as passages (offers) and as queries (candidates)."""
    rows = [r for r in conn.execute(JOBS).fetchall() if r["skills"]]
    rows = random.Random(3).sample(rows, min(JOB_CLUSTERS, len(rows)))
    labels = [r["label"] for r in rows]
    return {"jobs": rows, "passage": embedder.encode_passages(labels), "query": embedder.encode_queries(labels)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(samples: list[float]) -> str:
    """'p50 … p95 … p99 …' in milliseconds."""
    a = np.array(samples) * 1000
    return f"p50 {np.percentile(a, 50):6.1f} ms  p95 {np.percentile(a, 95):6.1f} ms  p99 {np.percentile(a, 99):6.1f} ms"


# The goals, on 2 cores with 4 clients.
GOAL_P95_MS, GOAL_P99_MS, GOAL_API_OVER_SQL, GOAL_RECALL = 50.0, 100.0, 2.0, 0.99


def goal_report(api: dict[str, list[float]], bare_sql: list[float], recall: float, under_filled: int) -> list[str]:
    """One line per goal of the issue: the measured figure, and whether it is met (latencies in seconds)."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    for name, samples in api.items():
        p95, p99 = np.percentile(np.array(samples) * 1000, [95, 99])
        lines.append(f"  {name}: p95 {p95:.1f} ms ({verdict(p95 <= GOAL_P95_MS)}), "
                     f"p99 {p99:.1f} ms ({verdict(p99 <= GOAL_P99_MS)})")  # fmt: skip
    # The bare SQL is stage 1 of the first series (offers for a candidate).
    name, first = next(iter(api.items()))
    ratios = np.percentile(first, [50, 95, 99]) / np.percentile(bare_sql, [50, 95, 99])
    figures = [f"p{q} {r:.2f}× ({verdict(r <= GOAL_API_OVER_SQL)})" for q, r in zip((50, 95, 99), ratios, strict=True)]
    lines.append(f"  {name} against its bare SQL: " + ", ".join(figures))
    lines.append(f"  recall@10 {recall:.4f} ({verdict(recall >= GOAL_RECALL)}), under-filled lists {under_filled} "
                 f"({verdict(under_filled == 0)})")  # fmt: skip
    return lines


def _serves(cmdline: list[str], pgdata: Path) -> bool:
    """Whether a command line is that of the PostgreSQL server of this data folder (`postgres -D <pgdata>`)."""
    return any(flag == "-D" and Path(value).resolve() == pgdata.resolve()
               for flag, value in itertools.pairwise(cmdline))  # fmt: skip


class CpuMeter:
    """CPU seconds spent by the API, the PostgreSQL server and this load client between two readings."""

    def __init__(self, api_pid: int, pgdata: Path) -> None:
        self.api = psutil.Process(api_pid)
        self.postmaster = next(p for p in psutil.process_iter(["cmdline"]) if _serves(p.info["cmdline"] or [], pgdata))
        self.me = psutil.Process()

    @staticmethod
    def _per_process(processes: list[psutil.Process]) -> dict[int, float]:
        seconds = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            seconds[process.pid] = times.user + times.system
        return seconds

    def read(self) -> dict[str, dict[int, float]]:
        """A reading: CPU seconds per process of each party (PostgreSQL backends come and go)."""
        return {
            "API": self._per_process([self.api, *self.api.children(recursive=True)]),
            "PostgreSQL": self._per_process([self.postmaster, *self.postmaster.children(recursive=True)]),
            "load client": self._per_process([self.me]),
        }

    @staticmethod
    def per_request(before: dict, after: dict, requests: int) -> str:
        """'API … ms, PostgreSQL … ms, load client … ms' of CPU a request between two readings."""
        parts = []
        for party, seconds in after.items():
            spent = sum(s - before[party].get(pid, 0.0) for pid, s in seconds.items())
            parts.append(f"{party} {spent / requests * 1000:.1f} ms")
        return ", ".join(parts)


def drive(requests: list[tuple[str, dict[str, str]]], clients: int) -> tuple[list[float], int]:
    """Send (url, headers) requests from `clients` threads; the latency of each (in order), and how many failed.

    Each thread keeps one HTTP/1.1 connection (`http.client`): the load client shares the machine's cores with the
    API and PostgreSQL, and httpx cost ~1.7 ms of CPU a request where http.client costs a fraction of it.
    """
    latencies: list[float] = [0.0] * len(requests)
    failures = [0]
    lock = threading.Lock()
    queue = list(enumerate(requests))

    def worker() -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            with lock:
                if not queue:
                    break
                index, (url, headers) = queue.pop()
            parts = urlsplit(url)
            target = f"{parts.path}?{parts.query}" if parts.query else parts.path
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies[index] = elapsed
                if status != 200:
                    failures[0] += 1
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures[0]


def bare_retrieval(url: str, queries: list[OfferQuery], clients: int) -> list[float]:
    """Latency of the hybrid stage-1 SQL alone (same queries, same concurrency), in the order of `queries`."""
    latencies: list[float] = [0.0] * len(queries)
    lock = threading.Lock()
    queue = list(enumerate(queries))

    def worker() -> None:
        with connect(url) as conn:
            while True:
                with lock:
                    if not queue:
                        return
                    index, q = queue.pop()
                started = time.perf_counter()
                hybrid_offers(conn, q)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[index] = elapsed

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


# Offers passing a candidate's hard filters: the work of the exact plan. The reference data had a median
# of 187; the `cities` geography's is ~686, the `qpv` geography's ~226.
DENSITY_BUCKETS = ((0, 200), (201, 1000), (1001, 5000), (5001, None))


def passing_counts(conn: psycopg.Connection, queries: list[OfferQuery]) -> list[int]:
    """How many active offers pass each query's hard filters."""
    counts = [conn.execute(PASSING.format(filters=HARD_FILTERS), hybrid_params(q)).fetchone()["n"] for q in queries]
    conn.rollback()
    return counts


def by_density(passing: list[int], series: dict[str, list[float]]) -> None:
    """Print p50/p95 of each latency series per bucket of passing offers."""
    for low, high in DENSITY_BUCKETS:
        picked = [i for i, n in enumerate(passing) if n >= low and (high is None or n <= high)]
        if not picked:
            continue
        label = f"{low:,}–{high:,}" if high is not None else f"> {low - 1:,}"
        figures = "  ".join(
            "{} p50 {:6.1f} p95 {:6.1f} ms".format(name, *np.percentile([lat[i] for i in picked], [50, 95]) * 1000)
            for name, lat in series.items()
        )
        print(f"  passing offers {label:>12} ({len(picked):3d} requests)  {figures}")


EXACT_TOP = """
SELECT o.id FROM offers AS o
WHERE {filters}
ORDER BY (o.embedding <=> %(query)s) + 0, o.id
LIMIT 10
"""


PASSING = "SELECT count(*) AS n FROM offers AS o WHERE {filters}"


def recall_versus_exact(conn: psycopg.Connection, queries: list[OfferQuery]) -> tuple[float, float, int, dict]:
    """Mean and 5th-percentile recall@10 of the semantic channel versus an exact scan, and under-filled lists."""
    recalls, underfilled, plans = [], 0, {}
    for q in queries:
        q10 = OfferQuery(q.embedding, q.lat, q.lon, q.radius_km, q.filters, q.target_codes, q.mobility_codes,
                         q.lexical_terms, depth=10)  # fmt: skip
        result = hybrid_offers(conn, q10)
        plans[result.plan] = plans.get(result.plan, 0) + 1
        found = [r["id"] for r in result.rows if "semantic" in r["ranks"]]
        with conn.transaction():
            conn.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
            exact = [r["id"] for r in conn.execute(EXACT_TOP.format(filters=HARD_FILTERS), hybrid_params(q10))]
        if len(found) < len(exact):
            underfilled += 1
        recalls.append(len(set(found) & set(exact)) / len(exact) if exact else 1.0)
    return float(np.mean(recalls)), float(np.percentile(recalls, 5)), underfilled, plans


def build(conn: psycopg.Connection, settings: Settings, embedder, n_offers: int, n_candidates: int,
          geography: str) -> list:
    """Load the reference data, generate offers and candidates, build the indexes; print the times and sizes."""
    started = time.perf_counter()
    load_reference_data(conn, settings.reference_data_dir)
    print(f"reference data loaded in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    centres = job_centres(conn, embedder)
    print(f"{len(centres['jobs'])} job centres embedded in {time.perf_counter() - started:.1f} s")
    for name in INDEXES:
        conn.execute(f"DROP INDEX {name.split()[0]}")
    conn.commit()
    offers_s, candidates_s, structures = generate(conn, n_offers, n_candidates, embedder.model_id, centres, geography)
    print(f"wrote {n_offers} offers in {offers_s:.1f} s and {n_candidates} candidates in "
          f"{candidates_s:.1f} s")  # fmt: skip
    conn.execute("SET maintenance_work_mem = '1GB'")
    for name, statement in INDEXES.items():
        started = time.perf_counter()
        conn.execute(statement)
        conn.commit()
        size = conn.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass)) AS s",
                            (name.split()[0],)).fetchone()["s"]  # fmt: skip
        print(f"index {name}: built in {time.perf_counter() - started:.1f} s, {size}")
    started = time.perf_counter()
    refresh_place_counts(conn)
    conn.commit()
    print(f"offer counts per place cell refreshed in {time.perf_counter() - started:.2f} s")
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE offers")
    conn.execute("ANALYZE candidates")
    conn.autocommit = False
    table = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('offers')) AS s").fetchone()["s"]
    print(f"offers table with indexes: {table}")
    return structures


def main() -> None:
    """Generate, index, serve, drive, and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k offers and 50k candidates")
    parser.add_argument("--requests", type=int, default=400, help="requests per direction")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the generated database in this folder and reuse it on the next run "
                             "(build times are then not measured again)")  # fmt: skip
    parser.add_argument("--geography", choices=GEOGRAPHIES, default="cities",
                        help="where offers and candidates are placed: " + "; ".join(
                            f"{name}: {what}" for name, what in GEOGRAPHIES.items()))  # fmt: skip
    parser.add_argument("--build-only", action="store_true", help="stop after the build and the recall check")
    parser.add_argument("--api-workers", type=int, default=1,
                        help="uvicorn worker processes serving the API (1: `maillage serve`, one process whose "
                             "requests in flight share one GIL)")  # fmt: skip
    args = parser.parse_args()
    n_offers, n_candidates = int(100_000 * args.scale), int(50_000 * args.scale)
    settings = Settings()
    print(f"machine: {os.cpu_count()} CPU cores, shared with other work; synthetic vectors (see the docstring)")
    print(f"geography: {args.geography} ({GEOGRAPHIES[args.geography]})")
    if args.api_workers > 1:
        print(f"API served by {args.api_workers} uvicorn worker processes")
    embedder = load_embedder(Settings(env="test"))
    with tempfile.TemporaryDirectory(prefix="maillage-bench-rank-", dir="/tmp") as tmp:
        pgdata = (args.data_dir / "pgdata") if args.data_dir else Path(tmp) / "pgdata"
        # The application's embedded server, with its shared_buffers (MAILLAGE_EMBEDDED_SHARED_BUFFERS).
        server = start_embedded_server(pgdata, cleanup_mode="stop" if args.data_dir else "delete",
                                       shared_buffers=settings.embedded_shared_buffers_value)  # fmt: skip
        try:
            admin = server.get_uri()
            with psycopg.connect(admin, autocommit=True) as c:
                print(f"PostgreSQL shared_buffers: {c.execute('SHOW shared_buffers').fetchone()[0]}")
                reuse = c.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone() is not None
                if not reuse:
                    c.execute("CREATE DATABASE bench")
                    # The database remembers its geography, so that a reused one is never measured as another.
                    c.execute(sql.SQL("COMMENT ON DATABASE bench IS {}").format(f"geography={args.geography}"))
                built_as = c.execute(BENCH_GEOGRAPHY).fetchone()[0] or "geography=cities"  # built before the option
                if built_as != f"geography={args.geography}":
                    raise SystemExit(f"{pgdata} was built with {built_as}, not geography={args.geography}: "
                                     "choose another --data-dir")  # fmt: skip
            url = server.get_uri("bench")
            upgrade(url)
            with connect(url) as conn:
                if reuse:
                    count = conn.execute("SELECT count(*) AS n FROM offers").fetchone()["n"]
                    if count != n_offers:
                        raise SystemExit(f"{pgdata} holds {count} offers, not {n_offers}: choose another --data-dir")
                    print(f"reusing the database in {pgdata} (build times not measured again)")
                    structures = [r["id"] for r in conn.execute("SELECT id FROM structures ORDER BY name")]
                else:
                    structures = build(conn, settings, embedder, n_offers, n_candidates, args.geography)
                # Sampled by seed, so that runs on a reused database send the same requests.
                conn.execute("SELECT setseed(0.5)")
                cand = conn.execute("SELECT id, structure_id FROM candidates ORDER BY random() LIMIT %s",
                                    (args.requests,)).fetchall()  # fmt: skip
                offer_ids = [r["id"] for r in conn.execute("SELECT id FROM offers ORDER BY random() LIMIT %s",
                                                           (args.requests,))]  # fmt: skip
                # The bare SQL runs the very stage-1 queries the API builds for these candidates.
                queries = [
                    candidate_search(conn, conn.execute("SELECT * FROM candidates WHERE id = %s", (row["id"],))
                                     .fetchone(), radius_km=None,
                                     default_radius_km=settings.default_search_radius_km).query
                    for row in cand
                ]  # fmt: skip
                passing = passing_counts(conn, queries)
                p10, p50, p90 = np.percentile(passing, [10, 50, 90])
                print(f"offers passing each sampled candidate's hard filters: p10 {p10:.0f}, median {p50:.0f}, "
                      f"p90 {p90:.0f}, max {max(passing)}")  # fmt: skip
                mean, p5, under, plans = recall_versus_exact(conn, queries[: min(200, len(queries))])
                print(f"filtered recall@10 of the semantic channel vs exact: mean {mean:.4f}, p5 {p5:.2f}, "
                      f"under-filled lists {under} (plans {plans})")  # fmt: skip
                conn.rollback()
                if args.build_only:
                    return
            # Advisers signed in through the local issuer (whose key lives in the API's home): one per structure, each
            # asking for its own candidates and for the candidates of its structure to an offer, as the API scopes
            # them; and a platform admin, whose candidates for an offer are every structure's (the worst case).
            local = Settings(env="dev", home=tmp)
            auth: dict[object, dict[str, str]] = {}
            with connect(url) as conn:
                for structure_id, email, role in [
                    *((s, f"adviser{i}@maillage.test", "adviser") for i, s in enumerate(structures)),
                    (structures[0], "admin@maillage.test", "platform_admin"),
                ]:
                    upsert_adviser(conn, structure_id, email, role, subject=f"local:{email}")
                    token = sign_local_token(local, f"local:{email}", email, lifetime_s=4 * 3600)
                    auth["admin" if role == "platform_admin" else structure_id] = {"Authorization": f"Bearer {token}"}
                conn.commit()
            # Each offer is asked about by the advisers of one structure, in turn.
            offer_asks = [(i, structures[n % len(structures)]) for n, i in enumerate(offer_ids)]
            port = _free_port()
            env = {**os.environ, "DATABASE_URL": url, "MAILLAGE_ENV": "dev", "MAILLAGE_HOME": tmp,
                   "MAILLAGE_DB_POOL_MAX_SIZE": str(args.clients + 2),
                   "MAILLAGE_EMBEDDING_MODEL_DIR": str(settings.local_embedding_model_dir)}  # fmt: skip
            if args.api_workers == 1:
                command = [str(Path(sys.executable).parent / "maillage"), "serve", "--port", str(port)]
            else:
                # The same application, built from the environment by each worker process.
                command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                           "--port", str(port), "--workers", str(args.api_workers)]  # fmt: skip
            api = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)  # fmt: skip
            try:
                base = f"http://127.0.0.1:{port}"
                deadline = time.perf_counter() + 180
                while True:
                    try:
                        if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if api.poll() is not None or time.perf_counter() > deadline:
                        raise RuntimeError("API did not start: " + (api.stderr.read().decode()[-2000:] if api.stderr
                                                                     else ""))  # fmt: skip
                    time.sleep(0.2)
                for_candidate = [(f"{base}/v1/candidates/{r['id']}/matches?limit=20", auth[r["structure_id"]])
                                 for r in cand]  # fmt: skip
                for_offer = [(f"{base}/v1/offers/{i}/matches?limit=20", auth[s]) for i, s in offer_asks]
                for_offer_admin = [(f"{base}/v1/offers/{i}/matches?limit=20", auth["admin"]) for i in offer_ids]
                drive(for_candidate[:20], args.clients)
                # CPU a request tells where the time goes: on 2 cores, latency under load follows it.
                meter = CpuMeter(api.pid, pgdata)
                before = meter.read()
                lat_c, fail_c = drive(for_candidate, args.clients)
                middle = meter.read()
                lat_o, fail_o = drive(for_offer, args.clients)
                after = meter.read()
                lat_a, fail_a = drive(for_offer_admin, args.clients)
                if fail_c or fail_o or fail_a:
                    raise RuntimeError(f"{fail_c + fail_o + fail_a} requests failed: latencies would be meaningless")
                process = psutil.Process(api.pid)
                rss = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
                lat_sql = bare_retrieval(url, queries, args.clients)
            finally:
                api.terminate()
                api.wait(30)
            print(f"API resident memory (model loaded): {rss / 2**20:.0f} MiB")
            print(f"{args.clients} concurrent clients, {len(cand)} requests per direction, filters = each "
                  "candidate's commute radius, contracts, hours, licences")  # fmt: skip
            print(f"  GET /v1/candidates/{{id}}/matches  {percentiles(lat_c)}  failures {fail_c}")
            print(f"  bare hybrid retrieval SQL          {percentiles(lat_sql)}")
            print(f"  GET /v1/offers/{{id}}/matches      {percentiles(lat_o)}  failures {fail_o} "
                  f"(advisers: their structure's candidates, ~{n_candidates // len(structures)})")  # fmt: skip
            print(f"  GET /v1/offers/{{id}}/matches      {percentiles(lat_a)}  failures {fail_a} "
                  f"(a platform admin: every structure's candidates, {n_candidates})")  # fmt: skip
            print(f"CPU a request, candidates direction: {CpuMeter.per_request(before, middle, len(cand))}")
            print(f"CPU a request, offers direction (advisers): {CpuMeter.per_request(middle, after, len(offer_ids))}")
            print("offers for a candidate, by offers passing the candidate's filters (the exact plan's work):")
            by_density(passing, {"API": lat_c, "bare SQL": lat_sql})
            print(f"goals (p95 ≤ {GOAL_P95_MS:.0f} ms, p99 ≤ {GOAL_P99_MS:.0f} ms, the API within "
                  f"{GOAL_API_OVER_SQL:.0f}× of its bare SQL, recall@10 ≥ {GOAL_RECALL}, no under-filled list):")
            for line in goal_report({"offers for a candidate": lat_c, "candidates for an offer (advisers)": lat_o},
                                    lat_sql, mean, under):  # fmt: skip
                print(line)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
