"""Violating message generators: spam shapes × evasion classes, per category, per split.

Each row: ``{"text", "category", "evasion", "split"}``. Evasions are applied as classes to the key
word of a spam template (Traditional, separators, homophones, pinyin, tone marks, run-on pinyin,
leetspeak) or are spam shapes of their own (URLs, contact lures, gifts and emoji, slang, lottery
products, brands, initialisms, English).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import opencc
from pypinyin import Style, lazy_pinyin

_S2T = opencc.OpenCC("s2t")
SEPS = [" ", ".", "*", "-", "_", "|", "·", "/", "~", "\u200b"]

HANDLES = ["zz88661", "ab12345", "qq778899", "vip6688", "kf20230", "bet1688", "a9527x", "lucky888"]
CONTACT = ["加V", "加v", "威信", "+V", "扣扣", "🐧号", "vx", "薇信", "加微", "QQ"]
TLDS = ["com", "net", "cc", "vip"]

# --- key words and frames per category (dev / heldout written apart)
_FRAMES: dict[str, dict[str, list[str]]] = {
    "dev": {
        "gambling": [
            "来玩{k}，稳赚不赔",
            "{k}今晚开局，速来",
            "想玩{k}的扣1",
            "{k}一把翻身，别犹豫",
            "主播带大家玩{k}",
        ],
        "tipping_inducement": [
            "家人们{k}，今晚冲榜一",
            "{k}，差一点就赢PK了",
            "没{k}的都是白嫖",
            "兄弟们{k}，主播下播前请大家吃饭",
        ],
        "vulgar": ["主播{k}", "有没有{k}的，私聊", "{k}，懂的都懂", "今晚十二点{k}"],
    },
    "heldout": {
        "gambling": ["{k}平台注册就送", "今天{k}又赢了三万，跟我来", "{k}包赔，输了算我的"],
        "tipping_inducement": ["{k}支持一下主播", "谁{k}主播就给谁唱歌", "最后十分钟，{k}"],
        "vulgar": ["{k}，加我看更多", "想看{k}的进群", "{k}全程无码"],
    },
}
_KEYS: dict[str, dict[str, list[str]]] = {
    "dev": {
        "gambling": ["百家乐", "时时彩", "六合彩", "博彩", "网赌", "赌球", "老虎机", "炸金花"],
        "tipping_inducement": ["刷礼物", "刷火箭", "多多打赏", "求打赏", "刷一波礼物"],
        "vulgar": ["裸聊", "约炮", "黄色视频", "脱衣舞", "福利视频"],
    },
    "heldout": {
        "gambling": ["真人视讯", "轮盘赌", "骰宝", "赌场", "分分彩"],
        "tipping_inducement": ["送礼物支持", "刷嘉年华", "开守护", "上舰长"],
        "vulgar": ["成人视频", "裸体", "激情视频", "一夜情"],
    },
}
_HOMOPHONES = {
    "dev": {
        "gambling": ["白家乐", "摆家乐", "时时菜", "六和彩", "老胡机"],
        "vulgar": ["约泡", "裸谈"],
        "tipping_inducement": ["刷里物", "刷火见"],
    },
    "heldout": {"gambling": ["石石彩", "百佳乐", "炸金化"], "vulgar": ["约跑"], "tipping_inducement": ["刷礼勿"]},
}


def _sep(k: str, rng: random.Random) -> str:
    s = rng.choice(SEPS)
    return s.join(k)


def _pinyin(k: str, rng: random.Random) -> str:
    syl = lazy_pinyin(k)
    form = rng.choice(["lower", "upper", "title", "spaced"])
    if form == "spaced":
        return " ".join(syl)
    text = "".join(syl)
    return text.upper() if form == "upper" else text.title() if form == "title" else text


def _tones(k: str, rng: random.Random) -> str:
    return rng.choice([" ", "", "-"]).join(lazy_pinyin(k, style=Style.TONE))


_LEET = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5"}


def _leet(word: str, rng: random.Random) -> str:
    idx = [i for i, c in enumerate(word) if c in _LEET]
    chosen = set(rng.sample(idx, k=max(1, len(idx) // 2))) if idx else set()
    return "".join(_LEET[c] if i in chosen else c for i, c in enumerate(word))


def _transformed(split: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    for cat, frames in _FRAMES[split].items():
        for k in _KEYS[split][cat]:
            for frame in frames:
                yield {"text": frame.format(k=k), "category": cat, "evasion": "plain"}
                yield {"text": _S2T.convert(frame.format(k=k)), "category": cat, "evasion": "traditional"}
                yield {"text": frame.format(k=_sep(k, rng)), "category": cat, "evasion": "separators"}
                if rng.random() < 0.5:
                    yield {"text": frame.format(k=_pinyin(k, rng)), "category": cat, "evasion": "pinyin"}
                else:
                    yield {"text": frame.format(k=_tones(k, rng)), "category": cat, "evasion": "tone_pinyin"}
        for h in _HOMOPHONES[split].get(cat, []):
            for frame in frames:
                yield {"text": frame.format(k=h), "category": cat, "evasion": "homophone"}


def _shapes(split: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    dev = split == "dev"
    runon = (
        ["laiwanbaijiale", "zhaowoxiazhu", "wangduzhaowo", "shishicaijihua", "jiawoliaoluoliao"]
        if dev
        else ["yiqiwanbocai", "kuailaixiazhu", "baijialezhaowo"]
    )
    cats = {
        "laiwanbaijiale": "gambling",
        "zhaowoxiazhu": "gambling",
        "wangduzhaowo": "gambling",
        "shishicaijihua": "gambling",
        "jiawoliaoluoliao": "vulgar",
        "yiqiwanbocai": "gambling",
        "kuailaixiazhu": "gambling",
        "baijialezhaowo": "gambling",
    }
    for r in runon:
        for suffix in ["", " 速来", "，私聊", " 666"] if dev else ["", " 加我"]:
            text = ("luoliao " + r if cats[r] == "vulgar" else r) + suffix
            yield {"text": text, "category": cats[r], "evasion": "runon_pinyin"}
    leet_words = (
        [
            ("casino bonus", "gambling"),
            ("online casino", "gambling"),
            ("porn", "vulgar"),
            ("send nudes", "vulgar"),
            ("bocai", "gambling"),
        ]
        if dev
        else [("sports betting", "gambling"), ("pornhub", "vulgar"), ("baijiale", "gambling")]
    )
    for w, cat in leet_words:
        for frame in (
            ["{w} here", "free {w} now", "best {w} link in bio", "{w}!!! dm"]
            if dev
            else ["{w} tonight", "real {w} inside"]
        ):
            for _ in range(2):
                yield {"text": frame.format(w=_leet(w, rng)), "category": cat, "evasion": "leet"}
    inits = (
        [("bjl", "gambling"), ("nmsl", "vulgar"), ("cnm", "vulgar"), ("sb", "vulgar"), ("约p", "vulgar")]
        if dev
        else [("nmb", "vulgar"), ("bjl", "gambling"), ("约p", "vulgar")]
    )
    for w, cat in inits:
        for frame in (
            ["主播{w}", "{w}玩不玩", "你个{w}", "{w}，来不来", "今晚{w}"] if dev else ["楼上{w}", "{w}走起", "谁要{w}"]
        ):
            yield {"text": frame.format(w=w), "category": cat, "evasion": "initialism"}
    hosts = (
        ["hg0088", "777casino", "amzc88", "bet8899", "vns66", "pj6688"] if dev else ["casino365", "bocai168", "dafa888"]
    )
    for h in hosts:
        tld = rng.choice(TLDS)
        for form in ("dot", "spaced", "plain", "cn_dot"):
            url = {
                "dot": f"www点{h}点{tld}",
                "spaced": " ".join(f"www.{h}.{tld}"),
                "plain": f"www.{h}.{tld}",
                "cn_dot": f"www。{h}。{tld}",
            }[form]
            yield {
                "text": f"{rng.choice(['官网', '注册', '入口', '网址'])} {url} "
                f"{rng.choice(['首充加送', '稳赚', '速来', ''])}",
                "category": "gambling",
                "evasion": "url",
            }
    for c in CONTACT:
        for frame in (
            ["{c}：{h} 带你回本", "想看福利{c} {h}", "{c}{h}，私下有优惠", "上分下分{c} {h}"]
            if dev
            else ["客服{c} {h}", "{c}:{h} 名额有限"]
        ):
            h = rng.choice(HANDLES)
            cat = (
                "vulgar"
                if "福利" in frame
                else "gambling"
                if "上分" in frame or "回本" in frame
                else "tipping_inducement"
            )
            yield {"text": frame.format(c=c, h=h), "category": cat, "evasion": "contact"}
    gifts = ["穿云箭", "保时捷", "大啤酒", "小心心", "火箭", "嘉年华", "游艇"] if dev else ["跑车", "私人飞机", "玫瑰"]
    for g in gifts:
        for frame in (
            ["刷个{g}吧家人们", "刷個{g}支持一下", "送两个{g}，主播唱歌", "{g}走一波", "还差三个{g}就赢了"]
            if dev
            else ["砸一波{g}", "来几个{g}冲榜"]
        ):
            yield {"text": frame.format(g=g), "category": "tipping_inducement", "evasion": "gift"}
    for e in ["🚀", "🎁", "🛥", "🍺"] if dev else ["🚗", "🌹"]:
        for frame in ["刷个{e}", "刷{e}{e}{e}", "送一波{e}支持主播"] if dev else ["砸个{e}", "给我刷{e}"]:
            yield {"text": frame.format(e=e), "category": "tipping_inducement", "evasion": "emoji"}
    slang = (
        [
            "输了的找我带你回血上岸",
            "上下分秒到账，微信zz8866",
            "返水百分之三，天天结算",
            "充值返利，首充送彩金",
            "跟着导师倍投，稳稳回血",
            "上分找我，下分秒结",
            "洗码返水最高",
            "彩金天天送，打码量低",
        ]
        if dev
        else ["今天又上岸了，回血靠这个平台", "上下分请私聊，秒到", "跟单计划群，稳赢不输"]
    )
    for s in slang:
        for pre in ["", "兄弟们，", "老铁"] if dev else ["", "家人们"]:
            yield {"text": pre + s, "category": "gambling", "evasion": "slang"}
    lottery = (
        ["极速赛车", "加拿大28", "幸运飞艇", "分分彩", "北京赛车", "极速快三"]
        if dev
        else ["幸运28", "澳门彩", "快乐十分"]
    )
    for lot in lottery:
        for frame in (
            ["{l}计划群，准确率九成", "{l}开奖了，跟我下注", "玩{l}的来", "{l}倍投包中"]
            if dev
            else ["{l}带单", "{l}稳定盈利"]
        ):
            yield {"text": frame.format(l=lot), "category": "gambling", "evasion": "lottery"}
    brands = ["bet365", "hg0088", "1xbet", "188bet"] if dev else ["dafabet", "w88"]
    for b in brands:
        for frame in (
            ["{b}注册送彩金", "上{b}看球下注", "{b}官方入口"] if dev else ["{b} 新用户首充翻倍", "在{b}玩真人"]
        ):
            yield {"text": frame.format(b=b), "category": "gambling", "evasion": "brand"}
    english = (
        [
            "best online casino, deposit bonus 200%",
            "send me gifts and i will dance",
            "top the leaderboard tonight, send gifts!",
            "free porn link in bio",
            "sports betting tips, dm me",
            "place your bets now",
            "send nudes",
            "smash that gift button",
        ]
        if dev
        else ["crypto casino with free spins", "send me a gift to unlock the next song", "horny? check my bio"]
    )
    cats_en = {
        "casino": "gambling",
        "bet": "gambling",
        "gift": "tipping_inducement",
        "leaderboard": "tipping_inducement",
        "porn": "vulgar",
        "nudes": "vulgar",
        "horny": "vulgar",
    }
    for s in english:
        cat = next(v for k, v in cats_en.items() if k in s)
        for form in ("plain", "upper", "nospace"):
            text = s.upper() if form == "upper" else s.replace(" ", "") if form == "nospace" else s
            yield {"text": text, "category": cat, "evasion": "english" if form != "nospace" else "ocr_nospace"}


def violating(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for split in ("dev", "heldout"):
        for row in [*_transformed(split, rng), *_shapes(split, rng)]:
            if row["text"] not in seen:
                seen.add(row["text"])
                out.append({**row, "split": split})
    return out
