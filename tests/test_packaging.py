"""The package list in pyproject.toml is complete, and a wheel carries the space files."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_and_the_genomes_are_packaged():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {"evo_nas"} | {"evo_nas." + p.parent.name for p in (ROOT / "evo_nas").glob("*/__init__.py")}
    listed = set(tool["packages"])
    assert on_disk | {"evo_nas.genomes"} == listed
    assert tool["package-dir"] == {"evo_nas.genomes": "genomes"}
    patterns = tool["package-data"]["evo_nas.genomes"]
    shipped = {p.relative_to(ROOT / "genomes").as_posix() for pat in patterns for p in (ROOT / "genomes").glob(pat)}
    assert shipped == {p.relative_to(ROOT / "genomes").as_posix() for p in (ROOT / "genomes").rglob("*.toml")}
