"""ray_cluster.yaml must be a config Ray's own launcher accepts (its JSON schema)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_cluster_config_passes_ray_schema() -> None:
    from ray.autoscaler._private import util
    config = util.prepare_config(yaml.safe_load((ROOT / "ray_cluster.yaml").read_text()))
    util.validate_config(config)  # raises on any schema violation
    types = config["available_node_types"]
    assert types["gpu_worker"]["resources"]["GPU"] == 1
    assert config["head_node_type"] in types


def test_schema_check_can_fail() -> None:
    from ray.autoscaler._private import util
    config = util.prepare_config(yaml.safe_load((ROOT / "ray_cluster.yaml").read_text()))
    config["available_node_types"]["gpu_worker"]["min_workers"] = "many"
    with pytest.raises(Exception):  # noqa: B017 - jsonschema's ValidationError
        util.validate_config(config)
