"""Feedback on served matches (advisers, scoped to their structure) and hires reported by companies."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request, status

from api.deps import Conn
from api.routes.offers import OfferId
from api.routes.responses import error_responses
from api.schemas_feedback import FeedbackCreate, FeedbackList, FeedbackPublic, HireCreate, HirePublic
from api.security import AuthFirstRoute, OfferWriter, ScopedCandidates, request_id
from api.services import unprocessable
from matching.storage.audit import Actor
from matching.storage.feedback import (
    EVENT_LABELS,
    REASON_CODES,
    FeedbackEntry,
    InvalidFeedback,
    MatchNotFound,
    feedback_for_matches,
    record_company_hire,
    record_feedback,
)

router = APIRouter(prefix="/v1", tags=["retours sur les mises en relation"], route_class=AuthFirstRoute)
company_router = APIRouter(prefix="/v1/offers", tags=["offres (entreprises)"], route_class=AuthFirstRoute)

_MATCH_NOT_FOUND = "Mise en relation introuvable."


def feedback_public(entry: FeedbackEntry) -> FeedbackPublic:
    """The public form of a feedback entry, with French labels."""
    return FeedbackPublic(
        id=entry.id, match_id=entry.match_id, offer_id=entry.offer_id, candidate_id=entry.candidate_id,
        event=entry.event, event_label=EVENT_LABELS[entry.event], reason_code=entry.reason_code,
        reason_label=REASON_CODES.get(entry.reason_code) if entry.reason_code else None, comment=entry.comment,
        occurred_at=entry.occurred_at, created_at=entry.created_at,
        by="company" if entry.company_id is not None else "adviser",
    )  # fmt: skip


def _invalid(exc: InvalidFeedback) -> HTTPException:
    return unprocessable([{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}])


@router.post("/matches/{match_id}/feedback", status_code=status.HTTP_201_CREATED, response_model=FeedbackPublic,
             responses=error_responses(401, 403, 404))  # fmt: skip
def post_feedback(match_id: uuid.UUID, body: FeedbackCreate, accessor: ScopedCandidates, conn: Conn) -> FeedbackPublic:
    """Record what happened to a match of the caller's structure (another structure's match answers 404)."""
    try:
        entry = record_feedback(conn, accessor, match_id, body.event, reason_code=body.reason_code,
                                comment=body.comment, occurred_at=body.occurred_at)  # fmt: skip
    except MatchNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _MATCH_NOT_FOUND) from None
    except InvalidFeedback as exc:
        raise _invalid(exc) from None
    return feedback_public(entry)


@router.get("/matches/{match_id}/feedback", response_model=FeedbackList, responses=error_responses(401, 403, 404))
def get_feedback(match_id: uuid.UUID, accessor: ScopedCandidates, conn: Conn) -> FeedbackList:
    """The outcomes recorded on a match of the caller's structure, newest first."""
    found = feedback_for_matches(conn, accessor, [match_id])
    if match_id not in found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _MATCH_NOT_FOUND)
    return FeedbackList(match_id=match_id, entries=[feedback_public(e) for e in found[match_id]])


@company_router.post("/{offer_id}/hires", status_code=status.HTTP_201_CREATED, response_model=HirePublic,
                     responses=error_responses(401, 403, 404, 429))  # fmt: skip
def post_hire(offer_id: OfferId, body: HireCreate, company: OfferWriter, conn: Conn, request: Request) -> HirePublic:
    """Report the hire of the person an adviser proposed (their match id) on one of the company's offers."""
    actor = Actor(kind="company", id=str(company.company_id), request_id=request_id(request))
    try:
        entry = record_company_hire(conn, actor, company.company_id, offer_id, body.match_id, body.occurred_at)
    except MatchNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Mise en relation introuvable pour cette offre.") from None
    except InvalidFeedback as exc:
        raise _invalid(exc) from None
    return HirePublic(id=entry.id, match_id=entry.match_id, offer_id=entry.offer_id, event="hired",
                      occurred_at=entry.occurred_at, created_at=entry.created_at)  # fmt: skip
