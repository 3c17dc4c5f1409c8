"""Text units for NLP explainability: tokens, sentences or paragraphs, with 0-based character offsets.

Tokens and sentences come from spaCy's blank language pipelines (rule-based tokenizer and sentencizer, no model
download), for every ``TextConfig.Language`` code of the API; a language spaCy cannot load falls back to the
multi-language pipeline ``xx``. Paragraphs are separated by blank lines. A unit's ``text`` is exactly as it stands in
the original (surrounding white space excluded) and ``start`` is its character offset.

UNVERIFIED (docs/explainer.md 3.9): whether the service counts punctuation tokens as units. The kit
counts them, as spaCy does: more units, a larger synthetic dataset, a conservative latency estimate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from clarify_kit.core.errors import CodecError

__all__ = ["GRANULARITIES", "Unit", "compose", "split_units"]

GRANULARITIES = ("token", "sentence", "paragraph")
# Texts longer than this are refused: the explainer could never finish them within the 60 s limit anyway.
MAX_TEXT_CHARS = 1_000_000


@dataclass(frozen=True)
class Unit:
    """One unit of text: as written, its offset, and the white space that follows it in the original."""

    text: str
    start: int
    trailing: str = ""


@lru_cache(maxsize=16)
def _pipeline(language: str, sentences: bool) -> Any:
    import spacy

    try:
        nlp = spacy.blank(language)
    except (ImportError, OSError, KeyError, ValueError):
        nlp = spacy.blank("xx")  # the multi-language tokenizer, for languages without a loadable one
    if sentences:
        nlp.add_pipe("sentencizer")
    nlp.max_length = MAX_TEXT_CHARS + 1
    return nlp


def split_units(text: str, language: str, granularity: str) -> list[Unit]:
    """The units of ``text``; white-space-only pieces are never units."""
    if granularity not in GRANULARITIES:
        raise CodecError(f"granularity {granularity!r}; allowed: {', '.join(GRANULARITIES)}")
    if len(text) > MAX_TEXT_CHARS:
        raise CodecError(f"the text has {len(text)} characters; at most {MAX_TEXT_CHARS} are split")
    if granularity == "paragraph":
        pieces = [
            (m.start(), m.end()) for m in re.finditer(r"\S(?:.*?\S)??(?=\n[ \t\r\f\v]*\n|\s*\Z)", text, flags=re.S)
        ]
        return _with_trailing(text, pieces)
    doc = _pipeline(language, granularity == "sentence")(text)
    if granularity == "token":
        spans = [(t.idx, t.idx + len(t.text)) for t in doc if not t.is_space and t.text.strip()]
    else:
        spans = []
        for sent in doc.sents:
            raw = sent.text
            left = len(raw) - len(raw.lstrip())
            right = len(raw.rstrip())
            if right > left:
                spans.append((sent.start_char + left, sent.start_char + right))
    return _with_trailing(text, spans)


def _with_trailing(text: str, spans: list[tuple[int, int]]) -> list[Unit]:
    units = []
    for i, (start, end) in enumerate(spans):
        following = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        units.append(Unit(text[start:end], start, text[end:following]))
    return units


def compose(units: list[Unit], keep: list[bool], replacement: str, prefix: str = "") -> str:
    """Rebuild a text keeping the units where ``keep`` is true and putting ``replacement`` for the others.

    The original spacing between units is kept, so a full ``keep`` gives back the original text (from the
    first unit on, after ``prefix``).
    """
    parts = [prefix]
    for unit, kept in zip(units, keep, strict=True):
        parts.append(unit.text if kept else replacement)
        parts.append(unit.trailing)
    return "".join(parts)
