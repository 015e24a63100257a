"""Text normalisation for reference labels and job-offer titles (pure functions, no I/O)."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter plus accents.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'", "ʼ": "'"})

_DOUBLED_APOSTROPHES = re.compile(r"'{2,}")
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]+")

# "(H/F)", "H/F", "F/H", "(M/F)", "H-F", "(H/F/X)", "h / f" … anywhere, as a word of its own.
_GENDER_MARKER = re.compile(
    r"\(?\s*\b(?:h\s*[/\-|]\s*f|f\s*[/\-|]\s*h|m\s*[/\-|]\s*f|f\s*[/\-|]\s*m)(?:\s*[/\-|]\s*[xn])?\b\s*\)?"
)
# Inclusive suffixes glued to a word: "soignant(e)", "technicien(ne)", "vendeur(se)", "serveur.euse".
_PAREN_SUFFIX = re.compile(r"(?<=[a-z])\([a-z]{1,5}\)")
_DOT_SUFFIX = re.compile(r"(?<=[a-z])[.·•](?:e|es|se|euse|rice|trice|ere|iere|ne|nne|le|lle|ve|ive|te|tte)\b")
_SLASH = re.compile(r"\s*/\s*")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NON_ALNUM_OR_SLASH = re.compile(r"[^a-z0-9/]+")
# What a feminine form may add after the common stem: "chef" → "cheffe", "vendeur" → "vendeuse".
_MAX_FEMININE_TAIL = 5
_MAX_MASCULINE_TAIL = 3
_MIN_STEM = 3


def fix_doubled_apostrophes(text: str) -> str:
    """Turn the SQL-style doubled apostrophes of some ROME exports (``L''Employé``) into single ones."""
    return _DOUBLED_APOSTROPHES.sub("'", text)


def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures, keep punctuation (``"Œuvre d’Art"`` → ``"oeuvre d'art"``)."""
    text = fix_doubled_apostrophes(text.translate(_LIGATURES))
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text)).lower()


def normalize_text(text: str) -> str:
    """Fold accents and case, turn punctuation into single spaces (search keys for names)."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()


def _stem_length(a: str, b: str) -> int:
    """Length of the common prefix of two words."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def _gender_variants(first: str, second: str) -> bool:
    """Whether two words are the same or masculine/feminine forms of one another (either order)."""
    if first == second:
        return True
    masculine, feminine = sorted((first, second), key=len)
    stem = _stem_length(masculine, feminine)
    return (
        stem >= _MIN_STEM
        and len(masculine) - stem <= _MAX_MASCULINE_TAIL
        and len(feminine) - stem <= _MAX_FEMININE_TAIL
    )


def _drop_feminine_alternatives(text: str) -> str:
    """Keep one side of "Serveur / Serveuse" or "Chef / Cheffe de rang" alternations: the shorter words."""
    parts = _SLASH.split(text)
    result = parts[0]
    for right in parts[1:]:
        left_words, right_words = result.split(), right.split()
        for k in range(min(len(left_words), len(right_words)), 0, -1):
            pairs = list(zip(left_words[-k:], right_words[:k], strict=True))
            if all(_gender_variants(a, b) for a, b in pairs):
                kept = [min(a, b, key=len) for a, b in pairs]
                result = " ".join([*left_words[:-k], *kept, *right_words[k:]])
                break
        else:  # a genuine alternative ("Steward / Hôtesse"): keep both sides
            result = " ".join([*left_words, *right_words])
    return result


def normalize_label(text: str) -> str:
    """Normalise a job title or appellation for exact lookup: case, accents, gender forms, punctuation."""
    text = fold(text)
    text = _GENDER_MARKER.sub(" ", text)
    text = _PAREN_SUFFIX.sub("", text)
    text = _DOT_SUFFIX.sub("", text)
    # Hyphens become spaces first so "Aide-soignant / Aide-soignante" aligns word by word.
    text = _drop_feminine_alternatives(_NON_ALNUM_OR_SLASH.sub(" ", text))
    return _NON_ALNUM.sub(" ", text).strip()
