"""The Python API: ``evo_nas.search``, ``resume``, ``load_run`` and ``Result``, against the run directory's files."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import evo_nas
from evo_nas.engine.run import RunDir

ROOT = Path(__file__).resolve().parent.parent


def synthetic(generations: int = 3) -> dict:
    return {"seed": 1, "problem": {"name": "synthetic"},
            "search": {"pop_size": 8, "generations": generations, "cache": False, "backend": "sequential"},
            "objectives": {"reference": {"val_acc": 0.0, "latency_ms": 100.0}}}


def test_search_returns_a_result_equal_to_the_run_directory(tmp_path):
    result = evo_nas.search(synthetic(), tmp_path / "run")
    run = RunDir(tmp_path / "run")
    pareto_file = json.loads((tmp_path / "run" / "pareto.json").read_text())
    assert result.run_dir == tmp_path / "run"
    assert result.pareto == pareto_file["front"] and result.pareto
    assert all({"key", "val_acc", "latency_ms"} <= set(r) for r in result.pareto)
    assert result.hypervolume == pareto_file["hypervolume"] == run.summary()["hypervolume"]
    assert result.evaluations == run.evaluations()
    assert result.history == run.logbook() and len(result.history) == 3
    assert result.n_evaluations == len(result.evaluations) == run.summary()["evaluations"]
    assert result.status == "done" and result.stopped == "generations"
    assert result.pareto == run.pareto()
    text = repr(result)
    assert text.startswith("Result(") and f"pareto={len(result.pareto)}" in text and "status='done'" in text


def test_load_run_reads_what_search_wrote(tmp_path):
    first = evo_nas.search(synthetic(), tmp_path / "run")
    again = evo_nas.load_run(tmp_path / "run")
    for name in ("pareto", "evaluations", "history", "hypervolume", "summary", "config", "run_dir"):
        assert getattr(again, name) == getattr(first, name), name
    assert again.wall_s is None and first.wall_s > 0
    with pytest.raises(FileNotFoundError, match="run directory not found: .*nothing"):
        evo_nas.load_run(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty is not a run directory"):
        evo_nas.load_run(tmp_path / "empty")


def test_overrides_merge_into_sections_key_by_key(tmp_path):
    result = evo_nas.search(synthetic(), tmp_path / "run", search={"generations": 2}, seed=4)
    config = result.config
    assert config["search"]["generations"] == 2 and config["search"]["pop_size"] == 8
    assert config["seed"] == 4 and len(result.history) == 2
    assert config["objectives"]["reference"] == {"val_acc": 0.0, "latency_ms": 100.0}
    nested = evo_nas.search(synthetic(), tmp_path / "nested", objectives={"reference": {"latency_ms": 50.0}})
    assert nested.config["objectives"]["reference"] == {"val_acc": 0.0, "latency_ms": 50.0}


def test_an_override_does_not_change_the_callers_config(tmp_path):
    config = synthetic()
    evo_nas.search(config, tmp_path / "run", search={"generations": 1})
    assert config == synthetic()


@pytest.mark.parametrize("overrides, named", [
    ({"serach": {"generations": 2}}, "'serach'.*did you mean 'search'"),
    ({"search.generations": 2}, "'search.generations'.*search=\\{'generations': ...\\}"),
    ({"search": {"generatons": 2}}, "'generatons'"),
])
def test_a_bad_override_key_is_an_error_naming_it_and_writes_nothing(tmp_path, overrides, named):
    with pytest.raises(ValueError, match=named):
        evo_nas.search(synthetic(), tmp_path / "run", **overrides)
    assert not (tmp_path / "run").exists()


def test_a_toml_path_runs_like_the_cli_and_the_default_run_dir_is_numbered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text('seed = 1\n[problem]\nname = "synthetic"\n'
                                        '[search]\npop_size = 6\ngenerations = 1\ncache = false\n')
    first = evo_nas.search("tiny.toml")
    second = evo_nas.search(tmp_path / "tiny.toml")
    assert first.run_dir == Path("runs/tiny") and second.run_dir == Path("runs/tiny-1")
    assert first.config["search"]["base_dir"] == str(tmp_path)
    from_dict = evo_nas.search(synthetic(1))
    assert from_dict.run_dir == Path("runs/synthetic")


def test_a_run_directory_that_holds_a_run_is_refused(tmp_path):
    evo_nas.search(synthetic(1), tmp_path / "run")
    with pytest.raises(FileExistsError, match="already holds a run"):
        evo_nas.search(synthetic(1), tmp_path / "run")


def test_resume_continues_a_run_with_execution_overrides_only(tmp_path):
    evo_nas.search(synthetic(2), tmp_path / "run")
    resumed = evo_nas.resume(tmp_path / "run", search={"n_jobs": 1})
    assert resumed.status == "done" and len(resumed.history) == 2
    with pytest.raises(ValueError, match=r"differs in \[seed\]"):
        evo_nas.resume(tmp_path / "run", seed=9)


def test_plot_writes_the_png_the_cli_writes(tmp_path):
    result = evo_nas.search(synthetic(1), tmp_path / "run")
    assert result.plot() == tmp_path / "run" / "pareto.png"
    assert (tmp_path / "run" / "pareto.png").read_bytes().startswith(b"\x89PNG")
    elsewhere = result.plot(tmp_path / "front.png")
    assert elsewhere == tmp_path / "front.png" and elsewhere.is_file()
    assert "val_acc" in result.table() and result.pareto[0]["key"][:20] in result.table()


def test_a_config_of_the_wrong_type_is_named():
    with pytest.raises(TypeError, match="dict or the path of a TOML file, got int"):
        evo_nas.search(3)


def test_registries_and_version_are_exposed():
    assert evo_nas.__version__ == __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert "ofa-mbv3" in evo_nas.problems.PROBLEMS and "mnasnet" in evo_nas.space_names()
    assert evo_nas.load_space("mnasnet").name == "mnasnet"
    assert evo_nas.register_problem is evo_nas.problems.register_problem
    assert {"factorized", "fbnet", "mobilenetv3", "ofa_mbv3"} <= set(evo_nas.spaces.SPACE_TYPES)
    assert evo_nas.spaces.load_space is evo_nas.load_space
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        evo_nas.nothing


def test_import_is_light_and_search_is_callable_after_the_engine_is_imported():
    code = ("import sys, evo_nas; evo_nas.load_space('mnasnet'); evo_nas.problems.PROBLEMS; evo_nas.Result; "
            "assert 'torch' not in sys.modules, 'torch'; import evo_nas.engine.runner; "
            "assert callable(evo_nas.search) and evo_nas.engine.runner.run_search; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


def test_the_package_name_search_runs_the_api(tmp_path):
    import evo_nas.engine.runner  # noqa: F401  (no submodule shadows the API function)

    result = evo_nas.search(synthetic(1), tmp_path / "run")
    assert isinstance(result, evo_nas.Result) and result.status == "done"


def test_a_run_stopped_part_way_reports_its_completed_generations(tmp_path, monkeypatch):
    from evo_nas.engine import loop

    step = loop.Engine.step

    def interrupted(self):
        if self.generation == 2:
            raise KeyboardInterrupt
        return step(self)

    monkeypatch.setattr(loop.Engine, "step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        evo_nas.search(synthetic(generations=5), tmp_path / "run")
    run = evo_nas.load_run(tmp_path / "run")
    assert run.status == "interrupted" and run.generations == 2 == len(run.history)


def test_a_run_without_a_reference_says_why_it_has_no_hypervolume(tmp_path):
    config = synthetic(generations=1)
    del config["objectives"]
    result = evo_nas.search(config, tmp_path / "run")
    assert result.hypervolume is None
    assert any(note.startswith("no hypervolume: [objectives] reference is not set") for note in result.notes)


def test_a_missing_config_or_run_is_a_value_error_of_the_api(tmp_path):
    """Every piece of bad input reaches an API caller as a ValueError (a missing file is also a FileNotFoundError)."""
    import evo_nas

    for call in (lambda: evo_nas.search(str(tmp_path / "nope.toml")), lambda: evo_nas.search("no-such-example"),
                 lambda: evo_nas.load_run(tmp_path / "no-run"), lambda: evo_nas.resume(tmp_path / "no-run")):
        with pytest.raises(ValueError, match="not found"):
            call()
    with pytest.raises(FileNotFoundError):
        evo_nas.search(str(tmp_path / "nope.toml"))
