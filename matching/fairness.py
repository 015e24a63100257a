"""Fairness report of served matches: exposure and scores by candidate group and by employer.

QPV residence is a priority criterion of the programme by design (the QPV hiring clause feature); no
other protected attribute (age, disability/RQTH) is a ranking feature: they only appear here, to check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from matching.storage.database import fetch_on_custom_plan

SERVED_ITEMS = """
SELECT mi.request_id, mi.rank, mi.score, CASE WHEN c.id IS NOT NULL THEN c.qpv_code IS NOT NULL END AS in_qpv,
       c.birth_year, ('RQTH' = ANY (c.eligibility)) AS rqth, co.name AS employer, mr.served_at
FROM match_items AS mi
JOIN match_requests AS mr ON mr.id = mi.request_id
LEFT JOIN candidates AS c ON c.id = mi.candidate_id
JOIN offers AS o ON o.id = mi.offer_id
LEFT JOIN companies AS co ON co.id = o.company_id
WHERE mr.served_at > now() - make_interval(days => %(days)s)
"""
NOTE = ("La résidence en QPV est un critère prioritaire du programme (clause d'embauche QPV) ; l'âge et la "
        "RQTH ne sont pas des critères de classement et ne figurent ici que pour contrôle.")  # fmt: skip
TOP_EMPLOYERS = 20


@dataclass(frozen=True, slots=True)
class Distribution:
    """Exposure and score distribution of one group of served items."""

    group: str
    requests: int
    items: int
    top3_share: float
    mean_score: float | None
    median_score: float | None
    p90_score: float | None


def age_band(birth_year: int | None, year: int) -> str:
    """'moins de 26 ans', '26-49 ans', '50 ans et plus', or 'inconnu'."""
    if birth_year is None:
        return "inconnu"
    age = year - birth_year
    return "moins de 26 ans" if age < 26 else "26-49 ans" if age < 50 else "50 ans et plus"


def distribution(group: str, items: list[Mapping[str, Any]]) -> Distribution:
    """Summarise a group's served items."""
    scores = np.array([i["score"] for i in items], dtype=float)
    top3 = sum(1 for i in items if i["rank"] <= 3)
    return Distribution(
        group,
        len({i["request_id"] for i in items}),
        len(items),
        round(top3 / len(items), 4) if items else 0.0,
        round(float(scores.mean()), 4) if len(scores) else None,
        round(float(np.median(scores)), 4) if len(scores) else None,
        round(float(np.percentile(scores, 90)), 4) if len(scores) else None,
    )


def fairness_report(items: Iterable[Mapping[str, Any]], year: int) -> dict[str, Any]:
    """Group served items by QPV residence, age band, RQTH and employer (the most exposed employers)."""
    groups: dict[str, dict[str, list]] = {"qpv": defaultdict(list), "age": defaultdict(list),
                                          "rqth": defaultdict(list)}  # fmt: skip
    employers: dict[str, list] = defaultdict(list)
    for item in items:
        in_qpv = item.get("in_qpv")
        groups["qpv"]["inconnu" if in_qpv is None else "résident QPV" if in_qpv else "hors QPV"].append(item)
        groups["age"][age_band(item.get("birth_year"), year)].append(item)
        groups["rqth"]["RQTH" if item.get("rqth") else "sans RQTH" if item.get("rqth") is not None
                       else "inconnu"].append(item)  # fmt: skip
        employers[item.get("employer") or "employeur inconnu"].append(item)
    by_employer = sorted((distribution(k, v) for k, v in employers.items()), key=lambda d: (-d.items, d.group))
    return {
        "note": NOTE,
        "by_group": {name: [distribution(k, v) for k, v in sorted(g.items())] for name, g in groups.items()},
        "by_employer": by_employer[:TOP_EMPLOYERS],
    }


def served_fairness_report(conn: psycopg.Connection, days: int, year: int) -> dict[str, Any]:
    """The report over the matches served in the last `days` days (platform admins only)."""
    # Planned for its window at each call: a day and a year of the log want different plans.
    return fairness_report(fetch_on_custom_plan(conn, SERVED_ITEMS, {"days": days}), year)
