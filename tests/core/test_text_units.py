"""Text units: boundaries and 0-based offsets for every granularity, in several languages."""

from __future__ import annotations

import pytest

from clarify_kit.core.errors import CodecError
from clarify_kit.core.text_units import compose, split_units

TEXTS = {
    "en": 'This is a good product.  I "love" it, really!\n\nSecond paragraph: short.',
    "de": "Die Größe passt nicht. Schade, wirklich!\n\nZweiter Absatz über München.",
    "fr": "Le produit est très bien. « Vraiment » génial !\n\nDeuxième paragraphe, ça marche.",
    "es": "¡Me encanta! El envío fue rápido.\n\nSegundo párrafo: todo bien.",
    "ru": "Отличный товар. Доставка — быстрая!\n\nВторой абзац здесь.",
    "zh": "这个产品很好。我很喜欢！\n\n第二段。",
}


@pytest.mark.parametrize("language", sorted(TEXTS))
@pytest.mark.parametrize("granularity", ["token", "sentence", "paragraph"])
def test_offsets_point_at_the_unit_as_written(language: str, granularity: str) -> None:
    text = TEXTS[language]
    units = split_units(text, language, granularity)
    assert units
    for unit in units:
        assert text[unit.start : unit.start + len(unit.text)] == unit.text
        assert unit.text == unit.text.strip() and unit.text
    starts = [u.start for u in units]
    assert starts == sorted(starts)
    assert compose(units, [True] * len(units), "<UNK>", text[: units[0].start]) == text


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_there_are_two_paragraphs_and_more_sentences_than_paragraphs(language: str) -> None:
    text = TEXTS[language]
    assert len(split_units(text, language, "paragraph")) == 2
    assert len(split_units(text, language, "sentence")) >= 3
    assert len(split_units(text, language, "token")) > len(split_units(text, language, "sentence"))


def test_the_documented_token_example_is_reproduced() -> None:
    units = split_units("This is a good product", "en", "token")
    assert [(u.text, u.start) for u in units] == [("This", 0), ("is", 5), ("a", 8), ("good", 10), ("product", 15)]


def test_english_details_quotes_punctuation_and_several_spaces() -> None:
    units = split_units(TEXTS["en"], "en", "token")
    texts = [u.text for u in units]
    assert texts[:6] == ["This", "is", "a", "good", "product", "."]
    assert '"' in texts and "love" in texts  # punctuation is a unit (UNVERIFIED for the service; conservative)
    assert all(u.text.strip() for u in units)  # the double space is no unit
    sentences = split_units(TEXTS["en"], "en", "sentence")
    assert [(s.text, s.start) for s in sentences][:2] == [("This is a good product.", 0), ('I "love" it, really!', 25)]


def test_every_api_language_code_loads_a_tokenizer() -> None:
    codes = [
        "af",
        "sq",
        "ar",
        "hy",
        "eu",
        "bn",
        "bg",
        "ca",
        "zh",
        "hr",
        "cs",
        "da",
        "nl",
        "en",
        "et",
        "fi",
        "fr",
        "de",
        "el",
        "gu",
        "he",
        "hi",
        "hu",
        "is",
        "id",
        "ga",
        "it",
        "kn",
        "ky",
        "lv",
        "lt",
        "lb",
        "mk",
        "ml",
        "mr",
        "ne",
        "nb",
        "fa",
        "pl",
        "pt",
        "ro",
        "ru",
        "sa",
        "sr",
        "tn",
        "si",
        "sk",
        "sl",
        "es",
        "sv",
        "tl",
        "ta",
        "tt",
        "te",
        "tr",
        "uk",
        "ur",
        "yo",
        "lij",
        "xx",
    ]
    for code in codes:
        assert split_units("one two", code, "token"), code


def test_masked_units_are_replaced_and_spacing_kept() -> None:
    units = split_units("This is a good product", "en", "token")
    assert compose(units, [True, False, True, False, True], "<MASK>") == "This <MASK> a <MASK> product"


def test_unknown_granularity_and_huge_texts_are_refused() -> None:
    with pytest.raises(CodecError, match="allowed: token, sentence, paragraph"):
        split_units("x", "en", "word")
    with pytest.raises(CodecError, match="at most"):
        split_units("x" * 1_000_001, "en", "token")
