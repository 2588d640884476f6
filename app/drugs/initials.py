"""Pinyin initials of a Chinese drug name ("aldp" for 氨氯地平), the way pharmacists search."""

import re

from pypinyin import Style, pinyin

MAX_SPELLINGS = 4  # a name with polyphones keeps its phrase reading and a few others
COLUMN_LENGTH = 60
HAN = re.compile(r"[\u4e00-\u9fff]")


def _letters(readings: list[str]) -> list[str]:
    return list(dict.fromkeys(r.casefold() for r in readings if r.strip() and r.isalnum()))


def name_initials(name_zh: str) -> str:
    """The phrase-aware reading's initials first, then readings with one other sound of a polyphone
    (重 chóng/zhòng), space-separated; "" for a name without Han characters. Letters and digits in the
    name (维生素B12) are kept as typed, lower-cased."""
    if not HAN.search(name_zh or ""):
        return ""
    keep = lambda text: list(text)  # noqa: E731 - pypinyin calls it for characters that are not Han
    phrase = [_letters(r) for r in pinyin(name_zh, style=Style.FIRST_LETTER, errors=keep)]
    every = [_letters(r) for r in pinyin(name_zh, style=Style.FIRST_LETTER, heteronym=True, errors=keep)]
    base = [letters[0] for letters in phrase if letters]
    spellings = ["".join(base)]
    if len(phrase) == len(every):
        position = 0
        for first, options in zip(phrase, every, strict=True):
            if not first:
                continue
            for other in options:
                if other != first[0] and len(spellings) < MAX_SPELLINGS:
                    spellings.append("".join([*base[:position], other, *base[position + 1:]]))
            position += 1
    text = ""
    for spelling in dict.fromkeys(spellings):
        candidate = f"{text} {spelling}".strip()
        if len(candidate) > COLUMN_LENGTH:
            break
        text = candidate
    return text
