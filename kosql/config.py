"""Typed configuration files: YAML + ``key=value`` overrides into nested dataclasses.

A config class is a dataclass whose fields are plain values (``int``, ``float``, ``str``, ``bool``,
``Literal[...]``, ``X | None``, ``list[X]``, ``dict[str, X]``) or other config dataclasses. Every
field carries ``metadata={"help": ...}`` and may add ``"min"``, ``"max"`` (inclusive bounds) or
``"choices"``. A field without a default is required.

:func:`load_config` validates everything at load time and raises :class:`~kosql.errors.UserError`
with one sentence naming the file and the dotted field, e.g.
``configs/x.yaml: unknown field 'lora.rnk' (did you mean 'lora.r'?)``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from kosql.errors import UserError

T = TypeVar("T")

_MISSING = object()


def load_config(cls: type[T], path: str | Path | None, overrides: list[str] | None = None) -> T:
    """Read ``path`` (YAML; None = defaults only), apply ``overrides`` and build a validated ``cls``."""
    data: dict[str, Any] = {}
    source = str(path) if path is not None else "config"
    if path is not None:
        data = _read_yaml(Path(path))
    origins: dict[str, str] = {}
    for item in overrides or []:
        key, value = _parse_override(item)
        _set_dotted(data, key, value, source=f"override '{item}'")
        origins[key] = f"override '{item}'"
    return build_config(cls, data, source=source, origins=origins)


def build_config(cls: type[T], data: dict[str, Any], *, source: str = "config",
                 origins: dict[str, str] | None = None) -> T:
    """Build and validate ``cls`` from a nested mapping; errors name ``source`` and the field.

    ``origins`` maps dotted keys that came from somewhere else (an override) to that source.
    """
    if not isinstance(data, dict):
        raise UserError(f"{source}: the top level must be a mapping of field names to values.")
    return typing.cast(T, _build(cls, data, prefix="", source=source, origins=origins or {}))


def dump_config(cfg: Any) -> dict[str, Any]:
    """A plain nested dict (YAML/JSON-safe) of a config dataclass."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: dump_config(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, list | tuple):
        return [dump_config(v) for v in cfg]  # type: ignore[return-value]
    if isinstance(cfg, dict):
        return {str(k): dump_config(v) for k, v in cfg.items()}
    if isinstance(cfg, Path):
        return str(cfg)  # type: ignore[return-value]
    return cfg  # type: ignore[no-any-return]


def config_help(cls: type, prefix: str = "") -> list[tuple[str, str, str]]:
    """``(dotted name, type, help)`` for every leaf field of ``cls`` (for docs and ``--help``)."""
    out: list[tuple[str, str, str]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name = prefix + f.name
        if _is_dataclass_type(tp):
            out.extend(config_help(tp, name + "."))
        else:
            out.append((name, _type_name(tp), str(f.metadata.get("help", ""))))
    return out


def write_yaml(data: dict[str, Any], path: str | Path) -> None:
    """Write ``data`` as YAML (UTF-8, key order kept)."""
    import yaml

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False), encoding="utf-8"
    )


# ---------------------------------------------------------------------------------------------- I/O


def shipped_configs() -> Path:
    """The folder of the configs shipped with kosql as package data (``kosql/configs/``; the
    repository's ``configs/`` links to it)."""
    import importlib.resources

    return Path(str(importlib.resources.files("kosql").joinpath("configs")))


def find_config(path: str | Path) -> Path:
    """``path`` when it exists, else the shipped config it names (``configs/<name>`` ->
    ``kosql/configs/<name>``, so documented paths work outside a checkout); UserError otherwise."""
    p = Path(path).expanduser()
    if p.exists():
        return p
    parts = p.parts
    if not p.is_absolute() and len(parts) > 1 and parts[0] == "configs":
        shipped = shipped_configs().joinpath(*parts[1:])
        if shipped.exists():
            return shipped
    raise UserError(f"{path}: no such config file (the shipped ones are in {shipped_configs()}).")


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    path = find_config(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such config file.") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a config file.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: is not valid YAML{where}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: the top level must be a mapping of field names to values.")
    return data


def _parse_override(item: str) -> tuple[str, Any]:
    import yaml

    if "=" not in item:
        raise UserError(f"override '{item}' must look like key=value (for example lora.r=8).")
    key, _, raw = item.partition("=")
    key = key.strip()
    if not key:
        raise UserError(f"override '{item}' has no field name before '='.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _set_dotted(data: dict[str, Any], key: str, value: Any, *, source: str) -> None:
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise UserError(f"{source}: field '{'.'.join(parts[: i + 1])}' is not a section.")
        node = child
    node[parts[-1]] = value


# ---------------------------------------------------------------------------------------- building


def _build(cls: type, data: dict[str, Any], *, prefix: str, source: str, origins: dict[str, str]) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            where = origins.get(f"{prefix}{key}", source)
            raise UserError(f"{where}: unknown field '{prefix}{key}'{_suggest(cls, prefix, str(key))}.")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        dotted = prefix + name
        tp = hints[name]
        src = origins.get(dotted, source)
        if name in data:
            value = data[name]
            if _is_dataclass_type(tp):
                if value is None:
                    value = {}
                if not isinstance(value, dict):
                    raise UserError(f"{src}: field '{dotted}' must be a section (a mapping), got {value!r}.")
                kwargs[name] = _build(tp, value, prefix=dotted + ".", source=source, origins=origins)
            else:
                kwargs[name] = _check_range(f, _coerce(value, tp, dotted, src), dotted, src)
        elif _is_dataclass_type(tp) and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            kwargs[name] = _build(tp, {}, prefix=dotted + ".", source=source, origins=origins)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise UserError(f"{source}: missing required field '{dotted}'.")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{source}: {exc}") from None


def _suggest(cls: type, prefix: str, key: str) -> str:
    names = _all_dotted(cls, "")
    target = prefix + key
    close = difflib.get_close_matches(target, names, n=1, cutoff=0.6)
    if not close:
        local = [f.name for f in dataclasses.fields(cls)]
        close_local = difflib.get_close_matches(key, local, n=1, cutoff=0.5)
        close = [prefix + close_local[0]] if close_local else []
    return f" (did you mean '{close[0]}'?)" if close else ""


def _all_dotted(cls: type, prefix: str) -> list[str]:
    out: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        out.append(prefix + f.name)
        if _is_dataclass_type(tp):
            out.extend(_all_dotted(tp, prefix + f.name + "."))
    return out


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin is list:
        args = get_args(tp)
        return f"list[{_type_name(args[0]) if args else 'Any'}]"
    if origin is dict:
        return "mapping"
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


_KIND = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _bad(source: str, dotted: str, value: Any, expected: str) -> UserError:
    return UserError(f"{source}: field '{dotted}' must be {expected}, got {value!r}.")


def _coerce(value: Any, tp: Any, dotted: str, source: str) -> Any:
    """``value`` converted to ``tp`` or a UserError naming the field."""
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _coerce_union(value, tp, dotted, source)
    if origin is Literal:
        choices = get_args(tp)
        if value in choices:
            return value
        raise _bad(source, dotted, value, f"one of {', '.join(repr(c) for c in choices)}")
    if origin is list:
        return _coerce_list(value, tp, dotted, source)
    if origin is dict:
        if not isinstance(value, dict):
            raise _bad(source, dotted, value, "a mapping")
        val_tp = get_args(tp)[1] if get_args(tp) else Any
        return {str(k): _coerce(v, val_tp, f"{dotted}.{k}", source) for k, v in value.items()}
    if value is None:
        raise _bad(source, dotted, value, _describe(tp))
    scalar = _SCALARS.get(tp)
    if scalar is not None:
        try:
            return scalar(value)
        except (TypeError, ValueError):
            raise _bad(source, dotted, value, _KIND[tp]) from None
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _bad(source, dotted, value, _describe(tp))


def _coerce_union(value: Any, tp: Any, dotted: str, source: str) -> Any:
    """The first member type of ``tp`` that takes ``value`` (``None``, 'none' and 'null' for an optional)."""
    args = get_args(tp)
    optional = type(None) in args
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "null")):
        if optional:
            return None
        raise _bad(source, dotted, value, _describe(tp))
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _coerce(value, arg, dotted, source)
        except UserError:
            pass
    raise _bad(source, dotted, value, _describe(tp))


def _coerce_list(value: Any, tp: Any, dotted: str, source: str) -> list[Any]:
    """A list of ``tp``'s item type; a comma-separated string (from a CLI override) is split first."""
    (item_tp,) = get_args(tp) or (Any,)
    if isinstance(value, str) and item_tp is not str and "," in value:
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list):
        raise _bad(source, dotted, value, f"a list of {_describe(item_tp)}")
    return [_coerce(v, item_tp, f"{dotted}[{i}]", source) for i, v in enumerate(value)]


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise ValueError


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip().replace("_", ""))
    raise ValueError


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):  # PyYAML reads 2e-4 as a string
        return float(value.strip())
    raise ValueError


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError


# scalar converters: each returns the converted value or raises ValueError
_SCALARS: dict[Any, Callable[[Any], Any]] = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [_describe(a) for a in get_args(tp) if a is not type(None)]
        text = " or ".join(parts)
        return text + (" or null" if type(None) in get_args(tp) else "")
    if origin is Literal:
        return "one of " + ", ".join(repr(c) for c in get_args(tp))
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping"
    return _KIND.get(tp, _type_name(tp))


def _check_range(f: dataclasses.Field[Any], value: Any, dotted: str, source: str) -> Any:
    meta = f.metadata
    if value is None or isinstance(value, bool):
        return value
    lo, hi = meta.get("min"), meta.get("max")
    if isinstance(value, int | float):
        if lo is not None and value < lo:
            raise UserError(f"{source}: field '{dotted}' must be at least {lo}, got {value}.")
        if hi is not None and value > hi:
            raise UserError(f"{source}: field '{dotted}' must be at most {hi}, got {value}.")
    choices = meta.get("choices")
    if choices is not None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item not in choices:
                raise UserError(
                    f"{source}: field '{dotted}' must be one of {', '.join(repr(c) for c in choices)}, got {item!r}."
                )
    return value
