"""One evidence model: correlated signals are one observation, distinct ones corroborate, verdicts
name their subject, ambiguous hits never open alone, vision per-class thresholds and agreement."""

from __future__ import annotations

from factories import signal

from moderation.config import CategoryPolicy, KOfN, PolicyConfig, VisionConfig
from moderation.messages import ChatMessage, Detection, OcrResult, Subject, TextLine, VisionResult
from moderation.policy.fuse import fuse
from moderation.signals.chat import chat_signals
from moderation.signals.keywords import ocr_signals
from moderation.signals.vision import vision_signals
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


def pol(**kw: object) -> PolicyConfig:
    return PolicyConfig(categories={"gambling": CategoryPolicy(**kw)})


def test_same_caption_on_many_frames_is_one_observation() -> None:
    sigs = [signal(float(t), kind="ocr.keyword", score=0.3, term="下注") for t in range(6)]
    assert fuse("s1", sigs, pol(threshold=0.5)) == []  # was noisy-OR 0.88 over six copies


def test_distinct_terms_and_channels_corroborate() -> None:
    sigs = [
        signal(1.0, kind="ocr.keyword", score=0.3, term="下注"),
        signal(2.0, kind="asr.keyword", score=0.3, term="下注"),
    ]
    (v,) = fuse("s1", sigs, pol(threshold=0.5))
    assert abs(v.score - 0.51) < 1e-9
    sigs = [
        signal(1.0, kind="ocr.keyword", score=0.3, term="下注"),
        signal(2.0, kind="ocr.keyword", score=0.3, term="庄家"),
    ]
    assert len(fuse("s1", sigs, pol(threshold=0.5))) == 1


def test_a_viewer_repeating_is_one_observation_and_is_the_verdicts_subject() -> None:
    rep = [signal(float(t), kind="chat.keyword", score=0.3, term="私信", user="v1") for t in range(5)]
    assert fuse("s1", rep, pol(threshold=0.5)) == []
    two = [signal(1.0, kind="chat.keyword", score=0.6, term="百家乐", user="v1")]
    (v,) = fuse("s1", two, pol(threshold=0.5))
    assert v.subject == Subject("viewer", "v1")
    assert v.to_record()["subject"] == {"kind": "viewer", "id": "v1"}


def test_viewers_are_fused_apart_from_each_other_and_from_the_streamer() -> None:
    weak = [signal(float(i), kind="chat.keyword", score=0.3, term=f"t{i}", user=f"v{i}") for i in range(5)]
    weak.append(signal(2.5, kind="asr.keyword", score=0.3, term="下注"))
    assert fuse("s1", weak, pol(threshold=0.5)) == []  # noisy-OR of all six would be 0.88
    sigs = [
        signal(1.0, kind="chat.keyword", score=0.9, term="百家乐", user="bot"),
        signal(1.5, kind="asr.keyword", score=0.9, term="下注"),
    ]
    got = {
        (v.subject.kind, v.subject.id, len(v.signals), v.action)
        for v in fuse("s1", sigs, pol(action="cut"))
        if v.subject
    }
    # warn / cut act on the stream: a viewer's chat never cuts the streamer off
    assert got == {("viewer", "bot", 1, "review"), ("streamer", "s1", 1, "cut")}


def test_ambiguous_hit_never_opens_alone_but_joins_other_evidence() -> None:
    amb = signal(1.0, score=0.6, term="上分", context="ambiguous")
    assert fuse("s1", [amb], pol(threshold=0.5)) == []
    (v,) = fuse("s1", [amb, signal(2.0, score=0.3, term="下注")], pol(threshold=0.5))
    assert len(v.signals) == 2


def test_k_of_n_counts_frames_that_changed() -> None:
    p = PolicyConfig(categories={"vulgar": CategoryPolicy(threshold=0.5, k_of_n=KOfN(k=2, n=3, bin_s=1.0))})
    still = [signal(float(t), "vulgar", kind="image.nsfw", frame="same") for t in range(4)]
    assert fuse("s1", still, p) == []
    moving = [signal(float(t), "vulgar", kind="image.nsfw", frame=f"f{t}") for t in range(4)]
    assert len(fuse("s1", moving, p)) == 1


def frame(t: float, box_score: float, nsfw: float, label: str = "FEMALE_GENITALIA_EXPOSED") -> VisionResult:
    det = Detection(label, box_score, (10.0, 10.0, 50.0, 50.0))
    return VisionResult("s1", t, (det,), (("open_nsfw", nsfw),))


def test_vision_weak_box_on_a_still_image_without_agreement_is_no_verdict() -> None:
    # A harmless macro photo: one weak box, open_nsfw near 0, the same frame sampled twice.
    sigs = vision_signals([frame(1.0, 0.524, 0.047), frame(2.0, 0.524, 0.047)], VisionConfig())
    assert len({s.frame for s in sigs}) == 1
    assert fuse("s1", sigs, PolicyConfig()) == []


def test_vision_per_class_threshold_and_model_agreement() -> None:
    strong = vision_signals([frame(1.0, 0.8, 0.05)], VisionConfig())
    assert [v.category for v in fuse("s1", strong, PolicyConfig())] == ["vulgar"]
    buttocks = vision_signals([frame(1.0, 0.65, 0.05, "BUTTOCKS_EXPOSED")], VisionConfig())
    assert fuse("s1", buttocks, PolicyConfig()) == []  # its class needs 0.7
    # Weak boxes that open_nsfw agrees with, on frames that changed, corroborate.
    agreed = vision_signals([frame(1.0, 0.55, 0.5), frame(2.0, 0.56, 0.5)], VisionConfig())
    assert [v.category for v in fuse("s1", agreed, PolicyConfig())] == ["vulgar"]


def test_a_box_on_a_frame_open_nsfw_is_sure_is_clean_does_not_count() -> None:
    """A confident box that alone would open a verdict (above its class score) counts for nothing when
    open_nsfw on the same frame is under 0.01, on frames that changed or not; just above it, it counts."""
    wheel = [frame(float(t), 0.83, 0.004 + t / 1000, "BUTTOCKS_EXPOSED") for t in range(4)]
    assert fuse("s1", vision_signals(wheel, VisionConfig()), PolicyConfig()) == []
    nearly = vision_signals([frame(1.0, 0.83, 0.012, "BUTTOCKS_EXPOSED")], VisionConfig())
    assert [v.category for v in fuse("s1", nearly, PolicyConfig())] == ["vulgar"]
    # without open_nsfw's reading (the model off) the box counts as before
    alone = [VisionResult("s1", 1.0, (Detection("BUTTOCKS_EXPOSED", 0.83, (10.0, 10.0, 50.0, 50.0)),), ())]
    assert [v.category for v in fuse("s1", vision_signals(alone, VisionConfig()), PolicyConfig())] == ["vulgar"]


def test_a_term_gives_the_same_verdict_in_chat_and_on_screen() -> None:
    match = KeywordMatcher(Lexicon.load()).match
    text = "百家乐上线，加微信下注"
    chat = fuse("s1", chat_signals([ChatMessage("s1", 1.0, "v1", text)], match), PolicyConfig())
    line = TextLine(text, 0.51, (0.0, 0.0, 100.0, 20.0))
    shown = fuse("s1", ocr_signals([OcrResult("s1", 1.0, (line, line))], match), PolicyConfig())
    assert [(v.category, v.severity, round(v.score, 6)) for v in chat] == [
        (v.category, v.severity, round(v.score, 6)) for v in shown
    ]
    assert chat and chat[0].subject == Subject("viewer", "v1") and shown[0].subject == Subject("streamer", "s1")
