"""Normalise parsed offers: place (commune, coordinates, QPV), ROME code, expiry, one vocabulary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg

from ingestion.parsing import RecordError
from ingestion.rome_prediction import RomeDecision, RomeIndex, decide
from matching.domain import OfferRecord
from matching.referentiels.lookup import Commune, commune, communes_for_postal_code, find_qpv

DEFAULT_TTL_DAYS = 60


@dataclass
class Normaliser:
    """Normalises batches of offers against the reference tables, caching commune lookups."""

    conn: psycopg.Connection
    rome_index: RomeIndex | None = None
    default_ttl_days: int = DEFAULT_TTL_DAYS
    _by_insee: dict[str, Commune | None] = field(default_factory=dict)
    _by_postal: dict[str, Commune | None] = field(default_factory=dict)

    def _commune(self, insee: str) -> Commune | None:
        if insee not in self._by_insee:
            self._by_insee[insee] = commune(self.conn, insee)
        return self._by_insee[insee]

    def _postal(self, postal_code: str) -> Commune | None:
        if postal_code not in self._by_postal:
            found = communes_for_postal_code(self.conn, postal_code)
            self._by_postal[postal_code] = found[0] if found else None
        return self._by_postal[postal_code]

    def place(self, offer: OfferRecord) -> dict:
        """Commune INSEE, postal code, coordinates and QPV of an offer (INSEE first, postal-code fallback)."""
        found = self._commune(offer.commune_insee) if offer.commune_insee else None
        if found is None and offer.postal_code:
            found = self._postal(offer.postal_code)
        lat, lon = offer.lat, offer.lon
        if found is None and lat is None and not offer.remote_work:
            message = "lieu de travail introuvable : ni commune INSEE, ni code postal, ni coordonnées connus"
            raise RecordError("normalise", "unknown_place", message)
        if found is not None and lat is None:
            lat, lon = found.lat, found.lon
        # The arrondissement's own postal code when the source gave the city's one.
        postal = offer.postal_code or (found.postal_code if found else None)
        return {
            "commune_insee": found.insee if found else offer.commune_insee,
            "postal_code": postal,
            "lat": lat,
            "lon": lon,
            "qpv_code": find_qpv(self.conn, lat, lon) if lat is not None else None,
            "workplace_label": offer.workplace_label or (found.name if found else None),
        }

    def normalise_many(self, offers: list[OfferRecord]) -> list[tuple[OfferRecord, RomeDecision | None] | RecordError]:
        """Normalise a batch; a failing offer yields its `RecordError` in place, the others proceed."""
        predictions = (
            self.rome_index.predict_many([o.title for o in offers])
            if self.rome_index and offers
            else [None] * len(offers)
        )
        results: list[tuple[OfferRecord, RomeDecision | None] | RecordError] = []
        for offer, prediction in zip(offers, predictions, strict=True):
            try:
                changes = self.place(offer)
            except RecordError as exc:
                results.append(exc)
                continue
            decision = decide(offer.rome_code_source, prediction) if self.rome_index else None
            if decision is not None:
                changes.update(
                    rome_code=decision.rome_code,
                    rome_code_predicted=decision.prediction.code if decision.prediction else None,
                    rome_prediction_score=decision.prediction.score if decision.prediction else None,
                    appellation_code=decision.appellation_code or offer.appellation_code,
                    appellation_label=decision.appellation_label or offer.appellation_label,
                )
            if offer.expires_at is None and offer.source_created_at is not None:
                changes["expires_at"] = offer.source_created_at + timedelta(days=self.default_ttl_days)
            results.append((dataclasses.replace(offer, **changes), decision))
        return results
