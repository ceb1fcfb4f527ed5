"""Issue 27, items 7 and 8: file errors name the file and the way on; a full disk interrupts a run;
a killed export's staging folder goes; smaller faults of run directories and genome strings."""
import json
import os
import subprocess

import pytest

from evo_nas import api
from evo_nas.cli import main
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search


def config(**search):
    return {"seed": 3, "problem": {"name": "synthetic"},
            "space": {"name": "mnasnet", "resolution": 32, "num_classes": 10},
            "search": {"pop_size": 6, "generations": 3, "cache": False, **search},
            "objectives": {"reference": {"val_acc": 0.5, "latency_ms": 10.0}}}


@pytest.fixture
def finished(tmp_path):
    return RunDir(run_search(config(), tmp_path / "run", quiet=True).run_dir)


@pytest.mark.parametrize("line, wrong", [
    ("[1, 2]", "not an evaluation record (a JSON list)"),
    ('{"a": 1}', "not an evaluation record (key = None)"),
    ('{"key": "x", "status": "ok", "generation": "2"}', "not an evaluation record (generation = 2)"),
    ("7", "not an evaluation record (a JSON int)"),
])
@pytest.mark.parametrize("command", ["pareto", "resume"])
def test_a_json_line_that_is_not_a_record_is_one_line_naming_it(finished, capsys, line, wrong, command):
    path = finished.path / "evaluations.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:4] + [line] + lines[4:]) + "\n")
    argv = ["pareto", str(finished.path), "--no-plot"] if command == "pareto" else \
        ["search", "--resume", str(finished.path), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{path}: line 5 is {wrong}" in err and "remove the line" in err


def test_a_garbage_run_json_names_the_file(finished):
    (finished.path / "run.json").write_text("{garbage")
    with pytest.raises(ValueError, match=rf"{finished.path / 'run.json'}: not valid JSON"):
        api.load_run(finished.path).status


def test_pareto_of_a_read_only_run_still_shows_the_set(finished, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    os.chmod(finished.path, 0o555)
    for f in finished.path.iterdir():
        os.chmod(f, 0o444)
    try:
        assert main(["pareto", str(finished.path), "--no-plot"]) == 0
    finally:
        os.chmod(finished.path, 0o755)
    out = capsys.readouterr().out
    assert "non-dominated of" in out and "the Pareto files were not written" in out


def test_a_killed_exports_staging_folder_is_removed_by_the_next_pareto(finished, capsys):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stage = finished.path / f".export.export-tmp{dead.pid}"
    (stage / "sub").mkdir(parents=True)
    (stage / "pareto00.onnx").write_bytes(b"x" * 1000)
    alive = finished.path / f".export.export-tmp{os.getppid()}"  # a live process's: left alone
    alive.mkdir()
    assert main(["pareto", str(finished.path), "--no-plot"]) == 0
    assert not stage.exists() and alive.exists()
    assert f"removed {stage}" in capsys.readouterr().err
    from evo_nas.base.files import remove_stale_stages

    assert remove_stale_stages(finished.path) == []


def test_concurrent_default_run_dirs_are_numbered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    taken = [api.free_run_dir("quick", claim=True) for _ in range(3)]
    assert [p.name for p in taken] == ["quick", "quick-1", "quick-2"] and all(p.is_dir() for p in taken)
    # a search given a claimed (empty) directory runs in it; one that fails first leaves nothing
    r = api.search(config(), taken[0], claimed=True)
    assert r.status == "done"
    with pytest.raises(ValueError):
        api.search(config(generations=0), taken[1], claimed=True)
    assert not taken[1].exists()


@pytest.mark.parametrize("name, text, shown", [
    ("missing.toml", None, "config file not found: missing.toml"),
    ("torn.toml", "seed = 0\n[problem\n", "not valid TOML"),
], ids=["missing-config", "malformed-toml"])
def test_a_config_that_cannot_be_read_leaves_no_run_dir(tmp_path, monkeypatch, capsys, name, text, shown):
    monkeypatch.chdir(tmp_path)
    if text is not None:
        (tmp_path / name).write_text(text)
    for _ in range(2):  # a second try gets the same name, not runs/<name>-1
        assert main(["search", name]) == 2
        err = capsys.readouterr().err.strip()
        assert shown in err and err.count("\n") == 0
        assert not (tmp_path / "runs").exists()
    (tmp_path / "runs").mkdir()
    claimed = api.free_run_dir("torn", claim=True)
    with pytest.raises((ValueError, FileNotFoundError)):
        api.search(name, claimed, claimed=True)
    assert not claimed.exists() and (tmp_path / "runs").is_dir()  # a folder that was there stays


@pytest.mark.parametrize("text, shown", [
    ("r22\u0664-k3e4.k3e4-k3e4.k3e4-k3e4.k3e4-k3e4.k3e4-k3e4.k3e4", "non-ASCII character '\u0664' (U+0664)"),
    ("r224-" + "k3e4." * 20000, "has 100005 characters (at most 4096)"),
], ids=["arabic-indic-digit", "100000-characters"])
def test_a_genome_string_is_ascii_and_bounded(capsys, text, shown):
    assert main(["show", text, "--space", "ofa-mbv3"]) == 2
    err = capsys.readouterr().err.strip()
    assert shown in err and err.count("\n") == 0 and len(err) < 300


def test_a_full_disk_error_names_the_file(tmp_path, monkeypatch):
    import errno

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to tell which file a descriptor writes")
    real = os.fsync

    def full(fd):  # the disk fills up as the first evaluations are appended
        if os.readlink(f"/proc/self/fd/{fd}").endswith("evaluations.jsonl"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"No space left on device: '.*evaluations\.jsonl'"):
        run_search(config(), tmp_path / "run", quiet=True)
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert summary["status"] == "interrupted" and summary["resume"] == f"evo-nas search --resume {tmp_path / 'run'}"
