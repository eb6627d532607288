"""Who may call the control API and the publish hooks, and what of it reaches the logs.

The API takes a bearer token; the hooks take a secret in their URL's query (nginx-rtmp cannot send
headers) and fall back to the API token. Serving beyond loopback without a token is refused,
the secret is redacted from access logs, and form fields are read first-value-only so a
publisher's own URL arguments cannot rename the stream its hook is about.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from typing import Any

from fastapi import Request

from moderation.config import ConfigError, LiveConfig

__all__ = ["RedactSecret", "api_token", "check_bind", "first_query", "first_values", "hook_secret"]


def api_token(live: LiveConfig, token: str | None = None) -> str | None:
    """The control API's bearer token: ``token``, else env ``MODERATION_API_TOKEN``, else config."""
    return token or os.environ.get("MODERATION_API_TOKEN") or live.api_token


def hook_secret(live: LiveConfig, token: str | None = None) -> str | None:
    """The publish hooks' secret: env ``MODERATION_HOOK_SECRET``, else config, else the API token."""
    return os.environ.get("MODERATION_HOOK_SECRET") or live.hook_secret or api_token(live, token)


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def check_bind(host: str, live: LiveConfig, token: str | None = None) -> None:
    """Refuse to serve the control API and hooks beyond loopback with no token to protect them."""
    if not _is_loopback(host) and not api_token(live, token):
        raise ConfigError(
            f"--host {host} is not a loopback address: set MODERATION_API_TOKEN (or live.api_token) "
            "so the control API and publish hooks are not open to the network"
        )


class RedactSecret(logging.Filter):
    """Keeps the hook secret out of uvicorn's access log (it travels in the hook URL's query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "secret=" in a for a in record.args):
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def _redact(text: str) -> str:
    return re.sub(r"(secret=)[^&\s]*", r"\1***", text)


def first_values(form: Any) -> dict[str, str]:
    """Each form field's first value. nginx-rtmp writes its own fields (``app``, ``name``,
    ``addr``…) before the publisher's URL arguments, so a publisher pushing to
    ``live/key?name=other`` must not get to rename the stream it is watched (or stopped) as."""
    out: dict[str, str] = {}
    for k, v in form.multi_items():
        out.setdefault(k, str(v))
    return out


def first_query(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    return values[0] if values else None
