"""Intent probabilities → chat.intent signals: thresholds per category, counter-evidence, errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderation.config import IntentConfig, PipelineConfig
from moderation.infer.intent import ENCODER_BENIGN
from moderation.messages import ChatMessage, LineReading
from moderation.signals.intent import (
    BENIGN_LABEL,
    KIND,
    IntentDedup,
    classifiable,
    intent_signals,
    rules_reading,
    vetoed_lines,
)
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


def _msgs(*texts: str) -> list[ChatMessage]:
    return [ChatMessage("s1", float(i), f"u{i}", t) for i, t in enumerate(texts)]


def test_signal_per_category_over_its_threshold() -> None:
    cfg = IntentConfig(min_score=0.7, thresholds={"vulgar": 0.9}, veto_score=None)
    probs = [
        {"benign": 0.1, "gambling": 0.75, "tipping_inducement": 0.1, "vulgar": 0.05},
        {"benign": 0.15, "gambling": 0.0, "tipping_inducement": 0.0, "vulgar": 0.85},  # below vulgar's 0.9
        {"benign": 0.3, "gambling": 0.0, "tipping_inducement": 0.7, "vulgar": 0.0},  # at the bar counts
    ]
    sigs = intent_signals(_msgs("a", "b", "c"), probs, cfg)
    assert [(s.kind, s.category, s.user, s.t) for s in sigs] == [
        (KIND, "gambling", "u0", 0.0),
        (KIND, "tipping_inducement", "u2", 2.0),
    ]
    assert sigs[0].score == pytest.approx(0.75) and sigs[0].text == "a" and sigs[0].label == "gambling"


def test_confident_benign_is_counter_evidence_not_a_category() -> None:
    cfg = IntentConfig(veto_score=0.8)
    probs = [{"benign": 0.9, "gambling": 0.1}, {"benign": 0.79, "gambling": 0.21}]
    sigs = intent_signals(_msgs("禁止网络赌博", "随便聊聊"), probs, cfg)
    assert [(s.category, s.label, s.user) for s in sigs] == [("intent_benign", BENIGN_LABEL, "u0")]
    assert vetoed_lines(sigs, cfg) == {("s1", "u0", 0.0)}
    assert vetoed_lines(sigs, IntentConfig(veto_category="other")) == set()


def test_the_veto_reads_the_served_mean_or_the_encoder_head_as_configured() -> None:
    probs = [
        # the mean with the n-gram half sees a term, the encoder head reads the sentence as a warning
        {"benign": 0.6, "gambling": 0.4, ENCODER_BENIGN: 0.95},
        # the mean is harmless, the encoder head alone is not sure
        {"benign": 0.95, "gambling": 0.05, ENCODER_BENIGN: 0.85},
    ]
    msgs = _msgs("别信那个赌博链接", "随便聊聊")
    mean = intent_signals(msgs, probs, IntentConfig(min_score=0.7, veto_score=0.9))
    assert [(s.category, s.label, s.user, s.score) for s in mean] == [
        ("intent_benign", BENIGN_LABEL, "u1", pytest.approx(0.95))
    ]
    enc = intent_signals(msgs, probs, IntentConfig(min_score=0.7, veto_score=0.9, veto_reading="encoder"))
    assert [(s.category, s.label, s.user, s.score) for s in enc] == [
        ("intent_benign", BENIGN_LABEL, "u0", pytest.approx(0.95))
    ]
    # a row without the encoder's own reading (another head file) falls back to the mean
    row = [{"benign": 0.92, "gambling": 0.08}]
    enc_only = intent_signals(msgs[:1], row, IntentConfig(veto_score=0.9, veto_reading="encoder"))
    assert [s.label for s in enc_only] == [BENIGN_LABEL]
    with pytest.raises(ValidationError):
        IntentConfig(veto_reading="ngram")  # type: ignore[arg-type]


def test_length_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2 messages but 1 probability rows"):
        intent_signals(_msgs("a", "b"), [{"benign": 1.0}], IntentConfig())


def test_config_rejects_bad_thresholds_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="threshold for 'vulgar'"):
        IntentConfig(thresholds={"vulgar": 1.5})
    with pytest.raises(ValidationError):
        PipelineConfig.model_validate({"intent": {"min_scor": 0.5}})
    cfg = PipelineConfig.model_validate({"intent": {"enabled": True, "thresholds": {"gambling": 0.6}}}).intent
    assert cfg.enabled and cfg.threshold("gambling") == 0.6 and cfg.threshold("vulgar") == cfg.min_score


def test_intent_signals_are_deduplicated_like_keyword_hits() -> None:
    cfg = IntentConfig(min_score=0.7, veto_score=None)
    lines = [
        ChatMessage("s1", 1.0, "bot1", "Join the table now"),
        ChatMessage("s1", 2.0, "bot2", "join  the TABLE now"),  # the same text, another name: one observation
        ChatMessage("s1", 3.0, "bot1", "different words, same user"),  # the same user, same category
        ChatMessage("s1", 4.0, "fan", "another line entirely"),  # independent evidence
        ChatMessage("s1", 15.0, "bot2", "join the table now"),  # after the window: counts again
    ]
    probs = [{"benign": 0.1, "gambling": 0.9}] * len(lines)
    dedup = IntentDedup(10.0)
    kept = dedup.keep(intent_signals(lines, probs, cfg))
    assert [(s.user, s.t) for s in kept] == [("bot1", 1.0), ("fan", 4.0), ("bot2", 15.0)]
    assert dedup.suppressed == 2


def test_a_category_the_rules_read_as_a_mention_gives_no_intent_signal() -> None:
    cfg = IntentConfig(min_score=0.7, veto_score=None)
    probs = [{"benign": 0.0, "gambling": 0.8, "tipping_inducement": 0.0, "vulgar": 0.9}] * 2
    asked: list[str] = []

    def countered(text: str) -> LineReading:
        asked.append(text)
        return LineReading(mentioned=frozenset({"vulgar"}) if text == "warned" else frozenset())

    sigs = intent_signals(_msgs("warned", "plain"), probs, cfg, countered)
    assert [(s.user, s.category) for s in sigs] == [("u0", "gambling"), ("u1", "gambling"), ("u1", "vulgar")]
    assert asked == ["warned", "plain"]  # once per line, not per category
    # a line below every bar is never matched
    intent_signals(
        _msgs("quiet"), [{"benign": 1.0, "gambling": 0.0, "tipping_inducement": 0.0, "vulgar": 0.0}], cfg, countered
    )
    assert asked == ["warned", "plain"]


def test_rules_reading_gives_the_matchers_mentions_and_evidence() -> None:
    read = rules_reading(KeywordMatcher(Lexicon.load()))
    assert read("楼上那个卖黄片的，大家千万别点").mentioned == {"vulgar"}
    assert read("谢谢榜一大哥的嘉年华").mentioned == {"tipping_inducement"}  # inside an allowed phrase
    assert read("百家乐开桌了") == LineReading(frozenset(), frozenset({"gambling"}))  # evidence, not a mention
    assert read("今天天气不错") == LineReading()
    assert read("") == LineReading()


def test_rule_evidence_on_the_line_lowers_the_bar_to_the_corroborated_score() -> None:
    cfg = IntentConfig(min_score=0.85, corroborated_score=0.6, veto_score=None)
    row = {"benign": 0.3, "gambling": 0.65, "tipping_inducement": 0.05, "vulgar": 0.0}
    readings = {
        "named": LineReading(named=frozenset({"gambling"})),
        "other": LineReading(named=frozenset({"vulgar"})),  # evidence of another category corroborates nothing
        "none": LineReading(),
        "both": LineReading(mentioned=frozenset({"gambling"}), named=frozenset({"gambling"})),  # a mention wins
    }
    sigs = intent_signals(_msgs(*readings), [row] * len(readings), cfg, lambda text: readings[text])
    assert [(s.user, s.category, s.score) for s in sigs] == [("u0", "gambling", pytest.approx(0.65))]
    # below the corroborated bar, or with corroboration off, or without the rules' reading: nothing
    low = {**row, "gambling": 0.59}
    assert intent_signals(_msgs("named"), [low], cfg, lambda text: readings[text]) == []
    off = cfg.model_copy(update={"corroborated_score": None})
    assert intent_signals(_msgs("named"), [row], off, lambda text: readings[text]) == []
    assert intent_signals(_msgs("named"), [row], cfg) == []


def test_a_corroborated_line_opens_a_verdict_its_ambiguous_term_alone_does_not() -> None:
    """Through the real matcher and fusion: an ambiguous term never opens a verdict alone, and the
    classifier's middling reading alone is under its bar; the two on one line are."""
    from moderation.config import load_pipeline
    from moderation.policy.fuse import fuse
    from moderation.signals.chat import chat_signals

    matcher = KeywordMatcher(Lexicon.load())
    pipe = load_pipeline("default")
    cfg = pipe.intent.model_copy(update={"enabled": True})
    text = "上分了兄弟们，今晚跟着我一起"
    assert "gambling" in matcher.read_line(text).named
    msgs = [ChatMessage("s1", 0.0, "u1", text)]
    keyword = chat_signals(msgs, matcher)
    assert not fuse("s1", keyword, pipe.policy)  # the rules alone
    row = {"benign": 0.3, "gambling": 0.7, "tipping_inducement": 0.0, "vulgar": 0.0}
    assert not fuse("s1", intent_signals(msgs, [row], cfg), pipe.policy)  # the classifier alone
    both = keyword + intent_signals(msgs, [row], cfg, rules_reading(matcher))
    verdicts = fuse("s1", sorted(both, key=lambda s: s.t), pipe.policy)
    assert [(v.category, v.subject.kind, v.subject.id) for v in verdicts] == [("gambling", "viewer", "u1")]


def test_speech_segments_give_the_streamers_signals_at_the_speech_bar() -> None:
    from moderation.messages import TranscriptSegment
    from moderation.signals.intent import SPEECH_KIND, speech_intent_signals

    segs = [
        TranscriptSegment("s1", 10.0, 14.0, "今天不上榜我就下播了 你们看着办", "zh"),
        TranscriptSegment("s1", 14.0, 18.0, "谢谢大家的陪伴 明天见", "zh"),
    ]
    probs = [
        {"benign": 0.04, "gambling": 0.0, "tipping_inducement": 0.93, "vulgar": 0.03},
        {"benign": 0.98, "gambling": 0.0, "tipping_inducement": 0.02, "vulgar": 0.0},
    ]
    sigs = speech_intent_signals(segs, probs, IntentConfig(speech_min_score=0.9, veto_score=0.7))
    assert [(s.kind, s.category, s.t, s.end, s.user, s.lang) for s in sigs] == [
        (SPEECH_KIND, "tipping_inducement", 10.0, 14.0, None, "zh")
    ]  # no counter-evidence signal for speech: a streamer's hits are never vetoed
    assert speech_intent_signals(segs, probs, IntentConfig(speech_min_score=0.95)) == []
    assert speech_intent_signals(segs, probs, IntentConfig()) == []  # no speech bar: off
    with pytest.raises(ValueError, match="2 segments but 1"):
        speech_intent_signals(segs, probs[:1], IntentConfig(speech_min_score=0.9))


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("主播你好", False),  # a greeting: too little for the encoder
        ("主播好❤️", False),
        ("🐔上门服务📞", True),  # words written with emoji count as words
        ("👙脱了吧 💰给你", True),
        ("hi 主播 666", False),
        ("晚上好呀，今天播什么", True),
    ],
)
def test_classifiable_counts_han_emoji_words_and_numbers(text: str, read: bool) -> None:
    assert classifiable(text, IntentConfig(enabled=True, min_units=6)) is read


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("今天抽卡又非酋了，卡池太坑", True),  # a gacha pull
        ("狼人杀真好玩", True),  # a board game, no hit at all
        ("抽卡游戏也能提现，加我", False),  # real money and a lure
        ("开黑吗？明天带你回本，一天赚五百", False),  # a second sentence names real money
        ("poker night with chat, play money only", True),  # English play money
    ],
)
def test_a_line_about_a_game_for_no_money_mentions_gambling(text: str, mentioned: bool) -> None:
    """So the classifier's gambling reading of game talk yields no signal, while a game named in a
    pitch for real money does not shield it."""
    reading = KeywordMatcher(Lexicon.load()).read_line(text)
    assert ("gambling" in reading.mentioned) is mentioned, reading


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("想听什么歌打在公屏上，我看到就唱，不用点歌礼物", True),
        ("这次PK是打着玩的，输了我就吃一勺芥末，不用为我冲", False),  # an ambiguous PK hit is evidence
        ("姐妹们今天的打榜任务还没完成，投票是免费的，大家冲一下", True),
        ("点左下角那个小灯牌就行，不加也一样可以看，别有压力", True),
        ("不用刷大的，小心心就行", False),  # a smaller gift asked for instead
        ("免费投票在主页，加我微信领", False),  # a lure
        ("跑完十公里了，大家刷一波屏庆祝一下", True),  # only what costs nothing is asked for
        ("新歌打榜第三天，超话签到别忘了", True),
        ("点个关注，明天同一时间见", True),
        ("光点赞有什么用，来点实际的", False),  # free support belittled: the pressure itself
        ("刷屏不如刷个小礼物", False),
    ],
)
def test_a_line_saying_giving_is_unneeded_mentions_tipping(text: str, mentioned: bool) -> None:
    reading = KeywordMatcher(Lexicon.load()).read_line(text)
    assert ("tipping_inducement" in reading.mentioned) is mentioned, reading
