"""Command-line overrides merged into a loaded pipeline config, validated like the YAML was.

``model_copy(update=...)`` skips validation, so an option such as ``--allow-network notacidr``
would slip past the checks a pipeline file gets and fail later, deep inside a stream or a request.
Everything that changes a loaded config goes through :func:`with_overrides` instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from moderation.config.pipeline import ConfigError, PipelineConfig


def with_overrides(
    cfg: PipelineConfig, section: str, update: Mapping[str, object], options: Mapping[str, str] | None = None
) -> PipelineConfig:
    """``cfg`` with ``update`` merged into its ``section`` (e.g. ``"live"``), validated as a whole.

    ``options`` maps a field name to the command-line option that set it, so the one-line
    :class:`ConfigError` names what the user typed. An empty ``update`` returns ``cfg`` itself.
    """
    if not update:
        return cfg
    data = cfg.model_dump()
    if not isinstance(data.get(section), dict):
        raise ConfigError(f"no config section {section!r}")
    data[section] = {**data[section], **update}
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(str(x) for x in err["loc"])
        field = loc[1] if len(loc) > 1 and loc[0] == section else ""
        where = (options or {}).get(field) or ".".join(loc) or section
        raise ConfigError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None
