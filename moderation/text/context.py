"""How the clause around a hit frames it: evidence, a mention, or a name for a thing.

A platform-rules announcement ("不得组织赌博"), a news report ("警方破获网络赌博案"), a warning
("远离网赌") and a settings label ("打赏记录") contain the same words as spam but are not spam. The
rules work on clauses (text between clause punctuation), not on fixed phrases, so an inserted word
does not defeat them:

* **frame** cues (不得, 严禁, 打击, 查处, 破获, 专项行动, "crackdown", "banned" ...) anywhere in the
  sentence mark every hit in it ``counter``;
* **negation** cues (拒绝, 远离, 不要, "never" ...) before the hit (or running into it: 别玩 + 玩菠菜),
  with no *breaker* (错过, 犹豫 ...) between them, mark it ``counter`` ("不要错过百家乐" stays evidence);
  so do **post-negation** cues after it in its sentence (the topic first, the warning after:
  "返利的私信千万别回");
* a **nominal suffix** right after the term (打赏 + 记录 / 服务 / 额度) marks it ``nominal``, and so
  does a **describer** right after a tipping hit (要礼物 + 的主播 / 的家族 / 的套路: a third party's
  doing, told by a viewer);
* a **lure** anywhere in the text (a contact handle, 加微信, a link) overrides both: spam dressed up
  as a warning still carries its call to action. A lure that is itself negated ("别加他微信",
  "don't click the link") is a warning, not a call to action;
* **reported speech** with a warning after it (有人 / 刚才那个人 ... 说 / 私信 / 发 ... then 举报 / 拉黑 /
  骗子 / 别信; "someone DMed me ..., reported") quotes a lure to warn others: hits and lures between
  the reporter and the warning are a mention. A lure after the warning still counts ("有人说我是骗子，
  加我微信" is spam), so the frame cannot be used to launder a call to action.

The cue lists are data (``models/lexicons/context.yaml``), normalised like the text they are
matched against.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from moderation.text.clauses import SENTENCE_RE, clause_bounds
from moderation.text.cues import Lures, alt, en_regex, reported_en_regex, reported_regex
from moderation.text.lexicon import ContextFileModel

PLAIN, COUNTER, NOMINAL, AMBIGUOUS = "plain", "counter", "nominal", "ambiguous"
#: The category whose hits a ``describers`` word after them makes nominal, and a ``refusals`` word
#: before them a mention: asking for gifts is done to an audience, so "刷礼物的主播" can only describe
#: someone and "不刷礼物也能看" is a viewer declining; "裸聊的主播" is still an offer, and "不下注就没机会"
#: still a pitch.
DESCRIBED = "tipping_inducement"
#: The category whose hits a ``play_games`` word in their sentence makes nominal (a bet in a board
#: game is a move of the game).
PLAYED = "gambling"
#: A vulgar term followed by 服务 names what is sold ("外送茶服务", "陪睡服务"), where a tipping or
#: gambling word before it names a platform feature ("打赏服务", "充值服务"): not nominal there.
_OFFERED = ("vulgar", "服务")
#: What may stand between a refusal and its hit: whom the gift would be for (不 + 给主播 + 刷礼物).
_REFUSAL_GAP = "(?:再|去)?(?:(?:给|帮|为|替)(?:主播|她|他|你们|你|人家)?)?(?:再|去)?"
#: Characters a dismissal cue may stand before its hit (什么 + 代理 + 返水).
_DISMISS_GAP = 4
#: Characters (the givers) a witness verb may stand before the tipping hit it sees: 看到 + 大哥们.
_WITNESS_GAP = 6
#: Sentence particles that turn a subject-less "送个小礼物" into an ask ("送个小礼物吧").
_ASK_PARTICLES = ("吧", "呗", "嘛")
#: A denial right before a frame cue, up to the cue's start: "不是骗局", "绝对没有托", "从来不坑人".
_DENIALS = ("不是", "不算", "不会", "不怕", "没有", "没", "并非", "绝非", "绝不", "从不", "从来不", "绝对不", "根本不")
#: A sum lost, told after a gambling word ("赌球输了十几万", "跟着带单的亏了四十多万"): a story of ruin.
_LOSS_SUM = "(?:输|亏|赔)(?:了|掉了|进去)(?:[0-9一二三四五六七八九十两几百千]+|好几|十几|几十|上百)多?(?:万|千)"
#: The denials and a bare 不 / 非 right before a cue (没 is one already): "不骗人", "保证不举报".
_DENIALS_1 = (*_DENIALS, "不", "非")
#: A line telling the room that giving is unneeded or free ("不用点歌礼物", "不用为我冲", "投票是免费的",
#: "不加也一样可以看，别有压力", "大家别上头"): the streamer's or a fan's reassurance, which reads
#: to the classifier like the pressure it disclaims.
_FREE_SUPPORT = re.compile(
    "(?:不用|不需要|无需|不必|用不着|唔使|唔洗)(?:为我|给我|帮我|大家|你们|再)?"
    "(?:送|刷|冲|打赏|花钱|破费|点歌礼物|礼物|氪)|是免费的|免费(?:的)?(?:投票|票)|投票(?:是)?免费"
    "|(?:别|不要|不用)有(?:压力|负担)|没有压力|不(?:加|送|刷)也(?:一样|可以|能)|(?:别|不要)(?:上头|较真)"
)
#: A line asking the room only for what costs nothing ("大家刷个屏给我加油", "点个关注", "今天的投票
#: 次数别浪费", "超话签到别忘了"): comments, likes, follows, a music chart's free votes. The classifier
#: reads these as gift pressure; a line that belittles free support (光点赞有什么用, 点赞不如…, 来点
#: 实际的) is that pressure, and one naming a paid thing is no such line, so both are left out
#: (:data:`_PAID_INSTEAD`).
_FREE_ENGAGEMENT = re.compile(
    "刷(?:个|一波|一下|波|起)?屏|点(?:个|点)?(?:赞|关注)|(?:评论|弹幕)(?:满|刷起来|走一波|扣起来)"
    "|投票次数|打投|超话|做数据|控评|(?:音乐|新歌|热歌|歌曲|单曲|金曲)榜"
)
_PAID_INSTEAD = re.compile(
    "光|只会|只知道|不如|有什么用|有啥用|没用|实际|实在|别的|真格|礼物|打赏|刷刷|守护|灯牌|粉丝团"
)
#: A claim of legitimacy after a warning word, in its sentence: a spammer answering the warning
#: ("都说是杀猪盘，我们这是正规娱乐城"; "别人家是骗子，我家靠谱"), which no one warning others says.
_REBUTTAL = re.compile(
    "(?:我们|我们家|我家|我这|我这边|咱们|咱家|本平台|本站|我们平台)(?:(?!所谓|假|不|要|做|能|会|该|想)[^\\s,.!?;，。！？；]){0,4}?"
    "(?:可|可是|才|才是|是|绝对|保证)*(?:正规|靠谱|真实|安全|合法|官方|良心|稳定)"
)


class ContextRules:
    """Compiled cue lists; :meth:`classify` decides one hit, :meth:`has_lure` one text."""

    def __init__(self, model: ContextFileModel, norm: Callable[[str], str]) -> None:
        def zh(words: list[str]) -> tuple[str, ...]:
            return tuple(sorted({w for w in (norm(x) for x in words) if w}, key=len, reverse=True))

        self.frames = alt(zh(model.frames))
        self.frame_exceptions = alt(zh(model.frame_exceptions))
        self.plea_frames = frozenset(zh(model.plea_frames))
        self.negations = alt(zh(model.negations))
        self.breakers = alt(zh(model.negation_breakers))
        # a ruin told after the hit (网赌把家败了, 赌球输了二十万) is a story, like a warning after it
        ruin = alt(zh(model.ruin)).pattern
        self.post_negations = re.compile(f"{alt(zh(model.post_negations)).pattern}|{ruin}|{_LOSS_SUM}")
        self.thanks = alt(zh(model.thanks))
        self.thanks_breakers = alt(zh(model.thanks_breakers))
        self.nominal = alt(zh(model.nominal_suffixes))
        self.describers = alt(zh(model.describers))
        self.refusals = re.compile(f"(?<![别不])(?:{alt(zh(model.refusals)).pattern}){_REFUSAL_GAP}$")
        self.refusal_subjects = alt(zh(model.refusal_subjects))
        self.refusal_concessions = alt(zh(model.refusal_concessions))
        self.refusal_breakers = alt(zh(model.refusal_breakers))
        self.gift_verbs = alt(zh(model.gift_verbs))
        subjects, adverbs = alt(zh(model.refusal_subjects)).pattern, alt(zh(model.own_gift_adverbs)).pattern
        self.own_giver = re.compile(f"(?<![给帮为让叫替跟和])(?:{subjects})(?:{adverbs}){{0,2}}$")
        self.own_gift_breakers = alt(zh(model.own_gift_breakers))
        self.own_gift_reasons = alt(zh(model.own_gift_reasons))
        # the habit may be of calling for the gift: 一直在喊刷火箭, 天天催刷礼物
        self.habits = re.compile(f"(?:{alt(zh(model.habits)).pattern})(?:喊|催|叫|逼|让人|叫人|逼人)?$")
        self.third_parties = alt(zh(model.third_parties))
        self.witness = re.compile(
            f"(?<![想望要待让给等])(?:{alt(zh(model.witness_verbs)).pattern})(?:(?!你们|大家|各位).){{0,{_WITNESS_GAP}}}$"
        )
        self.play_games = alt(zh(model.play_games))
        self.real_money = alt(zh(model.real_money))
        self.state_lotteries = alt(zh(model.state_lotteries))
        self.lottery_pitches = alt(zh(model.lottery_pitches))
        self.dismissals = zh(model.dismissals)
        self.dismissal_tails = frozenset(zh(model.dismissal_tails)) | {""}
        self.lures = Lures(zh(model.lures))
        # English cues are written as people type them ("don't"); the view they are matched
        # against is normalised ("don t"), so they are too
        self._frames_en = en_regex([norm(w) for w in model.frames_en])
        self._neg_en = en_regex([norm(w) for w in model.negations_en])
        self._reported = reported_regex(zh(model.reporters), zh(model.report_verbs))
        self._reported_en = reported_en_regex(model.reporters_en, model.report_verbs_en, norm)
        self._warnings = alt(zh(model.report_warnings))
        self._warnings_en = en_regex([norm(w) for w in model.report_warnings_en])
        self._reported_for: tuple[str, tuple[int, int] | None] | None = None

    def has_lure(self, view: str) -> bool:
        """Whether the text carries a call to contact or visit (corroborates and overrides framing).

        A lure quoted inside reported speech that ends in a warning does not count, nor one that a
        negation in its clause turns into a warning ("千万别加他微信", "don't click the link"), nor one
        that a warning after it in its sentence points at ("发邀请码的那些人，小心被抓")."""
        quoted: tuple[int, int] | None = None
        for i, m in enumerate(self.lures.finditer(view)):  # one scan; most texts have no lure
            if i == 0:
                quoted = self.reported_span(view)
            if quoted is not None and quoted[0] <= m.start() and m.end() <= quoted[1]:
                continue
            a, _ = clause_bounds(view, m.start(), m.end())
            if self._negated(view, a, m.start(), m.end()):
                continue
            _, sb = clause_bounds(view, m.start(), m.end(), SENTENCE_RE)
            if not self._warned_after(view[m.end() : sb]):
                return True
        return False

    def reported_span(self, view: str) -> tuple[int, int] | None:
        """``[a, b)`` from a reporter with a speech verb (有人 ... 私信我说, "someone DMed me") to the
        first warning cue after it (举报, 骗子, "reported"), or None when the text reports nothing.

        Every hit of a text asks about the same view, so the last answer is kept."""
        last = self._reported_for  # read once: another thread may swap it (the tuple is replaced whole)
        if last is not None and last[0] == view:
            return last[1]
        span = self._reported_span(view)
        self._reported_for = (view, span)
        return span

    def _reported_span(self, view: str) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for rx, warn in ((self._reported, self._warnings), (self._reported_en, self._warnings_en)):
            if rx is None or warn is None or warn.search(view) is None:  # the cheaper scan first
                continue
            m = rx.search(view)
            if m is None:
                continue
            w = warn.search(view[m.end() :])
            if w is None:
                continue
            span = (m.start(), m.end() + w.start())
            if best is None or span[0] < best[0]:
                best = span
        return best

    def classify(self, view: str, s: int, e: int, *, lure: bool, category: str = "", pattern: bool = False) -> str:
        """``plain``, ``counter`` or ``nominal`` for the hit at view span ``[s, e)`` of ``category``
        (a tipping hit right before a describer, "要礼物的主播", describes a third party); a tipping
        hit found by a ``pattern`` (a plea) is not framed by a ``plea_frames`` cue that it holds."""
        nominal = self.nominal.match(view, e)
        if (nominal is not None and (category, nominal.group()) != _OFFERED) or (
            category == DESCRIBED and self.describers.match(view, e)
        ):
            return NOMINAL
        if lure:
            return PLAIN
        sa, sb = clause_bounds(view, s, e, SENTENCE_RE)
        sentence = view[sa:sb]
        if category == PLAYED and (self._played_for_nothing(sentence) or self._state_lottery(sentence)):
            return NOMINAL
        if self._framed(sentence, plea=(s - sa, e - sa) if pattern and category == DESCRIBED else None):
            return COUNTER
        quoted = self.reported_span(view)
        if quoted is not None and quoted[0] <= s and e <= quoted[1]:
            return COUNTER
        a, b = clause_bounds(view, s, e)
        if self._negated(view, a, s, e) or self._warned_after(view[e:sb]) or self._thanked(view[a:s]):
            return COUNTER
        if category == DESCRIBED and (
            self._refused(view[sa:s], s - a, view[e:b])
            or self._own_gift(view[a:s], view, s, view[e:sb], view[sa:s])
            or self._habit_told(view[sa:s], view[e:sb])
            or self._witnessed(view[a:s], view[e:sb])
        ):
            return COUNTER
        if self._dismissed(view[a:s].strip(), view[e:b].strip()):
            return COUNTER
        return PLAIN

    def _refused(self, before: str, clause: int, after: str) -> bool:
        """Whether a viewer declines the gift the hit names ("我只点赞不刷礼物", "不刷礼物也能看",
        "我决定不给主播刷礼物了"): a refusal stands right before it, or before whom the gift would be
        for (:data:`_REFUSAL_GAP`), not itself negated ("别不舍得刷"); the speaker is its subject (我
        before it in the sentence, ``before`` being the sentence up to the hit and its last ``clause``
        characters the hit's clause) or a concession follows the hit (也, 一样, 没关系); and no breaker
        follows the hit in its clause (``after``). Without a subject or a concession "不刷礼物的请出去",
        "光看不刷礼物的" and "你们再不刷礼物" shame the viewers who do not give: pressure, not a refusal."""
        m = self.refusals.search(before, len(before) - clause)
        if m is None or self.refusal_breakers.search(after) is not None:
            return False
        return self.refusal_subjects.search(before, 0, m.start()) is not None or (
            self.refusal_concessions.search(after) is not None
        )

    def free_support(self, view: str) -> bool:
        """Whether the line says giving is unneeded or free (:data:`_FREE_SUPPORT`), or asks only for
        what costs nothing (:data:`_FREE_ENGAGEMENT`); a lure in it is the caller's to check
        (:meth:`has_lure`), once for this and :meth:`game_for_nothing`."""
        if _FREE_SUPPORT.search(view) is not None:
            return True
        return _FREE_ENGAGEMENT.search(view) is not None and _PAID_INSTEAD.search(view) is None

    def _state_lottery(self, sentence: str) -> bool:
        """Whether the sentence names a state lottery and pitches nothing ("大乐透追加投注一注三块钱";
        not "双色球计划群，跟我包中")."""
        return self.state_lotteries.search(sentence) is not None and self.lottery_pitches.search(sentence) is None

    def game_for_nothing(self, view: str) -> bool:
        """Whether a whole line is about a game played for no money: a sentence of it is
        (:meth:`_played_for_nothing`), and every sentence naming real money is one of those. A lure
        in it is the caller's to check, as for :meth:`free_support`."""
        if self.play_games.search(view) is None:
            return False
        read = [
            (self._played_for_nothing(s), self.real_money.search(s) is not None)
            for s in SENTENCE_RE.split(view)
            if s.strip()
        ]
        return any(played for played, _ in read) and all(played or not money for played, money in read)

    def _played_for_nothing(self, sentence: str) -> bool:
        """Whether the sentence is about a game played for no money ("大富翁里下注买地", "下注三个
        筹码，这个桌游规则挺有意思", "下注游戏币猜对面会不会投"): it names such a game or its play money,
        and no real money outside those words ("桌游也能提现", "欢乐豆换现金" are gambling)."""
        games = [m.span() for m in self.play_games.finditer(sentence)]
        if not games:
            return False
        return not any(not any(a <= m.start() < b for a, b in games) for m in self.real_money.finditer(sentence))

    def _own_gift(self, before: str, view: str, s: int, rest: str, sentence_before: str) -> bool:
        """Whether the speaker tells of a gift of his own ("我就送个小心心", "今天是我第一次刷礼物"):
        the hit starts with a giving verb (刷, 送, 打赏; "要礼物" asks), nothing after it in its
        sentence turns to the others ("我先送一个，大家跟上"), and either the clause names the speaker
        right before it (我 and at most two adverbs, not 给我 or 让我, where 我 is whom the gift is
        for) or, with no subject, the sentence gives the giver's own reason or wish
        (``own_gift_reasons``: "刚发工资，送个小礼物", "送个小心心，祝福一下"; ``sentence_before``
        is the sentence up to the hit) and names no one it turns to, asks nothing (吧, 呗: "送个小礼物
        吧") and does not speak of the givers (送礼物的宝宝)."""
        if self.gift_verbs.match(view, s) is None or self.own_gift_breakers.search(rest) is not None:
            return False
        if self.own_giver.search(before) is not None:
            return True
        return (
            not rest.startswith("的")  # 送礼物的宝宝: the givers, spoken of
            and (self.own_gift_reasons.search(sentence_before) or self.own_gift_reasons.search(rest)) is not None
            and self.own_gift_breakers.search(sentence_before) is None
            and not any(p in rest for p in _ASK_PARTICLES)
        )

    def _habit_told(self, before: str, rest: str) -> bool:
        """Whether a viewer complains of someone else's habit of asking ("主播天天要礼物，看着真累",
        "隔壁一直在喊刷礼物"): a habit word right before the hit, a third party earlier in the
        sentence (``before``: the sentence up to the hit), and nothing after the hit turning to the
        room ("主播一直要礼物，大家快送")."""
        m = self.habits.search(before)
        return (
            m is not None
            and self.third_parties.search(before, 0, m.start()) is not None
            and self.own_gift_breakers.search(rest) is None
        )

    def _witnessed(self, before: str, rest: str) -> bool:
        """Whether a viewer tells of gifts others give ("看到大哥们刷嘉年华只能默默鼓掌"): a witness verb
        ends the clause before the hit but for the givers (``before``: the clause up to the hit), and
        nothing after the hit in its sentence turns to the room (``rest``)."""
        return self.witness.search(before) is not None and self.own_gift_breakers.search(rest) is None

    def _dismissed(self, before: str, after: str) -> bool:
        """Whether the hit's clause is a rhetorical 什么 X ("什么稳赚不赔，骗鬼呢", "啥代理返水的"): it
        opens with a dismissal cue, the hit follows within :data:`_DISMISS_GAP` characters of it, and
        the clause ends right after the hit or after a tail particle. A clause that goes on ("什么
        百家乐都有") is a question or a list of what is offered, not a dismissal."""
        if after not in self.dismissal_tails:
            return False
        return any(before.startswith(cue) and len(before) - len(cue) <= _DISMISS_GAP for cue in self.dismissals)

    def _thanked(self, before: str) -> bool:
        """Whether the clause thanks someone for the gift its hit names ("谢谢送灯牌的姐妹", "感谢大哥
        刷的火箭"): a gift already given is a thank-you, not an ask, unless the clause goes on to ask
        for more after the thanks ("感谢大哥的火箭再来一个")."""
        last = max((m.end() for m in self.thanks.finditer(before)), default=-1)
        return last >= 0 and not self.thanks_breakers.search(before, last)

    def _framed(self, sentence: str, *, plea: tuple[int, int] | None = None) -> bool:
        """Whether a frame cue (Chinese or English) stands in the sentence, not itself denied ("不是
        骗局" and "绝对没有托" are reassurances a spammer gives, not a warning) nor inside a phrase
        where its words mean something else (``frame_exceptions``: 不准 is "not allowed" in a rule
        but "inaccurate" in a tipster's "准不准"; 罚款 in "完不成我要被罚款" and "fined" in "I get
        fined" are the speaker's own penalty, not a regulator's), nor a plea frame inside the span
        ``plea`` of a tipping pattern's hit ("…大家量力而行，多少都是心意": the streamer's own
        disclaimer inside the ask; "主播说送礼物要量力而行" stays a mention), nor one a claim of
        legitimacy answers later in the sentence (:data:`_REBUTTAL`: "都说是杀猪盘，我们这是正规")."""
        inside = [m.span() for m in self.frame_exceptions.finditer(sentence)]

        def excepted(m: re.Match[str]) -> bool:
            if plea is not None and plea[0] <= m.start() and m.end() <= plea[1] and m.group() in self.plea_frames:
                return True
            return (
                any(a <= m.start() < m.end() <= b for a, b in inside) or _REBUTTAL.search(sentence, m.end()) is not None
            )

        if any(
            not sentence.endswith(_DENIALS_1, 0, m.start()) and not excepted(m) for m in self.frames.finditer(sentence)
        ):
            return True
        return self._frames_en is not None and any(not excepted(m) for m in self._frames_en.finditer(sentence))

    def _warned_after(self, rest: str) -> bool:
        """Whether a post-negation cue follows the hit in its sentence (the topic first, the warning
        after, in the same clause or a later one: "楼上发的那个网站，大家别点"), unless a breaker
        right after it makes it an invitation ("千万别错过") or a denial before it turns it round
        ("绝对不是骗局", "不是骗你的"), or it lies inside a phrase where its words mean something else
        (``frame_exceptions``: 别点 warns off a link, 别点歌 tells a freeloader not to request songs)."""
        inside: list[tuple[int, int]] | None = None
        for m in self.post_negations.finditer(rest):
            if rest.endswith(_DENIALS_1, 0, m.start()):
                continue
            if inside is None:
                inside = [x.span() for x in self.frame_exceptions.finditer(rest)]
            if any(a <= m.start() < m.end() <= b for a, b in inside):
                continue
            if not self.breakers.match(rest, m.end()) and not self.breakers.match(rest, m.end() + 1):
                return True
        return False

    def _negated(self, view: str, a: int, s: int, e: int) -> bool:
        """Whether a negation cue in the clause starting at ``a`` comes before ``[s, e)`` with no
        breaker after it ("不要错过" invites)."""
        before = view[a:s]
        # a cue may run into the hit: 别玩 + 玩菠菜 ("别玩菠菜") negates it as 别玩 + 菠菜 would
        found = [m for m in self.negations.finditer(view[a:e]) if m.start() < s - a]
        if found and not self.breakers.search(before, found[-1].end()):
            return True
        found_en = list(self._neg_en.finditer(before)) if self._neg_en is not None else []
        return bool(found_en) and not self.breakers.search(before, found_en[-1].end())
