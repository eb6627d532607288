"""Quoted words: what a line puts in quotation marks and comments on is a mention, not a pitch.

Viewers quote spam to mock it or warn others ("又来了，“加我带你上岸”，上岸是上天堂吧"; "信了“老师带你回本”，
结果又输了"); spam does not put its own pitch in quotes and then comment on it. So a hit that lies wholly
inside a pair of quotation marks, in a line with words of its own outside the quotes, is a mention —
unless the quotes give a name to look for (叫「…」, 搜“…”, 认准“…”, 邀请码“…”): that is how a spammer
spells out an app, a site or a code. A lure outside the quotes overrides this as it overrides every
frame ("“稳赚不赔”的项目，私我" stays a pitch); a lure inside them is quoted, not offered.
"""

from __future__ import annotations

import re

from moderation.text.pinyin import HAN_CLASS

#: Opening → closing quotation marks (the ASCII double quote pairs with itself).
_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’", "《": "》"}
_OPEN_RE = re.compile("[" + re.escape("".join(_PAIRS)) + "]")
#: Words right before an opening quote that make the quoted text a name to look up or type in.
_NAMING = re.compile(r"(?:叫|名叫|名字|名称|搜|搜索|认准|口令|暗号|输入|填|填写|备注|邀请码|码|号)\s*$")
_HAN = re.compile(f"[{HAN_CLASS}]")
#: Words a line needs outside its quotes to be a comment on them.
MIN_OWN_HAN = 2


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """``[a, b)`` of each quoted part of ``text`` (inside the marks), in order, when the line also
    has at least :data:`MIN_OWN_HAN` Han characters of its own outside every quote; naming quotes
    are left out. Unclosed quotes quote nothing."""
    if _OPEN_RE.search(text) is None:
        return []
    spans: list[tuple[int, int]] = []
    i = 0
    while (m := _OPEN_RE.search(text, i)) is not None:
        close = text.find(_PAIRS[m.group()], m.end())
        if close < 0:
            break
        if _NAMING.search(text, 0, m.start()) is None:
            spans.append((m.end(), close))
        i = close + 1
    if not spans:
        return []
    outside, last = [], 0
    for a, b in spans:
        outside.append(text[last : a - 1])
        last = b + 1
    outside.append(text[last:])
    if len(_HAN.findall("".join(outside))) < MIN_OWN_HAN:
        return []
    return spans


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies wholly inside one of ``spans``."""
    return any(a <= start and end <= b for a, b in spans)
