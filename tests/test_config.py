from pathlib import Path

import pytest

from moderation.config import ConfigError, PipelineConfig, load_pipeline


def test_presets_load() -> None:
    assert load_pipeline("default").name == "default"
    assert load_pipeline("fast_en").asr.model == "whisper-tiny-en"


def test_unknown_key_is_error_with_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nsampling:\n  fps: 1\n  fpz: 2\n")
    with pytest.raises(ConfigError, match=r"sampling\.fpz \(line 4\).*Extra inputs"):
        load_pipeline(str(p))


def test_bad_value_names_key(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("vision:\n  nsfw_min_score: 3\n")
    with pytest.raises(ConfigError, match=r"vision\.nsfw_min_score \(line 2\)"):
        load_pipeline(str(p))


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("live:\n  chat_source: 'https://chat/{nmae}.jsonl'\n", r"live\.chat_source \(line 2\).*nmae.*\{stream\}"),
        ("live:\n  hook_source: 'rtmp://o/{stream}'\n", r"live\.hook_source \(line 2\).*stream.*\{app\}, \{name\}"),
        ("live:\n  chat_source: 'https://chat/{'\n", r"live\.chat_source \(line 2\).*Single '\{'"),
    ],
)
def test_url_templates_are_checked_when_the_config_loads(tmp_path: Path, body: str, where: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(body)
    with pytest.raises(ConfigError, match=where):
        load_pipeline(str(p))
    ok = PipelineConfig.model_validate(
        {"live": {"chat_source": "https://chat/{app}/{name}-{stream}.jsonl", "hook_source": "rtmp://o/{app}/{name}"}}
    )
    assert ok.live.chat_source and ok.live.hook_source


def test_not_yaml_and_not_mapping(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pipeline(str(p))
    p.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_pipeline(str(p))


def test_missing_pipeline() -> None:
    with pytest.raises(ConfigError, match="pipeline not found"):
        load_pipeline("no-such-preset")


def test_defaults_live_in_config() -> None:
    cfg = PipelineConfig()
    assert cfg.sampling.fps == 1.0 and set(cfg.policy.categories) >= {"gambling", "vulgar"}


@pytest.mark.parametrize("name", ["default", "strict", "audio_only", "video_only", "fast_en"])
def test_every_preset_loads(name: str) -> None:
    assert load_pipeline(name).name == name


def test_strict_is_denser_and_lower_than_default() -> None:
    d, s = load_pipeline("default"), load_pipeline("strict")
    assert s.sampling.fps > d.sampling.fps
    for c in ("vulgar", "gambling", "tipping_inducement"):
        assert s.policy.categories[c].threshold < d.policy.categories[c].threshold
    # merged onto the defaults: the signal table is kept
    assert s.policy.categories["gambling"].signals == d.policy.categories["gambling"].signals


def test_audio_and_video_only_presets() -> None:
    a, v = load_pipeline("audio_only"), load_pipeline("video_only")
    assert not (a.vision.enabled or a.ocr.enabled or a.qr.enabled or a.synthetic.enabled) and a.asr.enabled
    assert not v.asr.enabled and v.vision.enabled and v.synthetic.enabled


def test_policy_yaml_with_every_rule_type(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(
        "policy:\n"
        "  categories:\n"
        "    gambling:\n"
        "      signals: {qr.url: {weight: 1.0}, 'image.model.*': {weight: 0.5, min_score: 0.6}}\n"
        "      threshold: 0.6\n"
        "      close_threshold: 0.4\n"
        "      window_s: 8\n"
        "      k_of_n: {k: 2, n: 4, bin_s: 2}\n"
        "      merge_gap_s: 6\n"
        "      min_duration_s: 3\n"
        "      severity: {low: 0, high: 0.95}\n"
        "      action: warn\n"
        "      actions: {high: cut}\n"
        "    fraud:\n"
        "      threshold: 0.7\n",
        encoding="utf-8",
    )
    g = load_pipeline(str(p)).policy.categories["gambling"]
    assert g.signals["image.model.*"].weight == 0.5 and g.k_of_n is not None and g.k_of_n.n == 4
    assert (g.keep_threshold, g.actions["high"], g.action) == (0.4, "cut", "warn")
    cfg = load_pipeline(str(p))
    assert cfg.policy.categories["fraud"].threshold == 0.7
    assert cfg.policy.categories["vulgar"].threshold == 0.6  # untouched default kept


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("      k_of_n: {k: 5, n: 3}\n", r"policy\.categories\.gambling\.k_of_n \(line 4\).*must not exceed"),
        ("      threshold: 0.5\n      close_threshold: 0.7\n", r"gambling \(line 4\).*close_threshold"),
        ("      actions: {severe: cut}\n", r"gambling \(line 4\).*unknown severity"),
        ("      actions: {high: ban}\n", r"actions\.high \(line 4\)"),
        ("      signals: {qr.url: {wieght: 1}}\n", r"signals\.qr\.url\.wieght \(line 4\)"),
    ],
)
def test_policy_errors_name_key_and_line(tmp_path: Path, body: str, where: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("policy:\n  categories:\n    gambling:\n" + body, encoding="utf-8")
    with pytest.raises(ConfigError, match=where):
        load_pipeline(str(p))


def test_risk_tiers_validated(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(
        "policy:\n  risk:\n    tiers:\n"
        "      - {name: a, sampling: 1}\n      - {name: b, sampling: 3}\n"
        "      - {name: c, sampling: 2}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"policy\.risk \(line 3\).*ordered by sampling"):
        load_pipeline(str(p))


def test_overrides_are_validated_like_the_yaml() -> None:
    from moderation.config import with_overrides

    cfg = load_pipeline("default")
    assert with_overrides(cfg, "live", {}) is cfg
    got = with_overrides(cfg, "live", {"allow_networks": ("10.0.0.0/8", "fd00::/8"), "allow_files": True})
    assert got.live.allow_networks == ("10.0.0.0/8", "fd00::/8") and got.live.allow_files
    assert got.model_dump(exclude={"live"}) == cfg.model_dump(exclude={"live"})
    with pytest.raises(ConfigError, match=r"^--allow-network: '10\.0\.0\.0/33' is not an IP network"):
        with_overrides(cfg, "live", {"allow_networks": ("10.0.0.0/33",)}, {"allow_networks": "--allow-network"})
    with pytest.raises(ConfigError, match=r"^live\.chat_source: bad template"):
        with_overrides(cfg, "live", {"chat_source": "http://h/{bogus}.jsonl"})
    with pytest.raises(ConfigError, match=r"live\.nope.*Extra inputs"):
        with_overrides(cfg, "live", {"nope": 1})


@pytest.mark.parametrize("preset", sorted(p.stem for p in (Path(__file__).parents[1] / "pipelines").glob("*.yaml")))
def test_every_preset_survives_an_override_round_trip(preset: str) -> None:
    from moderation.config import with_overrides

    cfg = load_pipeline(preset)
    assert with_overrides(cfg, "live", {"allow_files": cfg.live.allow_files}) == cfg


@pytest.mark.parametrize("key", ["allow_networks", "hook_allow_from"])
def test_bad_cidr_in_the_yaml_names_the_key(tmp_path: Path, key: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(f"live:\n  {key}: ['127.0.0.0/8', 'notacidr']\n")
    with pytest.raises(ConfigError, match=rf"live\.{key}.*'notacidr' is not an IP network"):
        load_pipeline(str(p))


def test_stage_configs_have_the_pipeline_defaults() -> None:
    from moderation.config import LiveConfig, SamplingConfig, StreamOpenConfig, source_config
    from moderation.ingest.source import SourceConfig

    bare, live, sampling = SourceConfig(), LiveConfig(), SamplingConfig()
    for name in StreamOpenConfig.model_fields:
        assert getattr(bare, name) == getattr(live, name), name
    for name in SamplingConfig.model_fields:
        assert getattr(bare, name) == getattr(sampling, name), name
    assert bare.analyzeduration_s == live.analyzeduration_s == 4.0
    assert bare.audio_window_s == live.audio_window_s
    # a pipeline's source differs from a bare one only where the pipeline says so
    derived = source_config(PipelineConfig())
    assert derived == SourceConfig(realtime=True, audio_hop_s=live.audio_window_s - live.audio_overlap_s)


def test_one_mapping_from_live_to_the_url_guard(tmp_path: Path) -> None:
    from moderation.config import guard_config, source_config
    from moderation.ingest.urlguard import UrlGuardConfig

    p = tmp_path / "p.yaml"
    live = "  allow_files: true\n  allow_hosts: [origin.internal]\n  allow_networks: ['10.0.0.0/8']\n"
    p.write_text(f"live:\n{live}  analyzeduration_s: 2.5\n")
    cfg = load_pipeline(str(p))
    guard = guard_config(cfg.live)
    assert isinstance(guard, UrlGuardConfig)
    assert (guard.allow_file, guard.allow_hosts, guard.allow_networks) == (True, ("origin.internal",), ("10.0.0.0/8",))
    assert source_config(cfg).guard == guard and source_config(cfg).analyzeduration_s == 2.5
    chat = guard_config(cfg.live, ("http", "https"), 3.0)
    assert chat.allowed_schemes == ("http", "https") and chat.http_timeout_s == 3.0
    assert chat.allow_networks == guard.allow_networks


def test_url_guard_config_refuses_a_bad_cidr() -> None:
    from pydantic import ValidationError

    from moderation.ingest.urlguard import UrlGuardConfig

    with pytest.raises(ValidationError, match=r"'10\.0\.0\.0/33' is not an IP network"):
        UrlGuardConfig(allow_networks=("10.0.0.0/33",))


def test_one_settings_root_holds_pipeline_cluster_and_review() -> None:
    from pydantic import ValidationError

    from moderation.settings import Settings

    s = Settings.model_validate({"pipeline": "strict", "cluster": {"poll_s": 2}, "review": {"port": 8123}})
    assert s.pipeline == load_pipeline("strict") and s.cluster.poll_s == 2 and s.review.port == 8123
    assert s.cluster.in_memory and Settings().pipeline == PipelineConfig()
    bad_keys = [
        ({"cluster": {"pol_s": 1}}, "cluster.pol_s"),
        ({"review": {"prot": 1}}, "review.prot"),
        ({"pipeline": {"live": {"nope": 1}}}, "pipeline.live.nope"),
        ({"extra": {}}, "extra"),
    ]
    for bad, where in bad_keys:
        with pytest.raises(ValidationError, match=where.replace(".", r"\.")):
            Settings.model_validate(bad)


def test_a_section_given_in_part_keeps_its_own_defaults(tmp_path: Path) -> None:
    """Each batching family has defaults of its own: naming one knob must not reset the others to
    the generic family's (the ASR batcher's 200 ms wait silently becoming 20 ms)."""
    base = load_pipeline(None).batching
    p = tmp_path / "p.yaml"
    p.write_text("name: t\nbatching:\n  asr: {max_batch: 4}\n  vision: {gpu_share: 0.5}\n", encoding="utf-8")
    got = load_pipeline(str(p)).batching
    assert got.asr.max_batch == 4
    assert (got.asr.max_wait_ms, got.asr.gpu_share) == (base.asr.max_wait_ms, base.asr.gpu_share)
    assert got.vision.gpu_share == 0.5 and got.vision.max_batch == base.vision.max_batch
    assert got.intent == base.intent  # not named: untouched
    # a value given is still checked
    p.write_text("name: t\nbatching:\n  asr: {max_batch: 0}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"batching\.asr\.max_batch"):
        load_pipeline(str(p))
