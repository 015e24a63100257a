"""`maillage retrain` and `maillage models list|show|promote|rollback|runs`: the ranking model registry."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Annotated, Any

import typer

app = typer.Typer(help="Ranking models: registry, promotion, rollback.", no_args_is_help=True)

EXIT_BUSY = 3
EXIT_REFUSED = 4
_METRICS = ("ndcg_at_10", "recall_at_5", "recall_at_10", "mrr", "queries")


@contextmanager
def _connection():
    from maillage.cli import _database, _settings
    from matching.storage.database import connect
    settings = _settings()
    with _database(settings) as url, connect(url) as conn:
        yield settings, conn


def _row(system: str, metrics: dict[str, Any], where: str = "") -> str:
    values = "".join(f"{metrics[m]:>12.4f}" if m != "queries" else f"{metrics[m]:>9d}" for m in _METRICS)
    return f"  {system:<11}{where[:25]:<25}{values}"


def echo_report(reports: dict[str, dict[str, Any]]) -> None:
    """Print the holdout metrics of challenger, champion and v0, overall and per slice."""
    typer.echo(f"  {'system':<11}{'slice':<25}{'nDCG@10':>12}{'recall@5':>12}{'recall@10':>12}{'MRR':>12}{'lists':>9}")
    for system, report in reports.items():
        typer.echo(_row(system, report["overall"], "(all)"))
    for name in reports["challenger"]["slices"]:
        for value in reports["challenger"]["slices"][name]:
            for system, report in reports.items():
                metrics = report["slices"][name].get(value)
                if metrics:
                    typer.echo(_row(system, metrics, f"{name}={value}"))


def retrain(
    seed: Annotated[int, typer.Option(help="Random seed (same data + seed = same model and metrics)")] = 42,
    trainer: Annotated[str, typer.Option(help="hgb (gradient-boosted trees) or pairwise-logistic")] = "hgb",
    if_new_feedback: Annotated[bool, typer.Option(help="Do nothing when no feedback came since the last run")]
    = False,
) -> None:  # fmt: skip
    """Train a challenger on match logs and feedback; promote it only if it passes the gate."""
    from modeles.retrain import run_retrain
    from modeles.training import TRAINERS

    if trainer not in TRAINERS:
        raise typer.BadParameter(f"--trainer must be one of {', '.join(TRAINERS)}")
    with _connection() as (settings, conn):
        outcome = run_retrain(conn, settings, seed=seed, trainer=trainer, only_if_new_feedback=if_new_feedback)
    if outcome.counts:
        typer.echo("data: " + ", ".join(f"{k} {v}" for k, v in outcome.counts.items()))
    if outcome.metrics:
        echo_report(outcome.metrics["holdout"])
        for reason in outcome.metrics["gate"]["reasons"]:
            typer.echo(f"gate: {reason}")
    typer.echo(f"{outcome.status}: {outcome.message}")
    if outcome.status == "busy":
        raise typer.Exit(EXIT_BUSY)


@app.command("list")
def list_command(limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """Registered models, newest first: status, features, holdout nDCG@10."""
    from modeles.registry import list_models

    with _connection() as (_, conn):
        rows = list_models(conn, limit)
        conn.commit()
    typer.echo(f"{'version':<40}{'kind':<20}{'status':<11}{'features':<9}{'nDCG@10':>8}  created")
    for r in rows:
        ndcg = f"{r['holdout']['ndcg_at_10']:.4f}" if r["holdout"] else "-"
        typer.echo(f"{r['version']:<40}{r['kind']:<20}{r['status']:<11}{r['feature_version']:<9}{ndcg:>8}  "
                   f"{r['created_at']:%Y-%m-%d %H:%M}")  # fmt: skip
    typer.echo(f"{len(rows)} model(s)")


@app.command("show")
def show_command(
    version: Annotated[str, typer.Argument(help="Model version")],
    as_json: Annotated[bool, typer.Option("--json", help="Everything, as JSON")] = False,
) -> None:
    """One model: artifact, features, data window, library versions, metrics, gate, history."""
    from modeles.registry import RegistryError, show_model

    with _connection() as (_, conn):
        try:
            model = show_model(conn, version)
        except RegistryError as exc:
            typer.secho(str(exc), err=True)
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(model, default=str, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{model['version']} ({model['kind']}): {model['status']}")
    typer.echo(f"artifact: {model['artifact_format']}, {model['artifact_bytes'] or 0} bytes")
    typer.echo(f"features {model['feature_version']}: {', '.join(model['feature_names'])}")
    typer.echo(f"data window: {model['data_window'] or '-'}")
    typer.echo(f"libraries: {json.dumps(model['library_versions'])}")
    typer.echo(f"params: {json.dumps(model['params'], default=str)}")
    metrics = model["metrics"] or {}
    if "holdout" in metrics:
        echo_report(metrics["holdout"])
        for reason in metrics["gate"]["reasons"]:
            typer.echo(f"gate: {reason}")
    for e in model["events"]:
        typer.echo(f"{e['at']:%Y-%m-%d %H:%M} {e['action']} {e['version']} (previous {e['previous_version'] or '-'})"
                   f" by {e['actor']}: {e['reason'] or ''}")  # fmt: skip


@app.command("promote")
def promote_command(
    version: Annotated[str, typer.Argument(help="Model version")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the history)")] = None,
) -> None:
    """Make a model the champion now (the API serves it from its next request, no restart)."""
    from modeles.registry import RegistryError, promote

    with _connection() as (_, conn):
        try:
            change = promote(conn, version, actor="cli", reason=reason)
        except RegistryError as exc:
            typer.secho(str(exc), err=True)
            raise typer.Exit(EXIT_REFUSED) from None
    typer.echo(f"champion: {change.champion} (was {change.previous})")


@app.command("rollback")
def rollback_command(reason: Annotated[str | None, typer.Option(help="Why (kept in the history)")] = None) -> None:
    """Restore the champion the current one replaced (the current one is retired)."""
    from modeles.registry import RegistryError, rollback

    with _connection() as (_, conn):
        try:
            change = rollback(conn, actor="cli", reason=reason)
        except RegistryError as exc:
            typer.secho(str(exc), err=True)
            raise typer.Exit(EXIT_REFUSED) from None
    typer.echo(f"champion: {change.champion} (rolled back from {change.previous})")


@app.command("runs")
def runs_command(limit: Annotated[int, typer.Option(min=1, max=1000)] = 10) -> None:
    """The latest re-training runs and their outcome."""
    from modeles.retrain import last_runs

    with _connection() as (_, conn):
        rows = last_runs(conn, limit)
    for r in rows:
        typer.echo(f"#{r['id']} {r['started_at']:%Y-%m-%d %H:%M} {r['status']:<18} {r['trainer']} seed {r['seed']}: "
                   f"{r['message'] or ''}")  # fmt: skip
    typer.echo(f"{len(rows)} run(s)")
