"""The README front page and the documentation site: length, relative links, cited paths, config keys.

Cheap checks without mkdocs (``.ci/run`` makes the strict mkdocs build): the README stays a front
page, every relative link of README.md and docs/*.md reaches a file, every page is in mkdocs.yml's
nav, every repository path cited in backquotes exists, and docs/configuration.md names every key
of every configuration model.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
MAX_README_LINES = 260

# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# a path in backquotes that starts at a top-level folder of the repository
CITED = re.compile(r"`((?:evo_nas|experiments|genomes|tests|docs|\.ci)/[^`\s]*)`")
# a module of the package, quoted or not
MODULE = re.compile(r"\bevo_nas/[\w/]+\.py\b")


def _links(path: Path) -> list[str]:
    """Relative link targets of a markdown file, without their #anchor; code blocks skipped."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    out = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue                                   # http:, mailto:, a same-page anchor
        out.append(target.split("#", 1)[0])
    return out


def _cited_paths(text: str) -> list[str]:
    """Repository paths cited in backquotes (patterns: braces, globs, placeholders left out), and
    every ``evo_nas/...py`` path, quoted or not."""
    quoted = [p.rstrip(".,;:") for p in CITED.findall(text) if not re.search(r"[{}*<>]|NN|\.\.\.", p)]
    return quoted + MODULE.findall(text)


def test_readme_is_a_front_page():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_README_LINES, f"README.md has {n} lines (at most {MAX_README_LINES}): move reference text to docs/"


def test_readme_keeps_the_two_setup_commands():
    """The first bash block is what ../shared/tools/fresh-clone-check runs and .ci/run mirrors."""
    block = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S).group(1)
    cmds = [ln for ln in block.splitlines() if re.match(r"^[a-z]", ln)]
    assert cmds == ['pip install -q torch==2.13.0 -e . && evo-nas search quickstart',
                    'pip install -q torch==2.13.0 -e ".[test]" && python -m pytest']
    assert cmds[1].split("&& ", 1)[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_reach_a_file(path):
    missing = [t for t in _links(path) if not (path.parent / t).exists()]
    assert not missing, f"{path.relative_to(ROOT)}: links to missing files: {missing}"


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_cited_paths_exist(path):
    missing = sorted({p for p in _cited_paths(path.read_text(encoding="utf-8")) if not (ROOT / p).exists()})
    assert not missing, f"{path.relative_to(ROOT)} cites paths that do not exist: {missing}"


def test_docs_links_stay_inside_docs():
    """mkdocs serves docs/ only: a relative link from a page to the rest of the repository breaks
    on the site, so pages cite such files in backquotes instead."""
    outside = {(p.name, t) for p in PAGES for t in _links(p)
               if not (p.parent / t).resolve().is_relative_to(DOCS.resolve())}
    assert not outside, f"links from docs/ to files outside it: {sorted(outside)}"


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", nav, flags=re.M))
    assert listed == {p.name for p in PAGES}, f"nav {sorted(listed)} != pages {sorted(p.name for p in PAGES)}"


def test_configuration_page_names_every_key():
    """Every field of every configuration model (sections, strategies' and problems' keys) is
    named on the configuration page, so a new key cannot go undocumented."""
    from evo_nas.accuracy.proxy_config import TrainKeys, ZeroCostKeys
    from evo_nas.algorithms.aging import AgingKeys
    from evo_nas.algorithms.constraints_config import Bound
    from evo_nas.algorithms.nsga2 import NSGA2Keys
    from evo_nas.algorithms.random_search import RandomKeys
    from evo_nas.algorithms.reward import RewardKeys
    from evo_nas.algorithms.rl import RLKeys
    from evo_nas.algorithms.surrogate import SurrogateKeys
    from evo_nas.problems.anb import ANBKeys
    from evo_nas.problems.nb201 import NB201Keys
    from evo_nas.problems.ofa import OFAKeys
    from evo_nas.problems.synthetic import SyntheticKeys
    from evo_nas.schema.config import CONFIG_SECTIONS, SECTIONS

    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    models = [*SECTIONS.values(), NSGA2Keys, AgingKeys, RandomKeys, RLKeys, RewardKeys, SurrogateKeys,
              ANBKeys, NB201Keys, OFAKeys, SyntheticKeys, TrainKeys, ZeroCostKeys, Bound]
    missing = sorted({f"{m.__name__}.{k}" for m in models for k in m.model_fields if f"`{k}`" not in page})
    missing += [f"[{s}]" for s in CONFIG_SECTIONS if s != "seed" and f"`[{s}]`" not in page]
    assert not missing, f"docs/configuration.md does not name: {missing}"


def test_layout_page_names_every_module_of_each_room():
    # studies/ is summarised by topic (its own __init__ lists the studies); every other room's row
    # names each of its modules, so a module added or split off shows up on the page
    rows = re.findall(r"^\| ((?:`evo_nas/\w+/`(?:, )?)+) \|(.*)\|$", (DOCS / "layout.md").read_text(), re.M)
    assert len(rows) >= 11
    for rooms, text in rows:
        folders = re.findall(r"`(evo_nas/\w+)/`", rooms)
        if folders == ["evo_nas/studies"]:
            continue
        on_disk = {p.name for folder in folders for p in (ROOT / folder).glob("*.py")} - {"__init__.py"}
        named = set(re.findall(r"`(\w+\.py)`", text))
        assert on_disk <= named, f"{', '.join(folders)}: docs/layout.md does not name {sorted(on_disk - named)}"
        assert named <= on_disk | {"__init__.py"}, f"docs/layout.md names {sorted(named - on_disk)}, not in {folders}"
