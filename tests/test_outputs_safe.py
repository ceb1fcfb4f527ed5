"""Documented commands do not destroy committed results: they write under ``runs/`` (or a path given),
and a path holding files git tracks is refused unless ``--overwrite`` says so.

The commands run, at tiny budgets, in a copy of the repository's git-tracked files committed to a
fresh git repository in a temporary folder; afterwards ``git status`` must show no tracked file
changed and the outputs must be under ``runs/``.
"""
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from evo_nas.base.outputs import check_out, default_out, tracked_files

from conftest import needs_data

ROOT = Path(__file__).resolve().parents[1]
HAVE_GIT = shutil.which("git") is not None and (ROOT / ".git").exists()
pytestmark = pytest.mark.skipif(not HAVE_GIT, reason="needs git and a git checkout of evo-nas")
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def _changed(repo: Path) -> list[str]:
    """Tracked files modified or deleted, and untracked files git does not ignore."""
    return _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """This checkout's files that git tracks or would track (as they are on disk) committed to a new repository."""
    copy = tmp_path_factory.mktemp("repo") / "evo-nas"
    names = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    _git(copy, "init", "-q")
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "copy")
    assert _changed(copy) == []
    return copy


def _run(repo: Path, *argv: str, expect: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(repo), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, *argv], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == expect, f"{argv}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _tiny(repo: Path, source: Path, name: str, edit) -> Path:
    """``source`` (a TOML config) with ``edit`` applied, written as runs/_configs/NAME (ignored by git)."""
    text = source.read_text()
    for old, new in edit:
        assert old in text, f"{old!r} not in {source}"
        text = text.replace(old, new)
    path = repo / "runs" / "_configs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    tomllib.loads(text)
    return path.relative_to(repo)


def test_check_out_refuses_tracked_paths_only(repo, monkeypatch):
    monkeypatch.chdir(repo)  # relative paths, as a user gives them
    assert default_out("bench_ofa") == Path("runs/bench_ofa")
    assert tracked_files("experiments/bench_ofa_results.txt") == ["experiments/bench_ofa_results.txt"]
    assert "experiments/compare_anb/table.md" in tracked_files("experiments/compare_anb")
    assert tracked_files("runs/anything") == [] and tracked_files("experiments/new_result") == []
    assert tracked_files(repo.parent / "not-a-repo") == []
    with pytest.raises(FileExistsError) as e:
        check_out("experiments/compare_anb", default="runs/compare_anb")
    assert str(e.value).startswith("--out experiments/compare_anb holds ") and "\n" not in str(e.value)
    assert "(default runs/compare_anb), or pass --overwrite to replace them" in str(e.value)
    with pytest.raises(FileExistsError, match="is a file committed to git; write elsewhere, or pass --overwrite "
                                              "to replace it"):
        check_out("experiments/bench_ofa_results.txt")
    with pytest.raises(FileExistsError, match=r"--run-dir experiments holds \d+ files .*write elsewhere$"):
        check_out("experiments", option="--run-dir", flag=None)
    assert check_out("experiments/compare_anb", overwrite=True) == Path("experiments/compare_anb")
    assert check_out("runs/compare_anb") == Path("runs/compare_anb")


def test_search_and_compare_write_under_runs_and_refuse_committed_results(repo):
    quick = _tiny(repo, ROOT / "evo_nas" / "configs" / "quickstart.toml", "quickstart.toml",
                  [("pop_size = 100", "pop_size = 8"), ("generations = 50", "generations = 2")])
    _run(repo, "-m", "evo_nas", "search", str(quick), "--quiet")
    assert (repo / "runs" / "quickstart" / "pareto.json").is_file()

    small = _tiny(repo, ROOT / "experiments" / "compare_anb.toml", "compare_anb.toml", [
        ("max_evaluations = 5000", "max_evaluations = 30"), ("generations = 5000", "generations = 10"),
        ("pop_size = 100", "pop_size = 10"), ("seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", "seeds = [0, 1]"),
        ("budgets = [1500, 5000]", "budgets = [20, 30]"), ("population = 100", "population = 10"),
        ("sample = 25", "sample = 5"), ('algorithms = ["nsga2", "rl", "aging", "random"]', 'algorithms = ["nsga2", "random"]'),
        ('baseline = "rl"', 'baseline = "random"')])
    _run(repo, "-m", "evo_nas", "compare", str(small), "--quiet")
    assert (repo / "runs" / "compare_anb" / "table.md").is_file()
    assert _changed(repo) == []

    # the documented command with the committed folder as --out: one line, exit 2, nothing written
    before = (repo / "experiments" / "compare_anb" / "table.md").read_bytes()
    for argv in (["compare", "experiments/compare_anb.toml", "--out", "experiments/compare_anb"],
                 ["compare", str(small), "--out", "experiments/compare_anb", "--analyze-only",
                  "--runs", "runs/compare_anb/runs"],
                 ["search", str(quick), "--run-dir", "experiments/compare_anb"]):
        done = _run(repo, "-m", "evo_nas", *argv, expect=2)
        assert done.stderr.count("\n") == 1 and "committed to git" in done.stderr, done.stderr
    assert _changed(repo) == []
    assert (repo / "experiments" / "compare_anb" / "table.md").read_bytes() == before

    # regenerating the committed copy is an explicit act
    _run(repo, "-m", "evo_nas", "compare", str(small), "--out", "experiments/compare_anb", "--analyze-only",
         "--runs", "runs/compare_anb/runs", "--overwrite", "--quiet")
    assert " M experiments/compare_anb/table.md" in _changed(repo)
    _git(repo, "checkout", "-q", "--", "experiments")
    assert _changed(repo) == []


def test_api_example_writes_under_runs(repo):
    _run(repo, "experiments/api_example.py", "--generations", "1", "--pop-size", "8")
    assert any((d / "pareto.png").is_file() for d in (repo / "runs").glob("quickstart*"))
    assert _changed(repo) == []


@needs_data("ofa")
def test_ofa_scripts_write_under_runs_and_refuse_committed_results(repo):
    done = _run(repo, "experiments/bench_ofa.py", "--out", "experiments/bench_ofa_results.txt", expect=2)
    assert done.stderr == ("bench_ofa.py: error: --out experiments/bench_ofa_results.txt is a file committed to git; "
                           "write elsewhere (default runs/bench_ofa/results.txt), or pass --overwrite to replace it\n")
    _run(repo, "experiments/bench_ofa.py", "--quick")
    report = (repo / "runs" / "bench_ofa" / "results.txt").read_text()
    assert "### 200 evaluations" in report and "evo-nas NSGA-II (block-aware)" in report
    _run(repo, "experiments/bench_fewshot_latency.py", "--draws", "1")
    assert (repo / "runs" / "bench_fewshot_latency" / "results.json").is_file()
    small = _tiny(repo, ROOT / "experiments" / "platforms_published.toml", "platforms_published.toml",
                  [("pop_size = 100", "pop_size = 16"), ("generations = 50 ", "generations = 3 ")])
    _run(repo, "experiments/platforms_published.py", "--config", str(small))
    assert (repo / "runs" / "platforms_published" / "results.json").is_file()
    assert _changed(repo) == []


@pytest.mark.parametrize("argv", [
    ["experiments/bench_sample_efficiency.py", "--out", "experiments/sample_efficiency", "--report-only"],
    ["experiments/best_known_ofa.py", "--out", "experiments/best_known_ofa.json"],
    ["experiments/platforms_published.py", "--out", "experiments/platforms_published"],
    ["experiments/make_mnist_subset.py", "--out", "evo_nas/assets/mnist_subset.npz"],
    ["experiments/train_anb_surrogate.py", "--out", "evo_nas/assets/anb"],
    ["experiments/bench_proxy_fidelity.py", "--out", "experiments/proxy_fidelity_results.json"],
])
def test_scripts_refuse_committed_outputs_before_any_work(repo, argv):
    done = _run(repo, *argv, expect=2)
    assert done.stderr.count("\n") == 1 and "committed to git" in done.stderr and "--overwrite" in done.stderr
    assert _changed(repo) == []


def test_no_script_defaults_to_a_tracked_path():
    """Every ``experiments/*.py`` option whose default is a path names one under runs/ (or none)."""
    import argparse
    import runpy
    from unittest import mock

    for script in sorted((ROOT / "experiments").glob("*.py")):
        parsers = []

        def capture(self, args=None, namespace=None):
            parsers.append(self)
            raise SystemExit(0)

        with mock.patch.object(argparse.ArgumentParser, "parse_args", capture), \
                mock.patch.object(sys, "argv", [str(script)]):
            try:
                runpy.run_path(str(script), run_name="__main__")
            except SystemExit:
                pass
        assert parsers, f"{script.name}: no argument parser"
        for action in parsers[0]._actions:
            if action.dest in ("out", "json", "workdir", "runs", "run_dir", "expected", "png", "table") \
                    and action.default is not None:
                assert Path(action.default).parts[0] == "runs", f"{script.name} --{action.dest} {action.default}"
