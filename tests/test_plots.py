"""pareto.png for any number of objectives: best so far (1), the front's staircase (2), pairs and parallel coordinates (3+)."""
import numpy as np
import pytest

import evo_nas
from evo_nas.analysis.plots import front_figure, objective_label
from evo_nas.cli import main


def run(tmp_path, names, name="run", **objectives):
    config = {"seed": 3, "problem": {"name": "synthetic", "fail": 0.1},
              "search": {"pop_size": 10, "generations": 3, "cache": False, "backend": "sequential"},
              "objectives": {"names": names, **objectives}}
    return evo_nas.search(config, tmp_path / name)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def figure(result):
    return front_figure(result.evaluations, result.pareto, result.objectives)


def red_points(ax) -> np.ndarray:
    """The offsets of the Pareto set's scatter in ``ax``."""
    (front,) = [c for c in ax.collections if c.get_label().startswith("Pareto set")]
    return np.asarray(front.get_offsets())


def test_three_objectives_are_a_pairs_plot_without_a_front_line_and_parallel_coordinates(tmp_path):
    result = run(tmp_path, ["val_acc", "latency_ms", "params_m"])
    fig = figure(result)
    pairs, pcp = fig.axes[:-1], fig.axes[-1]
    assert len(fig.axes) == 3 + 1  # the 3 pairs of 3 objectives, then the parallel coordinates
    front = np.array([[r[n] for n in result.objectives.names] for r in result.pareto])
    dominated = [r for r in result.evaluations if r["status"] == "ok" and r["key"] not in {m["key"] for m in result.pareto}]
    assert dominated and len(front) > 2
    for ax in pairs:
        assert ax.get_lines() == []  # nothing joins the points: a projected front is no staircase
        x, y = (result.objectives.names.index(_name(label)) for label in (_x(fig, ax), _y(fig, ax)))
        assert sorted(map(tuple, red_points(ax))) == sorted(map(tuple, front[:, [x, y]]))
    assert [t.get_text() for t in pcp.get_xticklabels()] == [
        "validation accuracy (proxy) [fraction]\nmax", "latency [ms]\nmin", "parameters [M]\nmin"]
    lines = [c for c in pcp.collections if c.get_linewidths()[0] == 1.2]
    assert len(lines) == 1 and len(lines[0].get_segments()) == len(front)


def _name(label: str) -> str:
    return {"validation accuracy (proxy) [fraction], max": "val_acc", "latency [ms], min": "latency_ms",
            "parameters [M], min": "params_m", "MACs [M], min": "macs_m"}[label]


def _x(fig, ax):
    """The x label of ``ax``'s column (set on the bottom row only)."""
    return next(a.get_xlabel() for a in fig.axes[:-1] if a.get_xlabel() and
                a.get_subplotspec().colspan == ax.get_subplotspec().colspan)


def _y(fig, ax):
    return next(a.get_ylabel() for a in fig.axes[:-1] if a.get_ylabel() and
                a.get_subplotspec().rowspan == ax.get_subplotspec().rowspan)


def test_four_objectives_have_six_pairs_and_a_latency_target_is_drawn_where_latency_is(tmp_path):
    result = run(tmp_path, ["val_acc", "latency_ms", "params_m", "macs_m"], latency_target_ms=30.0)
    fig = figure(result)
    assert len(fig.axes) == 6 + 1
    with_latency = [ax for ax in fig.axes[:-1] if "latency" in _x(fig, ax) + _y(fig, ax)]
    assert len(with_latency) == 3
    for ax in fig.axes[:-1]:
        assert [line.get_label() for line in ax.get_lines()] == (["latency target"] if ax in with_latency else [])


def test_two_objectives_keep_the_staircase_through_the_front(tmp_path):
    result = run(tmp_path, ["val_acc", "latency_ms"])
    fig = figure(result)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert line.get_drawstyle() == "steps-post"
    xy = sorted((r["latency_ms"], r["val_acc"]) for r in result.pareto)
    assert np.allclose(np.column_stack(line.get_data()), xy)
    assert ax.get_xlabel() == "latency [ms], min" and ax.get_ylabel() == "validation accuracy (proxy) [fraction], max"


@pytest.mark.parametrize("names, x, drawstyle", [(["val_acc", "params_m"], "params_m", "steps-post"),
                                                  (["params_m", "val_acc"], "params_m", "steps-post")])
def test_two_objectives_without_latency_put_the_accuracy_up(tmp_path, names, x, drawstyle):
    result = run(tmp_path, names)
    (ax,) = figure(result).axes
    assert ax.get_xlabel() == objective_label(result.objectives, x)
    assert ax.get_lines()[0].get_drawstyle() == drawstyle


def test_one_objective_plots_the_best_feasible_value_so_far(tmp_path):
    result = run(tmp_path, ["val_acc"])
    (ax,) = figure(result).axes
    (line,) = ax.get_lines()
    n, best = line.get_data()
    values = [r["val_acc"] if r["status"] == "ok" else -np.inf for r in result.evaluations]
    start = int(n[0]) - 1
    assert np.allclose(best, np.maximum.accumulate(values[start:]))
    assert best[-1] == result.best["val_acc"]
    assert ax.get_xlabel() == "evaluation (in the order evaluated)"


def test_the_cli_writes_a_plot_for_any_objectives(tmp_path, capsys):
    for names in (["val_acc"], ["latency_ms", "params_m"], ["val_acc", "latency_ms", "params_m"]):
        result = run(tmp_path, names, name="-".join(names))
        png = result.run_dir / "pareto.png"
        png.unlink(missing_ok=True)
        assert main(["pareto", str(result.run_dir)]) == 0
        assert png.read_bytes().startswith(b"\x89PNG")
        assert str(png) in capsys.readouterr().out
