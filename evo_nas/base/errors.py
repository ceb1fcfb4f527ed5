"""One-line configuration errors from pydantic's ``ValidationError``: the key path, the bad value, the allowed values.

A field's ``description`` is the phrase its allowed values read as (``"an int >= 1"``); an error
at that field becomes ``[search] generations = 0 must be an int >= 1``. An unknown key names the
closest valid one (``difflib``); an error a validator raises with its own text keeps that text.
"""
from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


class MissingFile(FileNotFoundError, ValueError):
    """A file that bad input names and that is not there: a ``FileNotFoundError`` that is also the
    ``ValueError`` every other piece of bad input raises, so an API caller catches one type."""


def error_text(error: BaseException, limit: int = 200) -> str:
    """``Type: first line of the message`` (``Type`` alone when the message is empty), for quoting
    a library's error inside one line of our own."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:limit]}" if lines else type(error).__name__


def unknown_key(where: str, key: str, allowed, context: str = "") -> ValueError:
    """``<where> unknown key 'k'<context> (did you mean 'x'?)``, else the list of allowed keys."""
    allowed = sorted(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(allowed)}"
    return ValueError(f"{where} unknown key {key!r}{context} ({hint})")


def _models(annotation) -> list[type[BaseModel]]:
    """The pydantic models an annotation such as ``Section | None`` may hold."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _models(a)]
    return []


def _walk(model: type[BaseModel], loc: tuple) -> tuple[list[str], type[BaseModel], Any]:
    """The field names ``loc`` passes through, the model that holds the last one, and that field's info."""
    path: list[str] = []
    field = None
    for part in loc:
        if field is not None:
            inner = _models(field.annotation)
            if not inner:
                break
            model = inner[0]
        if not isinstance(part, str) or part not in model.model_fields:
            if isinstance(part, str):  # a key the model does not declare
                path.append(part)
            break
        path.append(part)
        field = model.model_fields[part]
    return path, model, field


def _value(data: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def shown(value: Any) -> str:
    """A value as the configuration file spells it where that differs from Python (``true``, ``false``)."""
    return ("true" if value else "false") if isinstance(value, bool) else repr(value)


def where_of(path: list[str], section: str | None) -> tuple[str, str]:
    """``("[search]", "generations")`` for ``["search", "generations"]`` and ``("[search.aging]", "sample")``
    for a nested table's key; a top-level key has no section."""
    parts = ([section] if section is not None else []) + list(path)
    if len(parts) <= 1:
        return "", ".".join(parts)
    return f"[{'.'.join(parts[:-1])}]", parts[-1]


def one_line(error: ValidationError, model: type[BaseModel], data: Any, section: str | None = None) -> ValueError:
    """The first error of ``error`` (validating ``data`` against ``model``) as one ``ValueError`` line.

    ``section``: the section ``model`` stands for (None: ``model`` is the whole configuration). An
    unknown key comes first: a misspelled key (``[serch]``) is often why another is missing."""
    errors = error.errors(include_url=False)
    e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    path, holder, field = _walk(model, tuple(e["loc"]))
    where, key = where_of(path, section)
    if e["type"] == "extra_forbidden":
        if section is None and len(path) == 1:
            close = difflib.get_close_matches(key, list(model.model_fields), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(model.model_fields)}"
            return ValueError(f"unknown configuration key {key!r} ({hint})")
        inner = ".".join(([section] if section else []) + path[:-1])
        return unknown_key(f"[{inner}]", path[-1], holder.model_fields)
    if not e["loc"] and e["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return ValueError(f"[{section or 'configuration'}] must be a table, got {shown(data)}")
    value = _value(data, path)
    if field is not None and _models(field.annotation) and e["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return ValueError(f"[{'.'.join(([section] if section else []) + path)}] must be a table, got {shown(value)}")
    if field is not None and field.description and key:
        return ValueError(f"{where + ' ' if where else ''}{key} = {shown(value)} must be {field.description}")
    if e["type"] == "value_error":
        return ValueError(str(e["ctx"]["error"]))
    if e["type"] == "missing":
        return ValueError(f"{where + ' ' if where else ''}{key} is required")
    msg = e["msg"][0].lower() + e["msg"][1:]
    return ValueError(f"{where + ' ' if where else ''}{key} = {shown(value)}: {msg}")


def validate(model: type[BaseModel], data: Any, section: str | None = None, context: dict | None = None) -> BaseModel:
    """``model.model_validate(data, context=context)``; ``ValueError`` of one line instead of a ``ValidationError``."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as e:
        raise one_line(e, model, data, section) from None
