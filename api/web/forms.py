"""The candidate form: HTML fields to the API's `CandidateCreate` (its validation, not a copy) and back."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.errors import french_errors
from api.schemas import CandidateCreate
from matching.referentiels.lookup import appellation_by_normalized_label, search_communes
from matching.referentiels.text import normalize_text

APPELLATION_SLOTS = 3
_CODE_IN_PARENS = re.compile(r"\(([0-9A-Za-z]{1,9})\)\s*$")
_LEVEL = re.compile(r"^(?P<label>.+?)\s*[-–:]?\s*(?P<level>[ABC][12])$")
APPELLATION_ROW = "SELECT code_ogr, label, code_rome FROM rome_appellations WHERE code_ogr = %(code)s"
APPELLATION_LABELS = "SELECT code_ogr, label FROM rome_appellations WHERE code_ogr = ANY (%(codes)s::int[])"
APPELLATION_ROMES = "SELECT DISTINCT code_rome FROM rome_appellations WHERE code_ogr = ANY (%(codes)s::int[])"
COMMUNE_NAME = "SELECT name FROM communes WHERE insee = %(insee)s"

INTEGER_FIELDS = ("experience_months", "education_level", "birth_year", "max_commute_minutes")
NUMBER_FIELDS = ("max_commute_km", "desired_hours_min", "desired_hours_max")
LIST_FIELDS = ("desired_contracts", "unavailable_schedules", "eligibility", "licences")
FLAG_FIELDS = ("has_vehicle", "part_time_only", "consent")
TEXT_FIELDS = ("reference", "summary", "available_from", "transport_mode")


class FormErrors(Exception):
    """Field-level errors of a submitted form: {field name: French message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _code(text: str) -> str | None:
    match = _CODE_IN_PARENS.search(text)
    return match.group(1) if match else None


def _commune_insee(conn: psycopg.Connection, text: str, errors: dict[str, str]) -> str | None:
    text = text.strip()
    if not text:
        errors["commune"] = "champ obligatoire"
        return None
    code = _code(text) or (text.upper() if re.fullmatch(r"[0-9][0-9AB][0-9]{3}", text.upper()) else None)
    if code:
        return code
    wanted = normalize_text(text)
    exact = [c for c in search_communes(conn, text, limit=10) if normalize_text(c.name) == wanted]
    if len(exact) == 1:
        return exact[0].insee
    errors["commune"] = "choisissez une commune dans la liste proposée (nom et code INSEE)"
    return None


def _appellation(conn: psycopg.Connection, text: str) -> dict[str, Any] | None:
    code = _code(text)
    if code and code.isdigit():
        return conn.execute(APPELLATION_ROW, {"code": int(code)}).fetchone()
    found = appellation_by_normalized_label(conn, text)
    return {"code_ogr": found[0].code_ogr, "label": found[0].label, "code_rome": found[0].code_rome} if found else None


def candidate_from_form(conn: psycopg.Connection, form: FormData) -> CandidateCreate:
    """Validate a submitted candidate form with the API's schema; raise FormErrors field by field."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {name: (form.get(name) or "").strip() or None for name in TEXT_FIELDS}
    data["reference"] = data["reference"] or ""
    data["commune_insee"] = _commune_insee(conn, str(form.get("commune") or ""), errors)
    for name in INTEGER_FIELDS:
        raw = str(form.get(name) or "").strip()
        if raw:
            try:
                data[name] = int(raw)
            except ValueError:
                errors[name] = "nombre entier attendu"
    for name in NUMBER_FIELDS:
        raw = str(form.get(name) or "").strip().replace(",", ".")
        if raw:
            try:
                data[name] = float(raw)
            except ValueError:
                errors[name] = "nombre attendu"
    for name in LIST_FIELDS:
        data[name] = [str(v) for v in form.getlist(name)]
    for name in FLAG_FIELDS:
        data[name] = form.get(name) == "oui"
    appellations, rome_codes = [], []
    for slot in range(1, APPELLATION_SLOTS + 1):
        text = str(form.get(f"metier_{slot}") or "").strip()
        if not text:
            continue
        row = _appellation(conn, text)
        if row is None:
            errors[f"metier_{slot}"] = "choisissez un métier dans la liste proposée (appellation ROME)"
            continue
        appellations.append(row["code_ogr"])
        if row["code_rome"].strip() not in rome_codes:
            rome_codes.append(row["code_rome"].strip())
    # ROME codes kept without an appellation (profiles created through the API or imported).
    rome_codes += [c for c in form.getlist("rome_code") if isinstance(c, str) and c not in rome_codes]
    data["target_appellations"], data["target_rome_codes"] = appellations, rome_codes
    data["skills"] = [{"label": line.strip()} for line in str(form.get("skills") or "").splitlines() if line.strip()]
    languages = []
    for line in str(form.get("languages") or "").splitlines():
        if line.strip():
            match = _LEVEL.match(line.strip())
            languages.append({"label": match["label"], "level": match["level"]} if match else {"label": line.strip()})
    data["languages"] = languages
    try:
        profile = CandidateCreate.model_validate(data)
    except ValidationError as exc:
        for error in french_errors(exc.errors(include_url=False)):
            errors.setdefault(field_of(error["loc"], error["msg"]), error["msg"])
        raise FormErrors(errors) from None
    if errors:
        raise FormErrors(errors)
    return profile


# Errors of the whole profile (model validators) shown next to the field they concern.
_MODEL_ERRORS = {"consentement": "consent", "heures": "desired_hours_min", "latitude": "commune"}


def field_of(loc: list[Any], message: str = "") -> str:
    """The form field showing an error located at `loc` (API field names, 'body' prefix allowed)."""
    path = [p for p in loc if p != "body"]
    if not path:
        return next((field for word, field in _MODEL_ERRORS.items() if word in message), "_form")
    name = str(path[0])
    if name == "commune_insee":
        return "commune"
    if name in ("target_appellations", "target_rome_codes"):
        index = path[1] if len(path) > 1 and isinstance(path[1], int) else 0
        return f"metier_{index + 1}"
    return name


def form_values(conn: psycopg.Connection, profile: dict[str, Any]) -> dict[str, Any]:
    """The form's field values for a stored profile (edit page)."""
    values: dict[str, Any] = {name: profile.get(name) for name in (*TEXT_FIELDS, *INTEGER_FIELDS, *NUMBER_FIELDS)}
    values["available_from"] = str(profile["available_from"]) if profile.get("available_from") else ""
    for name in LIST_FIELDS:
        values[name] = list(profile.get(name) or [])
    for name in FLAG_FIELDS:
        values[name] = bool(profile.get(name))
    insee = profile.get("commune_insee")
    row = conn.execute(COMMUNE_NAME, {"insee": insee}).fetchone() if insee else None
    values["commune"] = f"{row['name']} ({insee})" if row else (insee or "")
    codes = list(profile.get("target_appellations") or [])
    labels = {r["code_ogr"]: r["label"] for r in conn.execute(APPELLATION_LABELS, {"codes": codes}).fetchall()}
    for slot, code in enumerate(codes[:APPELLATION_SLOTS], start=1):
        values[f"metier_{slot}"] = f"{labels.get(code, '')} ({code})"
    covered = {r["code_rome"].strip() for r in conn.execute(APPELLATION_ROMES, {"codes": codes}).fetchall()}
    values["rome_codes_extra"] = [c.strip() for c in profile.get("target_rome_codes") or [] if c.strip() not in covered]
    values["skills"] = "\n".join(s.get("label", "") for s in profile.get("skills") or [])
    values["languages"] = "\n".join(
        f"{lang.get('label', '')} {lang.get('level') or ''}".strip() for lang in profile.get("languages") or []
    )
    return values
