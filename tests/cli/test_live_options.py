"""``watch`` / ``serve`` options are validated with the config, before any model, Ray or server starts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODERATION_API_TOKEN", raising=False)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["watch", "rtmp://127.0.0.1/live/x", "--allow-network", "notacidr"],
            "--allow-network: 'notacidr' is not an IP",
        ),
        (
            ["watch", "rtmp://127.0.0.1/live/x", "--allow-network", "127.0.0.0/8", "--chat", "http://h/{bogus}.jsonl"],
            "--chat: bad template",
        ),
        (
            ["watch", "rtmp://127.0.0.1/live/x", "--allow-network", "127.0.0.0/8", "--gifts", "http://h/{x}.jsonl"],
            "--gifts: bad template",
        ),
        (["serve", "--allow-network", "10.0.0.0/33"], "--allow-network: '10.0.0.0/33' is not an IP"),
        (["serve", "--host", "0.0.0.0"], "--host 0.0.0.0 is not a loopback address"),
        (["serve", "--checkpoint", "m.sqlite", "--allow-network", "10.0.0.0/8"], "does not reach the stream manager"),
    ],
)
def test_bad_option_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
