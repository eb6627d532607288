import os
from pathlib import Path

import pytest

# Test helpers (factories, generated media, fakes, the nginx-rtmp origin) live in tests/helpers, which
# pyproject.toml puts on pytest's pythonpath.

# The test command installs every system package the tests use, so under it (and in CI) a test that
# skips for a missing package is a broken setup, not a pass: MODERATION_NO_SKIP=1 turns skips into failures.
_NO_SKIP = os.environ.get("MODERATION_NO_SKIP") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if _NO_SKIP and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under MODERATION_NO_SKIP=1 (setup should have provided it): {reason}"


# Heavy lanes, marked by what a test starts (see the README's "Tests" section for the fast lane):
#   ray     — a local Ray instance or a ray.cluster_utils.Cluster
#   origin  — a real nginx-rtmp origin and an ffmpeg broadcaster
#   browser — headless Debian chromium through Playwright
_RAY_FILES = {"test_cluster_faults.py", "test_ray_live.py", "test_rescan.py"}
_ORIGIN_FILES = {"test_ray_live.py", "test_live_local_e2e.py", "test_hook_secret_origin.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.parent.name == "cluster" and path.name in _RAY_FILES:
            item.add_marker(pytest.mark.ray)
        if path.parent.name == "e2e_live" or path.name in _ORIGIN_FILES:
            item.add_marker(pytest.mark.origin)
        if "browser" in path.name:
            item.add_marker(pytest.mark.browser)
