"""`maillage eval` and `maillage fairness`: offline evaluation against baselines, fairness of served matches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer


def evaluate(
    candidates: Annotated[int, typer.Option(min=5, help="Labelled candidate profiles")] = 60,
    seed_jobs: Annotated[int, typer.Option(min=3, help="ROME jobs the profiles are drawn from")] = 30,
    offers_per_job: Annotated[int, typer.Option(min=1, help="Offers written per ROME job")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
) -> None:
    """nDCG@10, recall@k and MRR of Maillage and two baselines on a labelled set built from ROME 4.0.

    The set is written in a transaction that is rolled back: the database is left unchanged.
    """
    from maillage.cli import _database, _progress_bar, _settings
    from matching.embeddings import load_embedder
    from matching.evaluation import run_evaluation
    from matching.storage.database import connect

    settings = _settings()
    embedder = load_embedder(settings)
    with _database(settings) as url, connect(url) as conn:
        bar, update = _progress_bar("queries")
        with bar:
            report = run_evaluation(conn, embedder, candidates=candidates, seed_jobs=seed_jobs,
                                    offers_per_job=offers_per_job, seed=seed, progress=update)  # fmt: skip
    typer.echo(f"labelled set: {report.offers} offers, {report.candidates} candidates "
               f"({report.uncoded_candidates} without a ROME code), graded 2 = same job, 1 = ROME mobility")
    typer.echo(f"{'system':<26}{'nDCG@10':>9}{'recall@10':>11}{'recall@50':>11}{'MRR':>8}")
    for name, m in report.systems.items():
        typer.echo(f"{name:<26}{m.ndcg_at_10:>9.3f}{m.recall_at_10:>11.3f}{m.recall_at_50:>11.3f}{m.mrr:>8.3f}")


def fairness(days: Annotated[int, typer.Option(min=1, max=365, help="Period in days")] = 30) -> None:
    """Exposure and score distributions of served matches by candidate group and by employer."""
    from maillage.cli import _database, _settings
    from matching.fairness import served_fairness_report
    from matching.storage.database import connect

    settings = _settings()
    with _database(settings) as url, connect(url) as conn:
        report = served_fairness_report(conn, days, datetime.now(UTC).year)
    typer.echo(report["note"])
    for name, groups in [*report["by_group"].items(), ("employer", report["by_employer"])]:
        typer.echo(f"\n{name}: {'group':<32}{'requests':>9}{'items':>8}{'top-3':>7}{'mean':>8}{'median':>8}")
        for d in groups:
            typer.echo(f"  {d.group[:38]:<38}{d.requests:>9}{d.items:>8}{d.top3_share:>7.2f}"
                       f"{d.mean_score or 0:>8.3f}{d.median_score or 0:>8.3f}")  # fmt: skip
