"""Issue 18: a genome string of any length is a genome on the command line, never a file name."""
from pathlib import Path

import numpy as np
import pytest

from evo_nas.cli import main
from evo_nas.spaces.loader import load_space


def _long_genome(space_name: str) -> str:
    space = load_space(space_name, resolution=28, in_channels=1, num_classes=10)
    rng = np.random.default_rng(7)
    key = max((space.sample(rng).key for _ in range(5)), key=len)
    assert len(key) > 255  # longer than a file name may be (ENAMETOOLONG)
    return key


@pytest.fixture(scope="module", params=["fbnet", "mobilenetv3"])
def long_genome(request):
    return request.param, _long_genome(request.param)


def test_show_takes_a_long_genome_string(long_genome, capsys):
    space, key = long_genome
    assert main(["show", key, "--space", space, "--resolution", "28", "--num-classes", "10"]) == 0
    assert "total" in capsys.readouterr().out


def test_latency_takes_a_long_genome_string(long_genome, capsys):
    space, key = long_genome
    assert main(["latency", key, "--space", space, "--resolution", "28", "--num-classes", "10", "--no-table",
                 "--warmup", "1", "--repeats", "1", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert f"genome  : {key}" in out and "measured" in out


def test_train_takes_a_long_genome_string(long_genome, tmp_path, capsys):
    import json

    space, key = long_genome
    out = tmp_path / "rec.json"
    assert main(["train", key, "--space", space, "--steps", "1", "--batch-size", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["key"] == key


def test_train_of_a_known_architecture_off_the_grid_says_so(capsys):
    assert main(["train", "mnasnet_a1", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mnasnet_a1 is not on the grid of space 'mnasnet'" in err[0]


def test_a_genome_file_and_bad_arguments(tmp_path, capsys):
    key = _long_genome("fbnet")
    path = tmp_path / "g"
    path.write_text(key + "\n")
    assert main(["show", str(path), "--space", "fbnet", "--resolution", "28"]) == 0
    capsys.readouterr()
    assert main(["show", "ir_r1" + "_k3" * 200, "--space", "fbnet"]) == 2
    err = capsys.readouterr().err
    assert "File name too long" not in err and err.startswith("evo-nas show: error:")
    assert main(["show", str(tmp_path / "missing.txt")]) == 2
    assert "genome file not found" in capsys.readouterr().err


def _total_params(out: str) -> int:
    line = next(x for x in out.splitlines() if x.startswith("total"))
    return int(line.split()[2].replace(",", ""))


def test_show_builds_the_network_a_run_built(tmp_path, capsys):
    from evo_nas.engine.runner import run_search
    from evo_nas.spaces.costs import count

    config = {"seed": 1, "space": {"name": "mnasnet", "resolution": 28, "in_channels": 1, "num_classes": 10},
              "problem": {"name": "synthetic"}, "search": {"pop_size": 4, "generations": 1, "cache": False}}
    r = run_search(config, tmp_path / "run", quiet=True)
    key = r.front[0]["key"]
    runs = count(load_space("mnasnet", resolution=28, in_channels=1, num_classes=10).parse(key)).params
    three = count(load_space("mnasnet", resolution=28, num_classes=10).parse(key)).params
    assert runs != three
    capsys.readouterr()
    for args in (["--resolution", "28", "--in-channels", "1", "--num-classes", "10"], ["--config", str(r.run_dir)],
                 ["--config", str(Path(__file__).parents[1] / "experiments" / "mnist_train.toml")]):
        assert main(["show", key, *args]) == 0
        assert _total_params(capsys.readouterr().out) == runs, args
    assert main(["show", key, "--resolution", "28", "--num-classes", "10"]) == 0
    assert _total_params(capsys.readouterr().out) == three
    assert main(["show", key, "--in-channels", "0"]) == 2
    assert "--in-channels 0 must be >= 1" in capsys.readouterr().err
