"""Documented error answers shared by the routes."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorPublic

_DESCRIPTIONS = {
    400: "Requête mal formée (corps illisible)",
    401: "Authentification absente ou invalide",
    403: "Droits insuffisants",
    404: "Objet introuvable (ou d'une autre structure / entreprise)",
    409: "Conflit (référence déjà utilisée, objet clôturé, clé d'idempotence en cours)",
    429: "Trop de requêtes (voir l'en-tête Retry-After)",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error codes."""
    answers: dict[int | str, dict[str, Any]] = {}
    for code in (400, *codes):
        answer: dict[str, Any] = {"model": ErrorPublic, "description": _DESCRIPTIONS[code]}
        if code == 429:
            answer["headers"] = {"Retry-After": {"description": "Secondes à attendre", "schema": {"type": "integer"}}}
        if code == 401:
            answer["headers"] = {"WWW-Authenticate": {"description": "Schéma attendu", "schema": {"type": "string"}}}
        answers[code] = answer
    return answers
