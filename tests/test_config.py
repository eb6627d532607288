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
