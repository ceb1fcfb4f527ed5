"""evo-nas: platform-aware neural architecture search by evolution, as a Python API.

::

    import evo_nas

    result = evo_nas.search("quickstart", search={"generations": 5})
    print(result)                      # Result(run_dir='runs/quickstart', ..., pareto=..., hypervolume=...)
    result.pareto[0]["key"]            # a genome's canonical string
    evo_nas.load_run(result.run_dir).plot()

``search``, ``resume``, ``load_run`` and ``Result`` are in ``evo_nas.api``; problems are
registered in ``evo_nas.problems.PROBLEMS`` (``register_problem``), space types in
``evo_nas.spaces.space.SPACE_TYPES`` (``register_space_type``), and the shipped spaces are listed by
``space_names()`` and loaded by ``load_space``. ``import evo_nas`` is light: each name is
imported when first used, and nothing here imports torch.
"""
from __future__ import annotations

import importlib


def _version() -> str:
    """The installed distribution's version, else the one in a source checkout's pyproject.toml."""
    from importlib import metadata

    try:
        return metadata.version("evo-nas")
    except metadata.PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"


__version__ = _version()

# public name -> (module, attribute); attribute None: the module itself
_LAZY = {
    "search": ("evo_nas.api", "search"),
    "resume": ("evo_nas.api", "resume"),
    "load_run": ("evo_nas.api", "load_run"),
    "Result": ("evo_nas.api", "Result"),
    "problems": ("evo_nas.problems", None),
    "spaces": ("evo_nas.spaces", None),
    "register_problem": ("evo_nas.problems", "register_problem"),
    "make_problem": ("evo_nas.problems", "make_problem"),
    "Problem": ("evo_nas.problems", "Problem"),
    "Objective": ("evo_nas.problems", "Objective"),
    "load_space": ("evo_nas.spaces.loader", "load_space"),
    "space_names": ("evo_nas.spaces.loader", "space_names"),
    "register_space_type": ("evo_nas.spaces.space", "register_space_type"),
    "Space": ("evo_nas.spaces.space", "Space"),
    "Genome": ("evo_nas.spaces.space", "Genome"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'evo_nas' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
