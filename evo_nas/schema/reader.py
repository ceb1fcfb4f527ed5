"""Reading a configuration: a dict, a TOML file or an example shipped in the package, with overrides merged in.

What ``evo_nas.search`` and ``evo-nas search`` accept as a configuration (``read_config``) and how
the API's keyword overrides change it (``apply_overrides``): named after a top-level key of the
configuration (``seed`` or a section: ``search``, ``objectives``, ``problem``, ...), a table merges
into the section key by key, recursively (``search={"generations": 5}`` changes only
``[search] generations``); any other value replaces the key (``seed=3``). An unknown top-level
key is a ``ValueError`` naming it; keys inside a section are checked when the configuration is
resolved (``evo_nas.schema.config``).
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path

from ..base.errors import MissingFile
from ..spaces.loader import read_toml
from .config import CONFIG_SECTIONS

# the example configurations shipped in the package
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def config_names() -> list[str]:
    """The example configurations shipped in the package, by name (``evo-nas search NAME``)."""
    return sorted(p.stem for p in CONFIGS.glob("*.toml"))


def config_path(config: str | Path) -> Path:
    """The file a config argument names: a path as given, or, for a bare name such as
    ``quickstart`` that is no file here, the example of that name shipped in the package
    (``MissingFile``, a ``FileNotFoundError``, naming the examples when there is none)."""
    path = Path(config)
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    shipped = CONFIGS / f"{path.name}.toml"
    if shipped.is_file():
        return shipped
    raise MissingFile(f"config file not found: {config} (nor an example config of that name: "
                      f"{', '.join(config_names())})")


def read_config(config) -> tuple[dict, Path | None]:
    """A configuration as a new dict, and the TOML file it came from (None for a dict).

    ``config``: a dict, the path of a TOML file (``str`` or ``Path``), or the name of an example
    shipped in the package (``"quickstart"``). ``TypeError`` for anything else."""
    if isinstance(config, dict):
        return copy.deepcopy(config), None
    if isinstance(config, (str, Path)):
        path = config_path(config)
        return read_toml(path, "config"), path
    raise TypeError(f"config must be a dict or the path of a TOML file, got {type(config).__name__}: {config!r}")


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(config: dict, overrides: dict) -> dict:
    """``config`` with ``overrides`` merged in (see the module docstring); ``ValueError`` names an unknown key."""
    for key in overrides:
        if key not in CONFIG_SECTIONS:
            if "." in key:
                section, _, rest = key.partition(".")
                hint = f"; overrides are top-level keys, e.g. {section}={{{rest!r}: ...}}"
            else:
                close = difflib.get_close_matches(key, CONFIG_SECTIONS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown override key {key!r} (expected one of {', '.join(CONFIG_SECTIONS)}){hint}")
    return _merge(config, overrides)
