"""Where a new run goes when none is named: ``runs/<name>``, numbered when taken, claimed atomically.

A search started without a run directory writes to ``runs/<TOML file name>`` (or
``runs/<problem name>`` for a configuration given as a dict), relative to the working directory;
when that is taken, ``runs/<name>-1``, ``runs/<name>-2``, ... Searches started at the same
moment each claim (create) their own.
"""
from __future__ import annotations

from pathlib import Path

from ..problems import problem_name

RUNS = Path("runs")

# a directory free_run_dir claimed -> the topmost folder it made for it
_CLAIMED: dict[Path, Path] = {}


def free_run_dir(name: str, root: Path = RUNS, *, claim: bool = False) -> Path:
    """``root/name``, or ``root/name-N`` with the smallest N not taken. ``claim``: create it, atomically,
    so that searches started at the same moment get one directory each."""
    n = 0
    while True:
        path = Path(root) / (name if n == 0 else f"{name}-{n}")
        n += 1
        if path.exists():
            continue
        if not claim:
            return path
        top = path  # the topmost folder made here: a search that fails early removes it again
        while not top.parent.exists():
            top = top.parent
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:  # another search took it meanwhile
            continue
        _CLAIMED[path] = top
        return path


def claimed_top(path: Path) -> Path:
    """The topmost folder ``free_run_dir(..., claim=True)`` made for ``path`` (``path`` itself when
    it made no parent, or did not make ``path``); forgotten once asked."""
    return _CLAIMED.pop(Path(path), Path(path))


def release(path: Path) -> None:
    """Remove ``path``, a directory claimed for a search that failed before it began, while it is
    still empty, with the empty parent folders the claim made; a directory holding anything is kept."""
    top, path = claimed_top(path), Path(path)
    while True:
        try:
            path.rmdir()
        except OSError:
            return
        if path == top or path.parent == path:
            return
        path = path.parent


def default_run_dir(config: dict, source: Path | None = None, *, claim: bool = False) -> Path:
    """Where a search writes when no run directory is given: ``runs/<TOML file name>`` for a file
    ``source``, ``runs/<problem name>`` for a dict (relative to the working directory), numbered
    if taken (``claim``: created, see ``free_run_dir``)."""
    return free_run_dir(source.stem if source is not None else str(problem_name(config)), claim=claim)
