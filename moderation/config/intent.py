"""Chat intent classifier settings (``intent:`` in a pipeline file).

The classifier (:mod:`moderation.infer.intent`) gives every chat line class probabilities; these
settings turn them into ``chat.intent`` signals (:mod:`moderation.signals.intent`). Thresholds are
per category because the classes are not equally separable: ``benchmarks/text_quality.py --intent``
reports recall and benign false positives per class, so a deployment can move one category's bar
without touching the others. The default bars were picked by cross-validation over the hand-written
training sets (``scripts/train_intent.py --validate``), one fold per set, so a fold's writer is
never seen in training (folds by line flattered the n-gram half, which learns a writer's words: at
its bar there the held-out sets saw twice the benign verdicts). The sets' benign lines are hard near
misses (news, platform notices, counter-speech quoting spam, thanks to gifters, ranked-game and
live-shop talk). The probabilities are the mean of the encoder head and the character n-gram head
(:mod:`moderation.infer.char_ngrams`): out of fold over the nine training sets, 0.85 flags 0.8 % of
the benign lines while catching 56 % of gambling, 52 % of tipping-inducement and 49 % of vulgar
lines, most of which name no lexicon term (the previous n-gram head, trained by gradient descent to
a fixed step count rather than to its optimum, gave 42 / 44 / 48 % at 0.8 and 1.6 %). The veto reads
the served mean's P(benign) by default (``veto_reading``). Its bar was set on the lines that matter
to it, those the keyword rules put in a verdict, out of fold by set (``scripts/train_intent.py
--validate``, which prints this table): of 102 benign lines in a rule verdict and 1,059 violating
lines the rules caught, P(benign) ≥ 0.7 of the mean vetoes 49 and loses 6 (0.6: 58 and 16; 0.75: 40
and 6); the encoder head alone at 0.7 vetoes 44 and loses 22, and at its former bar 0.98 vetoes 12
and loses none. The n-gram half learned a lexicon term's n-grams as violating, so the mean rarely
reaches a high bar on a line with a keyword hit; at 0.7 it speaks where the whole line reads as an
opinion, a complaint or a memory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from moderation.config._base import _Strict


class IntentConfig(_Strict):
    """When a classifier probability becomes evidence, and when it speaks against the rules."""

    enabled: bool = Field(
        True,
        description="Run the classifier on chat (about 0.5-1 ms of one core per line, batched; "
        "benchmarks/results/text_quality_intent.md). On by default: on the four held-out hand-written sets, with "
        "its veto, it raised recall in every category by 20-38 points over the rules alone and lowered the benign "
        "lines in a verdict on dense feeds (4.7 -> 1.3 %, 3.2 -> 1.2 %, 1.6 -> 0.9 %, 1.0 -> 0.7 %).",
    )
    min_score: float = Field(
        0.85,
        gt=0,
        le=1,
        description="P(category) at or above which a line yields a chat.intent signal for that category.",
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per-category overrides of min_score, e.g. {vulgar: 0.8}."
    )
    corroborated_score: float | None = Field(
        0.7,
        gt=0,
        le=1,
        description="P(category) at or above which a line yields a chat.intent signal when the keyword rules "
        "found evidence of that same category in it (a hit that counts, often an ambiguous term that opens "
        "no verdict alone); None: every line needs min_score. Two readers that fail differently agreeing on "
        "one line is stronger evidence than either alone. Chosen out of fold by set (scripts/train_intent.py "
        "--validate prints the table: each line as the default pipeline decides it): over 13,610 hand-written "
        "lines, 0.7 caught 73.1 / 67.2 / 64.1 % of gambling / tipping / vulgar against 69.6 / 65.8 / 62.5 % "
        "without it, with 1.15 % of benign lines in a verdict against 1.07 % (0.6: 75.0 / 68.1 / 64.7 % at "
        "1.23 %; lowering min_score to 0.8 instead: 73.9 / 71.0 / 68.3 % at 1.25 %).",
    )
    speech_min_score: float | None = Field(
        None,
        gt=0,
        le=1,
        description="P(category) at or above which a transcript segment of the streamer's speech yields an "
        "asr.intent signal (corroborated_score where the rules found evidence of that category in it); None: the "
        "classifier does not read speech. Speech has no veto.",
    )
    veto_score: float | None = Field(
        0.7,
        gt=0,
        le=1,
        description="P(benign) (read as veto_reading says) at or above which a line vetoes its own keyword hits "
        "(counter-speech, opinions and memories a clause rule missed) and yields a counter-evidence signal in "
        "veto_category (None: never). Files drop the hits before fusion; live, a line's keyword hits wait for "
        "its classification (one batch round trip). The default bar was set out of fold on the lines the rules "
        "put in a verdict (see above); its effect on the benchmark sets is in "
        "benchmarks/results/text_quality_intent.md.",
    )
    veto_reading: Literal["mean", "encoder"] = Field(
        "mean",
        description="Which P(benign) the veto reads: 'mean', the served probability (encoder head and n-gram "
        "head averaged), or 'encoder', the encoder head alone (it vetoed twice the caught violations at the "
        "same bar, out of fold).",
    )
    veto_categories: tuple[str, ...] = Field(
        ("gambling", "tipping_inducement", "vulgar"),
        description="Categories whose keyword hits a veto may drop: those the classifier was trained to read. "
        "A hit of any other category (a viewer saying 我才13岁 is a minors hit; the head calls the line harmless "
        "because it knows no such class) is never held for the classifier nor vetoed.",
    )
    veto_category: str = Field(
        "intent_benign",
        min_length=1,
        description="Category of counter-evidence signals (listed in policy.non_verdict_categories: they never "
        "become verdicts).",
    )
    batch_size: int = Field(64, ge=1, le=4096, description="Most lines embedded in one encoder call.")
    min_units: int = Field(
        6,
        ge=1,
        le=64,
        description="Lines with fewer content units (a Han character, a pictographic emoji, a latin word or a "
        "number each) are not "
        "classified: no signal, no veto, their keyword hits count at once. A greeting of three or four "
        "characters carries too little for the encoder, and the head scored '主播你好' / '姐姐好' / 'hi主播' "
        "vulgar at 0.97-0.99; the rules still read short lines.",
    )

    @model_validator(mode="after")
    def _thresholds_ok(self) -> IntentConfig:
        for cat, thr in self.thresholds.items():
            if not 0.0 < thr <= 1.0:
                raise ValueError(f"intent threshold for {cat!r} must be in (0, 1], got {thr}")
        return self

    def threshold(self, category: str) -> float:
        """The probability a line needs to count as evidence for ``category``."""
        return self.thresholds.get(category, self.min_score)
