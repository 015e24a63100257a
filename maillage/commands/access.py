"""`maillage companies …`, `maillage advisers …`, `maillage gdpr …`: keys, tokens, retention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

companies_app = typer.Typer(help="Company API keys.", no_args_is_help=True)
advisers_app = typer.Typer(help="Adviser accounts and local tokens.", no_args_is_help=True)
gdpr_app = typer.Typer(help="GDPR: retention of candidate data.", no_args_is_help=True)


@advisers_app.callback()
def _advisers() -> None:
    """Adviser accounts and local tokens."""


@gdpr_app.callback()
def _gdpr() -> None:
    """GDPR: retention of candidate data."""


def _connection():
    from maillage.cli import _database, _settings
    from matching.storage.database import connect

    settings = _settings()
    return settings, _database(settings), connect


@companies_app.command("create-key")
def create_key(
    company: Annotated[str, typer.Option(help="Company id or SIRET")],
    scope: Annotated[list[str] | None, typer.Option(help="offers:read, offers:write (default both)")] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the key")] = None,
) -> None:
    """Create an API key for a company; the secret is printed once and never stored."""
    from matching.auth.keys import SCOPES
    from matching.storage.companies import create_key as store_key
    from matching.storage.companies import find_company

    _, database, connect = _connection()
    with database as url, connect(url) as conn:
        company_id = find_company(conn, company)
        if company_id is None:
            typer.secho(f"no company with id or SIRET {company!r}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        try:
            key = store_key(conn, company_id, tuple(scope or SCOPES), label)
        except ValueError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        conn.commit()
    typer.echo(f"company {company_id}: key {key.prefix} created (shown once, store it now):")
    typer.echo(key.secret)


@companies_app.command("revoke-key")
def revoke_key(prefix: Annotated[str, typer.Argument(help="The key's prefix, e.g. mlg_0123456789ab")]) -> None:
    """Revoke an API key by its prefix."""
    from matching.storage.companies import revoke_key as revoke

    _, database, connect = _connection()
    with database as url, connect(url) as conn:
        revoked = revoke(conn, prefix)
        conn.commit()
    if not revoked:
        typer.secho(f"no active key with prefix {prefix}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked 1 key ({prefix})")


@advisers_app.command("token")
def token(
    structure: Annotated[str, typer.Option(help="Structure id or exact name")],
    email: Annotated[str, typer.Option(help="Adviser e-mail")],
    role: Annotated[str, typer.Option(help="adviser, structure_admin or platform_admin")] = "adviser",
    lifetime: Annotated[int, typer.Option(min=60, max=86400, help="Seconds")] = 3600,
) -> None:
    """Create (or update) a local adviser account and print a token from the local issuer (dev/test only)."""
    from matching.auth.tokens import sign_local_token
    from matching.storage.advisers import find_structure, upsert_adviser

    settings, database, connect = _connection()
    if settings.env == "prod":
        typer.secho("the local issuer is disabled in production", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    with database as url, connect(url) as conn:
        structure_id = find_structure(conn, structure)
        if structure_id is None:
            typer.secho(f"no single structure named or numbered {structure!r}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        try:
            adviser = upsert_adviser(conn, structure_id, email, role, subject=f"local:{email.lower()}")
        except ValueError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        conn.commit()
    typer.echo(sign_local_token(settings, adviser["oidc_subject"], adviser["email"], lifetime_s=lifetime))


@gdpr_app.command("retention")
def retention(
    now: Annotated[datetime | None, typer.Option(help="Pretend it is this time (ISO 8601, UTC)")] = None,
) -> None:
    """Flag candidates inactive too long, anonymise those flagged past the grace period; print the counts."""
    from matching.storage.audit import SYSTEM_ACTOR
    from matching.storage.candidates import run_retention
    from matching.storage.companies import purge_idempotency_keys

    settings, database, connect = _connection()
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with database as url, connect(url) as conn:
        counts = run_retention(conn, SYSTEM_ACTOR, moment, settings.retention_inactive_days,
                               settings.retention_grace_days)  # fmt: skip
        purged = purge_idempotency_keys(conn)
        conn.commit()
    typer.echo(f"flagged {counts.flagged} candidate(s), anonymised {counts.anonymised}, "
               f"purged {purged} expired idempotency key(s)")  # fmt: skip
