"""Request and response schemas of feedback on matches (advisers) and hires reported by companies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas import JUUID, JDateTime, _Input
from matching.storage.feedback import FEEDBACK_EVENTS, MAX_COMMENT, REASON_CODES

FeedbackEvent = Literal[FEEDBACK_EVENTS]  # type: ignore[valid-type]
ReasonCode = Literal[tuple(REASON_CODES)]  # type: ignore[valid-type]
# Dates outside this range are typing errors (and could not be compared across time zones).
_EARLIEST_YEAR, _LATEST_YEAR = 2000, 2100


def _plausible(value: datetime | None) -> datetime | None:
    if value is not None and not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
        raise ValueError(f"date invraisemblable (attendue entre {_EARLIEST_YEAR} et {_LATEST_YEAR})")
    return value


class FeedbackCreate(_Input):
    """What happened to a match: the event, its reason when negative, a comment, when it happened."""

    event: FeedbackEvent = Field(description="proposed | interested | declined | applied | interview | hired | "
                                             "refused_by_employer")  # fmt: skip
    reason_code: ReasonCode | None = Field(default=None, description="Motif, obligatoire pour declined et "
                                                                      "refused_by_employer")  # fmt: skip
    comment: str | None = Field(default=None, max_length=MAX_COMMENT, description="Commentaire libre du conseiller")
    occurred_at: JDateTime | None = Field(default=None, description="Date de l'événement (défaut : maintenant)")

    @field_validator("occurred_at")
    @classmethod
    def _plausible_date(cls, value: datetime | None) -> datetime | None:
        return _plausible(value)


class HireCreate(_Input):
    """A hire reported by the employer, on the match the adviser's proposal referred to."""

    match_id: JUUID = Field(description="Identifiant de la mise en relation transmis avec la candidature")
    occurred_at: JDateTime | None = Field(default=None, description="Date de l'embauche (défaut : maintenant)")

    @field_validator("occurred_at")
    @classmethod
    def _plausible_date(cls, value: datetime | None) -> datetime | None:
        return _plausible(value)


class FeedbackPublic(BaseModel):
    """One recorded outcome of a match."""

    id: int
    match_id: uuid.UUID
    offer_id: int
    candidate_id: uuid.UUID | None
    event: str
    event_label: str
    reason_code: str | None
    reason_label: str | None
    comment: str | None
    occurred_at: datetime
    created_at: datetime
    by: str = Field(description="adviser | company")


class FeedbackList(BaseModel):
    """The outcomes of a match, newest first."""

    match_id: uuid.UUID
    entries: list[FeedbackPublic]


class HirePublic(BaseModel):
    """A hire recorded for one of the company's offers (no personal data of the person hired)."""

    id: int
    match_id: uuid.UUID
    offer_id: int
    event: Literal["hired"]
    occurred_at: datetime
    created_at: datetime
