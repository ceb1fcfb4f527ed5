"""Where commands and experiment scripts write: by default a folder under ``runs/`` (which git
ignores), never a committed file unless the user says ``--overwrite``.

``default_out(name)`` is ``runs/<name>``. ``check_out(path, overwrite)`` refuses, with one line
naming the path and the flag, a path that holds files git tracks (committed reference results
such as ``experiments/compare_ofa/``): a rerun then writes beside them, and replacing them is an
explicit act. The test is "does git track a file at or under this path", not "is it
non-empty", so that a search or comparison still resumes into its own untracked folder and a
new folder under ``experiments/`` can be written once without a flag.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

RUNS = Path("runs")
OVERWRITE = "--overwrite"


def default_out(name: str) -> Path:
    """``runs/<name>``: the default output folder of a command or script (relative to the current folder)."""
    return RUNS / name


def tracked_files(path: str | Path) -> list[str]:
    """Files git tracks at or under ``path`` (a file or a folder, existing or not), as git names
    them relative to the repository's root; ``[]`` outside a git work tree or when git is not installed."""
    path = Path(path).absolute()
    probe = path
    while not probe.is_dir():
        probe = probe.parent
    try:
        done = subprocess.run(["git", "-C", str(probe), "ls-files", "-z", "--full-name", "--", str(path)],
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:  # not in a work tree, or the path lies outside it
        return []
    return [f for f in done.stdout.decode(errors="replace").split("\0") if f]


def check_out(path: str | Path, overwrite: bool = False, *, option: str = "--out", default: str | Path | None = None,
              flag: str | None = OVERWRITE) -> Path:
    """``path`` as a ``Path`` if writing there destroys no committed file, or ``overwrite`` is set.

    Raises ``FileExistsError`` (one line: the option, the path, how many tracked files, one of
    them, where to write instead and ``flag``) when git tracks a file at or under ``path``.
    ``default`` names the safe default in the message; ``flag=None`` for a command that offers
    no way to replace committed files.
    """
    path = Path(path)
    if overwrite:
        return path
    tracked = tracked_files(path)
    if tracked:
        where = f"write elsewhere (default {default})" if default is not None else "write elsewhere"
        how = f", or pass {flag} to replace {'it' if len(tracked) == 1 else 'them'}" if flag else ""
        tracked.sort(key=lambda f: Path(f).name.startswith("."))  # name a result, not a .gitignore
        if len(tracked) == 1 and Path(tracked[0]).name == path.name and not path.is_dir():
            what = "is a file committed to git"
        else:
            what = f"holds {len(tracked)} file{'s' if len(tracked) > 1 else ''} committed to git (e.g. {tracked[0]})"
        raise FileExistsError(f"{option} {path} {what}; {where}{how}")
    return path


def add_out_arguments(parser, default: str | Path, what: str = "output folder", *, option: str = "--out") -> None:
    """An experiment script's ``--out`` (default ``default``, under ``runs/``) and ``--overwrite``."""
    parser.add_argument(option, default=str(default),
                        help=f"{what} (default {default}); refused if git tracks files there unless {OVERWRITE}")
    add_overwrite_argument(parser)


def add_overwrite_argument(parser) -> None:
    """A script's ``--overwrite``: write over files committed to git."""
    parser.add_argument(OVERWRITE, action="store_true",
                        help="write over files committed to git (regenerate a committed reference result on purpose)")


def out_or_exit(parser, path: str | Path | None, overwrite: bool = False, *, option: str = "--out",
                default: str | Path | None = None) -> Path | None:
    """``check_out`` for a script: its refusal is one line, ``PROG: error: ...``, and exit status 2."""
    if path is None:
        return None
    if default is None and option.startswith("--"):
        default = parser.get_default(option[2:].replace("-", "_"))
    try:
        return check_out(path, overwrite, option=option, default=default)
    except FileExistsError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
