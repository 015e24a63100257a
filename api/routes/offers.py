"""Offers submitted by companies with an API key: create, read, replace, change, close."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.deps import Conn, EmbedderDep, SettingsDep
from api.errors import body_errors
from api.routes.responses import error_responses
from api.schemas import FranceTravailOfferCreate, OfferCreate, OfferPage, OfferPatch, OfferPublic
from api.security import AuthFirstRoute, OfferReader, OfferWriter
from api.services import (
    idempotency_lock,
    offer_from_france_travail,
    offer_public,
    save_offer,
    stored_offer,
    unprocessable,
)
from matching.storage.companies import (
    CompanyIdentity,
    close_offer,
    company_offer,
    company_offers,
    find_idempotent,
    request_hash,
    store_idempotent,
)

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/offers", tags=["offres (entreprises)"])

OfferId = Annotated[int, Path(ge=1, le=2**62, description="Identifiant de l'offre")]
OfferStatus = Annotated[str | None, Query(alias="status", pattern="^(active|closed|expired|unpublished|duplicate)$")]
_KEY_HEADER = "idempotency-key"
_KEY_DOC = {"parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "description": "Rejouer la même requête renvoie la première réponse (24 h).",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                       "pattern": "^[\\x21-\\x7e]+$"}}]}  # fmt: skip


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(_KEY_HEADER)
    if key is None:
        return None
    if not (0 < len(key) <= 255 and key.isascii() and key.isprintable() and " " not in key):
        raise unprocessable([{"loc": ["header", "Idempotency-Key"], "msg": "clé d'idempotence invalide (1 à 255 "
                              "caractères ASCII visibles)", "type": "value_error"}])  # fmt: skip
    return key


def _created(
    request: Request, conn: Conn, embedder: EmbedderDep, settings: SettingsDep, company: CompanyIdentity,
    offer: OfferCreate, fmt: str, original: dict[str, Any] | None, body: dict[str, Any],
) -> JSONResponse:  # fmt: skip
    key = _idempotency_key(request)

    def create() -> JSONResponse:
        offer_id = save_offer(conn, embedder, company.company_id, offer, fmt, original)  # type: ignore[arg-type]
        row = company_offer(conn, company.company_id, offer_id)
        return JSONResponse(jsonable_encoder(offer_public(row)), status_code=status.HTTP_201_CREATED)

    if key is None:
        return create()
    digest = request_hash("POST", request.url.path, body)
    with idempotency_lock(conn, company.company_id, key):
        stored = find_idempotent(conn, company.company_id, key)
        if stored is not None:
            if stored.request_hash != digest:
                raise unprocessable([{"loc": ["header", "Idempotency-Key"], "type": "value_error",
                                      "msg": "clé d'idempotence déjà utilisée pour une autre requête"}])  # fmt: skip
            return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})
        response = create()
        store_idempotent(conn, company.company_id, key, digest, response.status_code,
                         json.loads(response.body),
                         settings.idempotency_ttl_hours)  # fmt: skip
        conn.commit()
        return response


_CREATE = {"status_code": status.HTTP_201_CREATED, "response_model": OfferPublic, "openapi_extra": _KEY_DOC,
           "responses": error_responses(401, 403, 409, 429)}  # fmt: skip


@router.post("", **_CREATE)
def create_offer(request: Request, offer: OfferCreate, company: OfferWriter, conn: Conn, embedder: EmbedderDep,
                 settings: SettingsDep) -> JSONResponse:  # fmt: skip
    """Submit an offer (Maillage schema); it is normalised, stored and indexed before the answer."""
    return _created(request, conn, embedder, settings, company, offer, "maillage", None,
                    offer.model_dump(mode="json", exclude_unset=True))  # fmt: skip


@router.post("/france-travail", **_CREATE)
def create_offer_france_travail(request: Request, offer: FranceTravailOfferCreate, company: OfferWriter,
                                conn: Conn, embedder: EmbedderDep, settings: SettingsDep) -> JSONResponse:  # fmt: skip
    """Submit an offer in the France Travail « Offres d'emploi v2 » shape."""
    original = offer.model_dump(mode="json", exclude_unset=True)
    return _created(request, conn, embedder, settings, company, offer_from_france_travail(offer), "france_travail",
                    original, original)  # fmt: skip


@router.api_route("/france-travail", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def france_travail_other_methods() -> None:
    """Only POST exists here; without this route, `/{offer_id}` would answer these methods."""
    raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED, "Méthode non autorisée.", headers={"Allow": "POST"})


@router.get("", response_model=OfferPage, responses=error_responses(401, 403, 429))
def list_offers(
    company: OfferReader, conn: Conn,
    offer_status: OfferStatus = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> OfferPage:  # fmt: skip
    """The company's offers, oldest first."""
    rows, total = company_offers(conn, company.company_id, offer_status, limit, offset)
    return OfferPage(items=[offer_public(r) for r in rows], total=total, limit=limit, offset=offset)


def _own_offer(conn: Conn, company: CompanyIdentity, offer_id: int) -> dict:
    row = company_offer(conn, company.company_id, offer_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Offre introuvable.")
    return row


@router.get("/{offer_id}", response_model=OfferPublic, responses=error_responses(401, 403, 404, 429))
def get_offer(offer_id: OfferId, company: OfferReader, conn: Conn) -> OfferPublic:
    """One offer of the company (another company's offer answers 404)."""
    return offer_public(_own_offer(conn, company, offer_id))


@router.put("/{offer_id}", response_model=OfferPublic, responses=error_responses(401, 403, 404, 409, 429))
def replace_offer(offer_id: OfferId, offer: OfferCreate, company: OfferWriter, conn: Conn,
                  embedder: EmbedderDep) -> OfferPublic:  # fmt: skip
    """Replace an offer's content (its external reference cannot change)."""
    existing = _own_offer(conn, company, offer_id)
    save_offer(conn, embedder, company.company_id, offer, existing["raw"]["format"], existing=existing)
    return offer_public(_own_offer(conn, company, offer_id))


@router.patch("/{offer_id}", response_model=OfferPublic, responses=error_responses(401, 403, 404, 409, 429))
def patch_offer(offer_id: OfferId, patch: OfferPatch, company: OfferWriter, conn: Conn,  # type: ignore[valid-type]
                embedder: EmbedderDep) -> OfferPublic:  # fmt: skip
    """Change some fields of an offer; the result is validated as a whole."""
    existing = _own_offer(conn, company, offer_id)
    merged = {**stored_offer(existing), **patch.model_dump(exclude_unset=True)}  # type: ignore[attr-defined]
    try:
        offer = OfferCreate.model_validate(merged)
    except ValidationError as exc:
        raise unprocessable(body_errors(exc)) from None
    save_offer(conn, embedder, company.company_id, offer, existing["raw"]["format"], existing=existing)
    return offer_public(_own_offer(conn, company, offer_id))


@router.delete("/{offer_id}", response_model=OfferPublic, responses=error_responses(401, 403, 404, 429))
def delete_offer(offer_id: OfferId, company: OfferWriter, conn: Conn) -> OfferPublic:
    """Close an offer: it is kept, with status closed, and no longer proposed."""
    _own_offer(conn, company, offer_id)
    close_offer(conn, offer_id)
    return offer_public(_own_offer(conn, company, offer_id))
