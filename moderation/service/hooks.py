"""Origin publish callbacks → which stream to watch (DESIGN.md §1: streams start and stop being
watched from the origin's publish callbacks, nobody registers them by hand).

* nginx-rtmp ``on_publish`` / ``on_publish_done`` POST a form (``call``, ``app``, ``name``,
  ``addr``, ``tcurl``/``tcUrl``, ``clientid``…). ``name`` is the stream key as published.
* Other origins use a JSON hook: ``{"event": "publish" | "publish_done", "stream": ...,
  "url": ..., "app": ..., "name": ..., "profile": ...}`` (``url`` or ``app``+``name``; ``profile``
  optional, a preset name from ``pipelines/``).

The URL to watch comes from ``live.hook_source`` (a template with ``{app}`` and ``{name}``; what
the pool should connect to, often an internal address of the origin) or else the publisher's
``tcUrl`` + ``/`` + ``name``. Either way it goes through the URL guard before it is accepted: a
hook is a request from the network, and a forged one must not make the pool open arbitrary URLs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from moderation.config import LiveConfig, guard_config
from moderation.ingest.urlguard import UrlGuard, UrlRefused
from moderation.pipeline.status import StreamSpec

_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")


class HookError(ValueError):
    """A hook request that cannot be acted on; the message says which field and why."""


@dataclass(frozen=True)
class PublishEvent:
    """A publish start (``publish``) or end (``publish_done``) at the origin."""

    event: Literal["publish", "publish_done"]
    spec: StreamSpec
    addr: str | None = None
    profile: str | None = None  # a pipeline preset asked for explicitly (checked by the service)


def _key(field: str, value: str | None) -> str:
    if not value or not _KEY_RE.match(value):
        raise HookError(f"{field}: {value!r} is not a valid stream key/app (letters, digits, _ . - only)")
    return value


def _checked(url: str, live: LiveConfig) -> str:
    try:
        UrlGuard(guard_config(live)).check(url)
    except UrlRefused as exc:
        raise HookError(str(exc)) from exc
    return url


def stream_id(app: str, name: str) -> str:
    """The pool's id for a stream published as ``app/name``."""
    return name if app == "live" else f"{app}-{name}"


def spec_for(app: str, name: str, tcurl: str | None, live: LiveConfig) -> StreamSpec:
    app, name = _key("app", app), _key("name", name)
    if live.hook_source:
        url = live.hook_source.format(app=app, name=name)
    elif tcurl:
        url = f"{tcurl.rstrip('/')}/{name}"
    else:
        raise HookError("no tcurl in the hook and no live.hook_source configured: cannot tell what to watch")
    return StreamSpec(stream_id(app, name), _checked(url, live), app, name)


def parse_nginx(
    form: Mapping[str, str],
    live: LiveConfig,
    event: Literal["publish", "publish_done"],
    profile: str | None = None,
) -> PublishEvent:
    """An nginx-rtmp ``on_publish``/``on_publish_done`` form post. ``profile``: one given in the
    hook URL's query (the origin's configuration) wins over a ``profile`` form field (the
    publisher's own URL arguments)."""
    app, name = form.get("app"), form.get("name")
    if app is None or name is None:
        raise HookError("nginx hook without 'app' and 'name' fields")
    tcurl = form.get("tcurl") or form.get("tcUrl")
    if event == "publish_done":  # stopping needs no URL; do not refuse a stop over a URL rule
        app, name = _key("app", app), _key("name", name)
        return PublishEvent(event, StreamSpec(stream_id(app, name), "", app, name), form.get("addr"))
    return PublishEvent(event, spec_for(app, name, tcurl, live), form.get("addr"), profile or form.get("profile"))


class PublishHook(BaseModel):
    """The generic JSON publish hook."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["publish", "publish_done"] = Field(description="Start or stop watching.")
    stream: str | None = Field(None, description="Pool stream id (default: derived from app/name or the URL).")
    url: str | None = Field(None, description="URL to watch (default: from app/name via live.hook_source).")
    app: str | None = Field(None, description="Origin application (needed for cut at nginx-rtmp).")
    name: str | None = Field(None, description="Stream key at the origin.")
    profile: str | None = Field(
        None, description="Pipeline preset (pipelines/<profile>.yaml) for this stream; default: the streamer's tier."
    )


def parse_json(data: object, live: LiveConfig) -> PublishEvent:
    """The generic JSON hook body."""
    try:
        hook = PublishHook.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise HookError(f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}") from exc
    stream = _key("stream", hook.stream) if hook.stream else None
    if hook.event == "publish_done":
        sid = stream or (stream_id(_key("app", hook.app), _key("name", hook.name)) if hook.app and hook.name else None)
        if sid is None:
            raise HookError("publish_done needs 'stream' or 'app' and 'name'")
        return PublishEvent("publish_done", StreamSpec(sid, "", hook.app, hook.name))
    if hook.url:
        base = StreamSpec.from_url(_checked(hook.url, live), stream)
        spec = StreamSpec(base.stream_id, base.url, hook.app or base.app, hook.name or base.name)
        return PublishEvent("publish", spec, profile=hook.profile)
    if hook.app and hook.name:
        spec = spec_for(hook.app, hook.name, None, live)
        spec = StreamSpec(stream or spec.stream_id, spec.url, spec.app, spec.name)
        return PublishEvent("publish", spec, profile=hook.profile)
    raise HookError("publish needs 'url', or 'app' and 'name' with live.hook_source configured")
