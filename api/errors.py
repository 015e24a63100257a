"""Validation errors answered in French, field by field, in FastAPI's 422 shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

CANDIDATE_NOT_FOUND = "Candidat introuvable."

_MESSAGES = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu ou non modifiable",
    "string_too_short": "au moins {min_length} caractère(s)",
    "string_too_long": "au plus {max_length} caractère(s)",
    "string_pattern_mismatch": "format invalide",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "literal_error": "valeur non autorisée (attendu : {expected})",
    "list_type": "liste attendue",
    "too_long": "au plus {max_length} élément(s)",
    "too_short": "au moins {min_length} élément(s)",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "dict_type": "objet attendu",
    "date_from_datetime_parsing": "date invalide (AAAA-MM-JJ)",
    "date_parsing": "date invalide (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure invalides (ISO 8601)",
    "datetime_from_date_parsing": "date et heure invalides (ISO 8601)",
    "timezone_aware": "fuseau horaire requis (ISO 8601)",
    "uuid_parsing": "identifiant (UUID) invalide",
    "uuid_type": "identifiant (UUID) attendu",
    "json_invalid": "JSON invalide",
}


def french_message(error: dict[str, Any]) -> str:
    """The French message of one pydantic error."""
    kind = error.get("type", "")
    if kind == "value_error":
        message = str(error.get("msg", "valeur invalide"))
        return message.removeprefix("Value error, ")
    template = _MESSAGES.get(kind)
    if template is None:
        return "valeur invalide"
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split("{")[0].strip() or "valeur invalide"


def french_errors(errors: Sequence[dict[str, Any]], prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Pydantic errors as `{loc, msg, type}` with French messages."""
    return [{"loc": [*prefix, *error.get("loc", ())], "msg": french_message(error), "type": error.get("type", "")}
            for error in errors]  # fmt: skip


def body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Errors of a model validated by hand, located in the request body."""
    return french_errors(exc.errors(include_url=False), prefix=("body",))


def field_error(field: str | Sequence[str | int], message: str, kind: str = "value_error") -> list[dict[str, Any]]:
    """One field-level error located in the request body."""
    path = [field] if isinstance(field, str) else list(field)
    return [{"loc": ["body", *path], "msg": message, "type": kind}]


async def validation_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    """Answer request validation errors in French."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                        content=jsonable_encoder({"detail": french_errors(exc.errors())}))  # fmt: skip


async def candidate_not_found_handler(request: Request, exc: Exception) -> JSONResponse:
    """A candidate unknown or outside the caller's structure: the same 404 either way (nothing leaks)."""
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": CANDIDATE_NOT_FOUND})
