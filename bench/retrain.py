"""Re-training benchmark: a full `maillage retrain` run on ~200k feedback events (goal: ≤ 2 min on 2 cores).

Writes synthetic match logs and feedback from a hidden preference (employers hire close-by candidates whose
skills match; see `modeles.synthetic`) in a throwaway embedded PostgreSQL, then times one re-training run —
training set from the logs, challenger training, evaluation of challenger, champion and v0 on the same
holdout, gate, registry write — and samples this process's resident memory during the run.

Prints: data sizes, generation time, the run's wall time and its parts, peak RSS, and the holdout metrics
(overall and per slice) with the gate's decision.

Run from the repository root: ``python bench/retrain.py`` (``--events 20000`` for a quick check).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maillage.commands.models import echo_report
from matching.config import Settings
from matching.storage.database import connect
from matching.storage.migrator import upgrade
from matching.storage.server import start_embedded_server
from modeles.retrain import run_retrain
from modeles.synthetic import write_synthetic_logs

EVENTS_PER_REQUEST_GUESS = 8.0


class PeakMemory:
    """Samples this process's resident set size in a thread; `peak` in MiB."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.process, self.every_s, self.peak = psutil.Process(), every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss / 2**20)
            time.sleep(self.every_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="feedback events to generate (about)")
    parser.add_argument("--items", type=int, default=20, help="items per served list")
    parser.add_argument("--trainer", default="hgb", help="hgb or pairwise-logistic")
    parser.add_argument("--threads", type=int, default=0, help="training threads (0 = every core)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    print(f"cores: {psutil.cpu_count()} logical; load average {psutil.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="maillage-bench-retrain-") as tmp:
        server = start_embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            with psycopg.connect(server.get_uri(), autocommit=True) as admin:
                admin.execute("CREATE DATABASE bench")
            url = server.get_uri("bench")
            upgrade(url)
            settings = Settings(env="test", database_url=url, home=Path(tmp) / "home", learning_threads=args.threads)
            end = datetime(2026, 10, 1, tzinfo=UTC)
            with connect(url) as conn:
                started = time.perf_counter()
                requests = math.ceil(args.events / EVENTS_PER_REQUEST_GUESS)
                counts = write_synthetic_logs(conn, requests=requests, items_per_request=args.items, end=end, days=180,
                                              candidates=5000, offers=3000, structures=4, seed=args.seed)  # fmt: skip
                events, items, lists = counts.events, counts.items, counts.requests
                if events < args.events:  # top up from the measured events per list
                    more = math.ceil((args.events - events) / (events / requests))
                    extra = write_synthetic_logs(conn, requests=more, items_per_request=args.items, end=end,
                                                 days=180, candidates=2000, offers=1000, structures=1,
                                                 seed=args.seed + 1)  # fmt: skip
                    events, items, lists = events + extra.events, items + extra.items, lists + extra.requests
                conn.commit()
                generated = time.perf_counter() - started
                print(f"generated {lists} served lists, {items} items, {events} feedback events in {generated:.1f} s")
            with psycopg.connect(url, autocommit=True) as maintenance:
                maintenance.execute("VACUUM ANALYZE")
            with connect(url) as conn, PeakMemory() as memory:
                baseline = psutil.Process().memory_info().rss / 2**20
                started = time.perf_counter()
                outcome = run_retrain(conn, settings, seed=args.seed, trainer=args.trainer,
                                      now=end + timedelta(days=30))  # fmt: skip
                wall = time.perf_counter() - started
            print(
                f"retrain ({args.trainer}, threads {args.threads or 'all'}): {wall:.1f} s wall — "
                + ", ".join(f"{k} {v}" for k, v in outcome.timings.items())
            )
            print(
                f"resident memory: {baseline:.0f} MiB before, peak {memory.peak:.0f} MiB during the run "
                f"(+{memory.peak - baseline:.0f} MiB; the PostgreSQL server's memory is not counted)"
            )
            print("data: " + ", ".join(f"{k} {v}" for k, v in outcome.counts.items()))
            if outcome.metrics:
                echo_report(outcome.metrics["holdout"])
                for reason in outcome.metrics["gate"]["reasons"]:
                    print(f"gate: {reason}")
            print(f"{outcome.status}: {outcome.message}")
            print(f"goal ≤ 120 s: {'met' if wall <= 120 else 'NOT met'}")
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
