"""Quoted words: what a line puts in quotation marks and comments on is a mention, not a pitch.

Viewers quote spam to mock it or warn others ("又来了，“加我带你上岸”，上岸是上天堂吧"; "信了“老师带你回本”，
结果又输了"); spam does not put its own pitch in quotes and then comment on it. So a hit that lies wholly
inside a pair of quotation marks, in a line with words of its own outside the quotes, is a mention —
unless the quotes give a name to look for (叫「…」, 搜“…”, 认准“…”, 邀请码“…”): that is how a spammer
spells out an app, a site or a code. A lure outside the quotes overrides this as it overrides every
frame ("“稳赚不赔”的项目，私我" stays a pitch); a lure inside them is quoted, not offered.

Quotes also mark a *name* — of an app, a site, a game room or a gift — and a name is no quote of
anyone's pitch: so a quote is a name, and what is inside it stays evidence, when the words before
it count or pick one (来个“…”, 一款“…”, 玩“…”, 下载“…”; not 那个“…”, which points back at
something said), when a product word follows it (“…”APP, “…”群, “…”礼包, “…”破解版), or when it
ends in a word that brands an operator (…棋牌, …体育, …娱乐, …彩, …直播, …星球, …岛; digits and
latin letters after it, as in “…星球2026”, are skipped).

Quotes around one disguised word are the opposite of a mention: a spammer marks the homophone or
variant he wrote so that readers see it ("想搞“堵球”的看过来", "同城有“约跑”的吗"), while a report or a
warning quotes the term as it is written (所谓“杀猪盘”, 警惕“刷单返利”) or quotes a whole pitch. So a hit
that fills its quote and is spelled in disguise (a homophone, a variant, split characters) stays
evidence (:func:`scare_quoted`). A homophone alone in quotes ("“礼勿”走一走", "给你“为信”") is read as
the word it sounds like when that word is one the lexicon uses (:func:`QuotedSounds.respell`): the
quotes mark it as a stand-in, where a bare two-character homophone would need corroboration.

A quoted name where a gift stands, after a gift verb and its count or before a count ("刷十个“星河之约”",
"“赛博锦鲤”刷十个"), is read as 礼物 when it is no dictionary word (惊喜, 拥抱 and 彩蛋 are what a
streamer gives the room): platforms invent gift names faster than a lexicon can list them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from moderation.text.normalize import convert_phrases
from moderation.text.pinyin import HAN_CLASS, char_pinyin, is_han

#: Opening → closing quotation marks (the ASCII double quote pairs with itself).
_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’", "《": "》"}
_OPEN_RE = re.compile("[" + re.escape("".join(_PAIRS)) + "]")
#: Words right before an opening quote that make the quoted text a name to look up or type in.
_NAMING = re.compile(
    r"(?:叫|名叫|名字|名称|搜|搜索|认准|口令|暗号|输入|填|填写|备注|邀请码|码|号"
    r"|(?<![这那])个|款|玩|下载|安装|装个|进|加入|连击)\s*$"
)
#: Product words right after a closing quote that make the quoted text a name ("“…”APP", "“…”群").
_NAMED_AFTER = re.compile(r"\s*(?:app|平台|官网|网站|网址|软件|客户端|群|礼包|破解版|新版|直播间)", re.IGNORECASE)
#: Endings that brand an operator (digits, latin letters and spaces after them skipped): "“龙腾棋牌”".
_NAME_END = re.compile(r"(?:棋牌|体育|娱乐|国际|彩票|彩|直播|平台|星球|岛|城|堂|会所|俱乐部|app|网)[\sa-z0-9]*$", re.I)
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
        if not _is_name(text, m.start(), m.end(), close):
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


def _is_name(text: str, mark: int, start: int, close: int) -> bool:
    """Whether the quote opened at ``mark`` (content ``[start, close)``) gives a name (see the module)."""
    return (
        _NAMING.search(text, 0, mark) is not None
        or _NAMED_AFTER.match(text, close + 1) is not None
        or _NAME_END.search(text, start, close) is not None
    )


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies wholly inside one of ``spans``."""
    return any(a <= start and end <= b for a, b in spans)


def scare_quoted(text: str, spans: list[tuple[int, int]], start: int, end: int, term: str, via: str) -> bool:
    """Whether the hit ``[start, end)`` of ``term`` (found ``via`` "text", "pinyin" or "pattern")
    fills the quote it lies in, give or take one character, and is written in disguise: read
    through its pinyin, or spelled otherwise than the term once Traditional and full-width forms are
    folded (a variant, split characters). A pattern's match is a phrase, never one word in quotes."""
    if via == "pattern":
        return False
    for a, b in spans:
        if a <= start and end <= b:
            if len((text[a:start] + text[end:b]).strip()) > 1:
                return False
            return via == "pinyin" or convert_phrases(unicodedata.normalize("NFKC", text[start:end])).lower() != term
    return False


#: What a quotation mark around a respelled word becomes: a separator that joins Han on either side.
ZERO_WIDTH = "\u200b"
#: A quote holding nothing but two to four Han characters (any opening mark, any closing one).
_QUOTED_WORD = re.compile(
    "[" + re.escape("".join(_PAIRS)) + f"]([{HAN_CLASS}]{{2,4}})[" + re.escape("".join(_PAIRS.values())) + "]"
)


#: A quoted name right after a gift verb and its count ("刷十个“星河之约”", "送一架「星河游轮」") or
#: right before a count of it ("“赛博锦鲤”刷十个", "“棒棒糖”500个"): a gift, whatever the platform
#: calls it. A bare 刷“…” is spam repeated, not a gift; 来, 点 and 唱 are left out (来个“晴天”: a
#: quoted song is requested, not a gift sent), and so are names of what a game has players grind
#: (刷十个“深渊副本”).
_GIFT_BEFORE = re.compile(
    r"(?:刷|送|砸|连击)(?:了|上)?(?:[一二两三四五六七八九十百千几0-9]*(?:个|架|艘|台|辆|只|颗|朵|发|座|套)|[0-9]+)\s*$"
)
_GIFT_AFTER = re.compile(r"\s*(?:刷|送|砸|连击)?[一二两三四五六七八九十百千几0-9]+(?:个|架|艘|台|辆|只|颗|朵|发|座|套)")
_GAME_THING = re.compile(r"(?:副本|段位|任务|关卡|装备|皮肤|材料|地图|boss|怪|图|本|分)$", re.IGNORECASE)
#: A quote holding a name of up to ten letters, digits and Han characters (:func:`_is_gift_name`
#: asks for two Han characters at least).
_QUOTED_NAME = re.compile(
    "[" + re.escape("".join(_PAIRS)) + f"]([{HAN_CLASS}0-9A-Za-z]{{2,10}})[" + re.escape("".join(_PAIRS.values())) + "]"
)
#: The word a quoted gift name is read as.
GIFT_WORD = "礼物"


class QuotedSounds:
    """The lexicon's words by their sound, to read a homophone put alone in quotes as the word.

    ``words`` are the lexicon's Han terms, the Han words its patterns anchor on (gift names) and
    its variants' canonical spellings (微信); where several share a sound, the one that is an
    ordinary word (``freq``: jieba's dictionary) stands for it (礼物, not the homophone spellings a
    pattern lists beside it), and a sound that two ordinary words share is left out, since the
    quote could stand for either.
    """

    def __init__(self, words: Iterable[str], freq: Mapping[str, int]) -> None:
        by_sound: dict[str, set[str]] = {}
        for w in words:
            if _all_han(w) and (sound := _sound(w)):
                by_sound.setdefault(sound, set()).add(w)
        self._freq = freq
        self._words: dict[str, str] = {}
        for sound, found in by_sound.items():
            known = [w for w in found if freq.get(w, 0) > 0]
            if len(known) == 1 or (not known and len(found) == 1):
                self._words[sound] = known[0] if known else next(iter(found))

    def may_respell(self, text: str) -> bool:
        """Whether :meth:`respell` could change ``text`` (it holds a quotation mark)."""
        return bool(self._words) and _OPEN_RE.search(text) is not None

    def respell(self, text: str) -> str:
        """``text`` with each word alone in quotes that sounds like a lexicon word written as that
        word, its quotation marks as zero-width spaces (so "刷个“飞鸡”" reads 刷个飞机, one clause,
        where quotation marks end one). The result has the same length, so its spans are spans in
        ``text``; :func:`quoted_spans` of ``text`` still tells the quote apart."""
        if not self.may_respell(text):
            return text
        out = list(text)
        for m in _QUOTED_WORD.finditer(text):
            word = self._words.get(_sound(m.group(1)))
            if word is not None:
                out[m.start(1) : m.end(1)] = word
                out[m.start()] = out[m.end() - 1] = ZERO_WIDTH
        for m in _QUOTED_NAME.finditer(text):
            untouched = "".join(out[m.start(1) : m.end(1)]) == m.group(1)  # not respelled by sound above
            if untouched and freq_of(self._freq, m.group(1)) <= 0 and _is_gift_name(text, m):
                n = m.end(1) - m.start(1)
                out[m.start(1) : m.end(1)] = GIFT_WORD + ZERO_WIDTH * (n - len(GIFT_WORD))
                out[m.start()] = out[m.end() - 1] = ZERO_WIDTH
        return "".join(out)


def freq_of(freq: Mapping[str, int], word: str) -> int:
    """How common ``word`` is as one dictionary word (0 for a name nobody's dictionary lists)."""
    return freq.get(convert_phrases(word), 0)


def _is_gift_name(text: str, m: re.Match[str]) -> bool:
    """Whether the quote ``m`` names a gift by where it stands: after a gift verb and its count, or
    before a count (see :data:`_GIFT_BEFORE`), and holding at least two Han characters."""
    if len(_HAN.findall(m.group(1))) < 2 or _GAME_THING.search(m.group(1)):
        return False
    return _GIFT_BEFORE.search(text, 0, m.start()) is not None or _GIFT_AFTER.match(text, m.end()) is not None


def _all_han(word: str) -> bool:
    return 2 <= len(word) <= 4 and all(is_han(c) for c in word)


def _sound(word: str) -> str:
    """Tone-less pinyin of ``word`` syllable by syllable ("" when a character has no reading)."""
    syllables = [char_pinyin(c) for c in word]
    return " ".join(syllables) if all(syllables) else ""
