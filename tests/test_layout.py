"""The package's size rule: no module of ``evo_nas`` over 300 lines (the guide: keep modules under ~300 lines).

A module that grows past it is split along a seam a reader can name, as issue 28 did.
The import rules (rooms, layers, circles) are tests/test_imports.py.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 300

def lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def over_limit(package: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """``{path relative to the package's parent: lines}`` of every ``.py`` file under ``package`` over ``limit``."""
    return {p.relative_to(package.parent).as_posix(): n for p in sorted(package.rglob("*.py"))
            if (n := lines(p)) > limit}


def test_no_module_is_over_300_lines():
    found = over_limit(ROOT / "evo_nas")
    assert not found, f"modules over {MAX_LINES} lines (split each along a seam): {found}"


def test_the_count_sees_a_long_module(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "long.py").write_text("x = 1\n" * 301)
    (package / "short.py").write_text("x = 1\n" * 300)
    assert over_limit(package) == {"pkg/sub/long.py": 301}
