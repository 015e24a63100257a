"""Learned models in service: training/serving parity on real served lists, promotion and rollback seen through
the API without restart, the worker's re-training task and the `models` commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import typer
from procrastinate.exceptions import AlreadyEnqueued
from typer.testing import CliRunner

from maillage.commands import models as models_commands
from matching.config import get_settings
from matching.features import feature_matrix
from matching.scoring import V0_VERSION, load_active_model, v0_model
from modeles.dataset import build_dataset
from modeles.registry import rollback
from modeles.retrain import run_retrain
from modeles.synthetic import write_synthetic_logs

SERVED_ITEMS = """
SELECT i.id, i.rank, i.score, i.features FROM match_items AS i JOIN match_requests AS r ON r.id = i.request_id
WHERE r.id = %(request)s ORDER BY i.rank
"""


@pytest.fixture()
def settings(settings):
    """One training thread (shared test machine) and the gate's defaults."""
    return settings.model_copy(update={"learning_threads": 1})


@pytest.fixture()
def demo(demo_database, world_client, conn, sign_in):
    """The demo set, the app, and an adviser of the first demo candidate's structure."""
    _, client = world_client
    candidate = conn.execute("SELECT id, structure_id FROM candidates ORDER BY reference LIMIT 1").fetchone()
    return client, sign_in(candidate["structure_id"], "adviser"), candidate["id"]


def _served(client, headers, candidate_id) -> dict:
    response = client.get(f"/v1/candidates/{candidate_id}/matches", params={"limit": 8, "radius_km": 60},
                          headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def test_rollback_restores_the_previous_champion_and_the_api_serves_it(demo, conn, settings):
    client, headers, candidate_id = demo
    before = _served(client, headers, candidate_id)
    assert before["model"] == V0_VERSION
    end = datetime.now(UTC) - timedelta(days=40)
    write_synthetic_logs(conn, requests=700, items_per_request=10, end=end, seed=5)
    conn.commit()
    outcome = run_retrain(conn, settings, now=end + timedelta(days=30))
    assert outcome.status == "promoted", outcome.message
    holdout = outcome.metrics["holdout"]
    assert holdout["challenger"]["overall"]["ndcg_at_10"] > holdout["v0"]["overall"]["ndcg_at_10"]

    # Served from the next request, without restart, by the skops model; the log's snapshot scores the same.
    learned = _served(client, headers, candidate_id)
    assert learned["model"] == outcome.version
    assert {m["explanation"]["model_version"] for m in learned["matches"]} == {outcome.version}
    model = load_active_model(conn)
    items = conn.execute(SERVED_ITEMS, {"request": learned["request_id"]}).fetchall()
    rescored = model.score(feature_matrix([i["features"] for i in items], model.feature_names))
    # Snapshots are rounded to 1e-5: a tree threshold may rarely fall in between.
    assert np.isclose(rescored, [i["score"] for i in items], atol=1e-6).mean() >= 0.9

    change = rollback(conn, actor="test")
    assert (change.previous, change.champion) == (outcome.version, V0_VERSION)
    again = _served(client, headers, candidate_id)
    assert again["model"] == V0_VERSION
    assert [m["offer_id"] for m in again["matches"]] == [m["offer_id"] for m in before["matches"]]
    statuses = {r["version"]: r["status"] for r in conn.execute("SELECT version, status FROM models")}
    assert statuses == {V0_VERSION: "champion", outcome.version: "retired"}


def test_training_reads_the_features_serving_logged(demo, conn):
    client, headers, candidate_id = demo
    served = [_served(client, headers, candidate_id) for _ in range(2)]
    for body in served:
        first = body["matches"][0]["match_id"]
        assert client.post(f"/v1/matches/{first}/feedback", json={"event": "interested"},
                           headers=headers).status_code == 201  # fmt: skip
    now = datetime.now(UTC) + timedelta(minutes=1)
    dataset = build_dataset(conn, now - timedelta(days=1), now)
    assert dataset.queries == 2 and dataset.y.tolist() == [2] + [0] * 7 + [2] + [0] * 7
    for q, body in enumerate(served):
        rows = dataset.rows_of(np.array([q]))
        items = conn.execute(SERVED_ITEMS, {"request": body["request_id"]}).fetchall()
        # Same code path (feature_matrix over the logged snapshot), rows in served order…
        assert np.array_equal(dataset.X[rows], feature_matrix([i["features"] for i in items]), equal_nan=True)
        # …and v0 scores them as it did when serving (up to the snapshot's rounding).
        served_scores = [m["score"] for m in body["matches"]]
        assert np.allclose(v0_model().score(dataset.X[rows]), served_scores, atol=1e-3)


def test_worker_retrains_and_the_models_commands_drive_the_registry(conn, database_url, monkeypatch, tmp_path):
    from maillage.worker import create_app

    end = datetime(2026, 9, 1, tzinfo=UTC)
    write_synthetic_logs(conn, requests=600, items_per_request=10, end=end, seed=9)
    conn.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MAILLAGE_HOME", str(tmp_path))
    monkeypatch.setenv("MAILLAGE_LEARNING_THREADS", "1")
    get_settings.cache_clear()
    app = create_app(database_url)
    try:
        with app.open():
            timestamp = int((end + timedelta(days=30)).timestamp())
            task = app.tasks["maillage:retrain"]
            task.defer(timestamp=timestamp)
            with pytest.raises(AlreadyEnqueued):  # one queued re-training at a time
                task.defer(timestamp=timestamp)
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=["learning"])
        with app.open():
            task.defer(timestamp=timestamp + 60)  # no new feedback since: nothing done
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=["learning"])
        jobs = conn.execute("SELECT status FROM procrastinate_jobs WHERE task_name = 'maillage:retrain'").fetchall()
        assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
        runs = conn.execute("SELECT status, model_version FROM retrain_runs").fetchall()
        assert len(runs) == 1 and runs[0]["status"] == "promoted"
        version = runs[0]["model_version"]

        runner = CliRunner()
        listed = runner.invoke(models_commands.app, ["list"])
        assert listed.exit_code == 0 and version in listed.output and "2 model(s)" in listed.output
        shown = runner.invoke(models_commands.app, ["show", version])
        assert shown.exit_code == 0 and "skops-hgb-v1" in shown.output and "qpv=résident QPV" in shown.output
        back = runner.invoke(models_commands.app, ["rollback", "--reason", "test"])
        assert back.exit_code == 0 and f"champion: {V0_VERSION} (rolled back from {version})" in back.output
        assert runner.invoke(models_commands.app, ["rollback"]).exit_code == models_commands.EXIT_REFUSED
        forward = runner.invoke(models_commands.app, ["promote", version])
        assert forward.exit_code == 0 and f"champion: {version}" in forward.output
        assert runner.invoke(models_commands.app, ["promote", "nope"]).exit_code == models_commands.EXIT_REFUSED
        runs_out = runner.invoke(models_commands.app, ["runs"])
        assert runs_out.exit_code == 0 and "promoted" in runs_out.output
        root = typer.Typer()
        root.command("retrain")(models_commands.retrain)
        root.command("noop")(lambda: None)  # a second command keeps `retrain` a subcommand
        unchanged = runner.invoke(root, ["retrain", "--if-new-feedback"])
        assert unchanged.exit_code == 0 and "unchanged: no new feedback since the last run" in unchanged.output
    finally:
        get_settings.cache_clear()


def test_demo_feedback_command_writes_synthetic_logs(conn, database_url, monkeypatch, tmp_path):
    from maillage.cli import app as cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MAILLAGE_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["demo", "feedback", "--requests", "40", "--items", "5", "--seed", "3"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert "wrote 40 served lists, 200 matches" in out.output
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM match_requests) AS lists, (SELECT count(*) FROM match_items) AS items, "
        "(SELECT count(*) FROM feedback) AS events"
    ).fetchone()
    assert counts["lists"] == 40 and counts["items"] == 200 and counts["events"] > 0
    assert f"{counts['events']} feedback events" in out.output
