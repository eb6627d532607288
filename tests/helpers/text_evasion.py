"""Evasion variants of lexicon terms, shared by the property tests, the recall test and the benchmark.

Each generator imitates what streamers actually do: Traditional characters, full-width forms,
symbols or zero-width characters between characters, pinyin (lower, upper, camel case, spaced, with
tone numbers), mixed Han + pinyin, and letter-spaced English.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

from moderation.text.normalize import char_pinyin, is_han

SEPARATORS = [" ", ".", "*", "-", "_", "|", "/", "·", "\u200b", "  ", " . ", "~"]


@cache
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def traditional(s: str) -> str:
    return str(_s2t().convert(s))


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s)


def join_sep(chars: list[str], sep: str) -> str:
    return sep.join(chars)


def zh_variants(term: str, pinyin: bool, rng: random.Random) -> list[str]:
    """Evasion forms of a Chinese term; pinyin forms only when pinyin matching is on for it."""
    chars = list(term)
    out = [traditional(term), fullwidth(term)]
    for sep in rng.sample(SEPARATORS, 4):
        out.append(join_sep(chars, sep))
        out.append(join_sep(list(traditional(term)), sep))
    if pinyin and all(is_han(c) for c in term):
        syl = [char_pinyin(c) for c in term]
        out += [
            "".join(syl),
            " ".join(syl),
            "".join(syl).upper(),
            "".join(s.capitalize() for s in syl),
            "".join(f"{s}{rng.randint(1, 4)}" for s in syl),
            fullwidth("".join(syl)),
            "-".join(syl),
        ]
        k = rng.randrange(len(chars))  # mixed: one character written in pinyin
        out.append("".join(syl[i] if i == k else c for i, c in enumerate(chars)))
    return out


def en_variants(term: str, rng: random.Random) -> list[str]:
    words = term.split()
    out = [term.upper(), term.title(), fullwidth(term)]
    for sep in ["-", "_", ".", "  ", " / "]:
        out.append(sep.join(words))
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    sep = rng.choice([" ", ".", "*", "-"])
    spelled = [sep.join(w) if i == longest else w for i, w in enumerate(words)]
    out.append(" ".join(spelled))
    return out


def wrap(v: str, lang: str, rng: random.Random) -> str:
    """Put a variant inside neutral surrounding text."""
    if lang == "zh":
        return rng.choice(["{}", "家人们{}走起", "来来来{}了", "看这里，{}。"]).format(v)
    return rng.choice(["{}", "hey guys {} right now", "ok so {}!"]).format(v)
