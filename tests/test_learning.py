"""Learning from feedback: labels, training set, trainers, evaluation, the promotion gate, the registry and the
re-training run (advisory lock, killed runs, reproducibility), on synthetic logs from a hidden preference."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest
from psycopg import sql

from matching.features import FEATURE_NAMES
from matching.scoring import LINEAR_JSON_FORMAT, V0_VERSION, LinearModel, ensure_v0_model, load_active_model
from matching.storage.database import connect
from modeles.dataset import build_dataset, outcome_label, time_split
from modeles.evaluation import GatePolicy, promotion_decision
from modeles.registry import RegistryError, list_models, promote, rollback, show_model
from modeles.retrain import run_retrain
from modeles.synthetic import write_synthetic_logs
from modeles.training import TRAINERS, Trained

END = datetime(2026, 10, 1, tzinfo=UTC)
NOW = END + timedelta(days=30)  # late enough for the feedback of the last lists to be in
SINCE = NOW - timedelta(days=365)


@pytest.fixture(scope="module")
def learning_template(pg_server, template_database):
    """The reference template plus synthetic logs (built once for the module, cloned by each test)."""
    name = f"maillage_learning_{os.getpid()}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                       sql.Identifier(template_database)))  # fmt: skip
    with connect(pg_server.get_uri(name)) as conn:
        write_synthetic_logs(conn, requests=1000, items_per_request=10, end=END, seed=3)
        conn.commit()
    yield name
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def database_url(pg_server, learning_template):
    """This module's tests run on a clone of the synthetic-logs template."""
    name = f"{learning_template}_{time.monotonic_ns()}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                       sql.Identifier(learning_template)))  # fmt: skip
    yield pg_server.get_uri(name)
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def settings(settings):
    """One training thread: the test machine is shared, and OpenMP threads spinning there slow training down."""
    return settings.model_copy(update={"learning_threads": 1})


def anti_preference(data, seed, version) -> Trained:
    """A challenger worse than v0: it prefers far-away candidates without the skills."""
    model = LinearModel.from_dicts(version, {"proximity": -3.0, "skills_overlap": -3.0}, {"skills_overlap": 0.3})
    return Trained(model, "linear", model.to_artifact(), LINEAR_JSON_FORMAT, {"test": "anti-preference"})


def _statuses(conn) -> dict[str, str]:
    return {r["version"]: r["status"] for r in conn.execute("SELECT version, status FROM models")}


# --- pure parts ----------------------------------------------------------------------------------------


def test_labels_are_graded_by_the_furthest_outcome():
    order = [
        outcome_label(["proposed", "interested", "applied", "interview", "hired"], [None] * 5),
        outcome_label(["proposed", "interested", "applied", "interview"], [None] * 4),
        outcome_label(["proposed", "interested", "applied"], [None] * 3),
        outcome_label(["proposed", "interested"], [None, None]),
        outcome_label(["proposed"], [None]),
        outcome_label(["proposed", "declined"], [None, "not_interested_job"]),
    ]
    assert order == [5, 4, 3, 2, 1, 0]
    assert outcome_label([], []) == 0  # served, never acted upon
    assert outcome_label(["applied", "refused_by_employer"], [None, "skills_lacking"]) == 0  # refused as irrelevant
    assert outcome_label(["applied", "refused_by_employer"], [None, "hired_elsewhere"]) == 3  # says nothing of fit
    assert outcome_label(["declined"], ["not_reachable"]) == 1
    assert outcome_label(["hired"], [None]) == 5  # reported by the employer alone


def _report(overall: float, slices: dict[str, tuple[float, int]]) -> dict:
    return {"overall": {"ndcg_at_10": overall, "queries": 400},
            "slices": {"qpv": {k: {"ndcg_at_10": v, "queries": n} for k, (v, n) in slices.items()}}}  # fmt: skip


def test_promotion_gate_margins():
    policy = GatePolicy(min_gain=0.01, min_gain_over_v0=0.0, max_slice_loss=0.02, min_slice_queries=30)
    champion = _report(0.60, {"résident QPV": (0.60, 200), "hors QPV": (0.60, 200), "inconnu": (0.9, 5)})
    v0 = _report(0.55, {})
    good = _report(0.65, {"résident QPV": (0.64, 200), "hors QPV": (0.59, 200), "inconnu": (0.1, 5)})
    decision = promotion_decision(good, champion, v0, policy)
    assert decision.promote, decision.reasons  # the tiny slice is reported, not gated
    too_small = promotion_decision(_report(0.605, {}), champion, v0, policy)
    assert not too_small.promote and "does not beat the champion" in too_small.reasons[0]
    slice_loss = promotion_decision(_report(0.70, {"résident QPV": (0.57, 200)}), champion, v0, policy)
    assert not slice_loss.promote and any("slice qpv=résident QPV" in r for r in slice_loss.reasons)
    below_v0 = promotion_decision(_report(0.50, {}), _report(0.40, {}), v0, policy)
    assert not below_v0.promote and any("does not beat v0" in r for r in below_v0.reasons)


# --- training set ------------------------------------------------------------------------------------


def test_training_set_is_pseudonymised_graded_and_split_in_time(conn):
    dataset = build_dataset(conn, SINCE, NOW)
    labelled = conn.execute("""SELECT count(DISTINCT i.request_id) AS n FROM feedback f
                               JOIN match_items i ON i.id = f.match_item_id""").fetchone()["n"]  # fmt: skip
    assert dataset.queries == labelled and dataset.X.shape == (len(dataset.y), len(FEATURE_NAMES))
    assert set(np.unique(dataset.y)) == {0, 1, 2, 3, 4, 5}
    assert np.all(np.diff(dataset.query) >= 0) and dataset.served_at == sorted(dataset.served_at)
    # Nothing that points to a person: no candidate id or key anywhere in the set.
    keys = {r["candidate_key"] for r in conn.execute("SELECT DISTINCT candidate_key FROM match_items")}
    ids = {str(r["id"]) for r in conn.execute("SELECT id FROM candidates")}
    values = {v for vs in dataset.slices.values() for v in vs}
    assert not values & (keys | ids) and set(dataset.slices) == {"qpv", "structure", "rome_domain"}
    assert set(dataset.slices["qpv"]) == {"résident QPV", "hors QPV"}
    train, holdout = time_split(dataset, 0.2)
    assert len(holdout) == round(dataset.queries * 0.2) and max(train) < min(holdout)
    assert dataset.served_at[max(train)] <= dataset.served_at[min(holdout)]
    # Feedback recorded after the cut-off is not seen: the set is reproducible for a given `until`.
    earlier = build_dataset(conn, SINCE, END - timedelta(days=60))
    assert earlier.queries < dataset.queries and earlier.window[1] < END - timedelta(days=60)


# --- re-training runs ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_retrained_model_beats_v0_is_promoted_and_same_seed_gives_same_metrics(conn, settings):
    first = run_retrain(conn, settings, seed=7, now=NOW)
    assert first.status == "promoted", first.message
    holdout = first.metrics["holdout"]
    assert holdout["challenger"]["overall"]["ndcg_at_10"] > holdout["v0"]["overall"]["ndcg_at_10"] + 0.1
    assert holdout["challenger"]["overall"]["mrr"] > holdout["v0"]["overall"]["mrr"]
    assert {"qpv", "structure", "rome_domain"} == set(holdout["challenger"]["slices"])
    assert load_active_model(conn).version == first.version and _statuses(conn)[V0_VERSION] == "retired"
    stored = show_model(conn, first.version)
    assert stored["status"] == "champion" and stored["artifact_format"] == "skops-hgb-v1"
    assert stored["feature_names"] == list(FEATURE_NAMES) and stored["feature_version"] == "f1"
    assert {"numpy", "scikit-learn", "skops"} <= set(stored["library_versions"])
    assert stored["data_window"].lower >= SINCE and stored["data_window"].upper <= NOW
    assert stored["params"]["seed"] == 7 and stored["events"][-1]["action"] == "promote"

    # Same data, same seed: same model, same metrics; no gain over itself, so the gate refuses it.
    second = run_retrain(conn, settings, seed=7, now=NOW)
    assert second.metrics["holdout"]["challenger"] == holdout["challenger"]
    assert second.status == "rejected" and "does not beat the champion" in second.metrics["gate"]["reasons"][0]
    assert load_active_model(conn).version == first.version
    runs = conn.execute("SELECT status, model_version FROM retrain_runs ORDER BY id").fetchall()
    assert [r["status"] for r in runs] == ["promoted", "rejected"]


def test_worse_challenger_is_refused_and_recorded_with_its_metrics(conn, settings):
    outcome = run_retrain(conn, settings, now=NOW, train_fn=anti_preference, trainer="anti")
    assert outcome.status == "rejected"
    assert not outcome.metrics["gate"]["promote"]
    assert any("does not beat v0" in r for r in outcome.metrics["gate"]["reasons"])
    stored = show_model(conn, outcome.version)
    assert stored["status"] == "rejected" and stored["metrics"]["holdout"]["challenger"]["overall"]["queries"] > 50
    assert stored["events"][-1]["action"] == "reject"
    assert load_active_model(conn).version == V0_VERSION and _statuses(conn)[V0_VERSION] == "champion"


def test_not_enough_feedback_keeps_the_champion(conn, settings):
    strict = settings.model_copy(update={"learning_min_requests": 100_000})
    outcome = run_retrain(conn, strict, now=NOW)
    assert outcome.status == "insufficient_data" and "not enough feedback yet" in outcome.message
    assert _statuses(conn) == {V0_VERSION: "champion"}
    run = conn.execute("SELECT status, counts FROM retrain_runs").fetchone()
    assert run["status"] == "insufficient_data" and run["counts"]["requests"] > 0


def test_two_concurrent_runs_exactly_one_trains(conn, database_url, settings):
    barrier, release = threading.Barrier(2), threading.Event()
    trained, results, errors = [], {}, []

    def slow(data, seed, version):
        trained.append(version)
        assert release.wait(60)
        return TRAINERS["pairwise-logistic"](data, seed, version)

    def run(name: str) -> None:
        try:
            with connect(database_url) as own:
                barrier.wait(30)
                results[name] = run_retrain(own, settings, now=NOW, train_fn=slow, trainer="pairwise-logistic")
                if results[name].status == "busy":
                    release.set()
        except Exception as exc:  # reported below: an exception in a thread would be lost
            errors.append(exc)
            release.set()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(r.status for r in results.values()) == ["busy", "promoted"]
    assert len(trained) == 1
    assert conn.execute("SELECT count(*) AS n FROM retrain_runs").fetchone()["n"] == 1


KILLED_RUN = """
import os, sys
from datetime import datetime
from matching.config import Settings
from matching.storage.database import connect
from modeles.retrain import run_retrain

def die(data, seed, version):
    os._exit(137)  # killed while training: no cleanup runs

settings = Settings(env="test", database_url=sys.argv[1], home=sys.argv[2])
with connect(sys.argv[1]) as conn:
    run_retrain(conn, settings, now=datetime.fromisoformat(sys.argv[3]), train_fn=die, trainer="die")
"""


@pytest.mark.slow
def test_killed_run_leaves_the_registry_unchanged(conn, database_url, settings, tmp_path):
    ensure_v0_model(conn)
    conn.commit()
    before = conn.execute("SELECT * FROM models ORDER BY id").fetchall()
    done = subprocess.run([sys.executable, "-c", KILLED_RUN, database_url, str(tmp_path), NOW.isoformat()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 137, done.stderr
    assert conn.execute("SELECT * FROM models ORDER BY id").fetchall() == before
    assert conn.execute("SELECT count(*) AS n FROM model_events").fetchone()["n"] == 0
    assert conn.execute("SELECT status FROM retrain_runs").fetchone()["status"] == "running"
    conn.commit()
    # The lock died with the connection; the next run marks the killed one and proceeds.
    outcome = run_retrain(conn, settings, now=NOW, trainer="pairwise-logistic")
    assert outcome.status == "promoted"
    runs = [r["status"] for r in conn.execute("SELECT status FROM retrain_runs ORDER BY id")]
    assert runs == ["interrupted", "promoted"]


def test_a_failing_run_is_recorded_and_changes_nothing(conn, settings):
    def broken(data, seed, version):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        run_retrain(conn, settings, now=NOW, train_fn=broken, trainer="broken")
    assert _statuses(conn) == {V0_VERSION: "champion"}
    run = conn.execute("SELECT status, message FROM retrain_runs").fetchone()
    assert run == {"status": "failed", "message": "RuntimeError: disk full"}


def test_registry_promote_and_rollback_follow_the_history(conn, settings):
    first = run_retrain(conn, settings, now=NOW, trainer="pairwise-logistic", seed=1)
    rejected = run_retrain(conn, settings, now=NOW, train_fn=anti_preference, trainer="anti")
    assert first.status == "promoted" and rejected.status == "rejected"
    # An operator may force a model; rollbacks then walk back the promotions one by one.
    promote(conn, rejected.version, actor="test", reason="forced")
    assert load_active_model(conn).version == rejected.version
    assert rollback(conn, actor="test").champion == first.version
    assert rollback(conn, actor="test").champion == V0_VERSION
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        rollback(conn, actor="test")
    with pytest.raises(RegistryError, match="unknown model"):
        promote(conn, "no-such-model")
    listed = {r["version"]: r for r in list_models(conn)}
    assert listed[V0_VERSION]["status"] == "champion" and listed[first.version]["status"] == "retired"
    assert listed[first.version]["holdout"]["ndcg_at_10"] > 0
    actions = [e["action"] for e in show_model(conn, first.version)["events"]]
    assert actions == ["promote", "reject", "promote", "rollback", "rollback"]
