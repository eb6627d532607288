"""Base of every config model: unknown keys are errors and configs are immutable once loaded."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _onto_field_defaults(cls, data: Any) -> Any:
        """A section given in part keeps the rest of its field's default, not of its class's.

        Some fields default to an instance built with values of its own (each batching family has
        its own ``max_batch`` and ``max_wait_ms``). Plain pydantic would build ``asr: {max_batch: 4}``
        from the class defaults and silently reset the family's other settings; here the values the
        default instance was built with stay unless the file names them. Key by key, one level deep,
        as ``policy.categories`` merges onto its defaults: a key given replaces that key's value.
        """
        if not isinstance(data, dict):
            return data
        out = data
        for name, field in cls.model_fields.items():
            default, given = field.default, data.get(name)
            if isinstance(default, BaseModel) and default.model_fields_set and isinstance(given, dict):
                if out is data:
                    out = dict(data)
                own = default.model_dump(mode="python", include=default.model_fields_set)
                out[name] = {**own, **given}
        return out
