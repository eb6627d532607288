import os
import sys
from pathlib import Path

import pytest

# Test helpers (factories, media_factory) are plain modules beside the tests.
sys.path.insert(0, str(Path(__file__).parent))


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
