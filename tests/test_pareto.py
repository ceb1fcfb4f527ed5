"""Pareto dominance and hypervolume against brute force, grid counts and pymoo, on ties, duplicates and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evo_nas.analysis.pareto import dominates, hypervolume, hypervolume_2d, non_dominated

points = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30)


def brute_mask(p):
    return np.array([not any(dominates(q, x) for q in p) for x in p])


@settings(max_examples=60, deadline=None)
@given(points)
def test_non_dominated_matches_brute_force(p):
    p = np.array(p, float)
    assert (non_dominated(p) == brute_mask(p)).all()


@settings(max_examples=40, deadline=None)
@given(points)
def test_hypervolume_2d_matches_grid_count(p):
    p = np.array(p, float)
    ref = np.array([21.0, 21.0])
    # unit cells [x, x+1) x [y, y+1) of the integer grid dominated by some point
    xs, ys = np.meshgrid(np.arange(21), np.arange(21), indexing="ij")
    cells = np.stack([xs.ravel(), ys.ravel()], 1)
    covered = np.zeros(len(cells), bool)
    for q in p:
        covered |= (cells[:, 0] >= q[0]) & (cells[:, 1] >= q[1])
    assert hypervolume_2d(p, ref) == pytest.approx(covered.sum())


def test_hypervolume_2d_agrees_with_pymoo():
    from pymoo.indicators.hv import HV

    rng = np.random.default_rng(0)
    p = rng.random((50, 2))
    ref = np.array([1.1, 1.2])
    assert hypervolume_2d(p, ref) == pytest.approx(float(HV(ref_point=ref)(p)))


def test_hypervolume_known_values_and_reference_clipping():
    assert hypervolume_2d([[1, 2], [2, 1]], [3, 3]) == pytest.approx(3.0)
    assert hypervolume_2d([[4, 0]], [3, 3]) == 0.0
    assert hypervolume_2d(np.zeros((0, 2)), [1, 1]) == 0.0
    assert hypervolume([[0, 0, 0]], [1, 2, 3]) == pytest.approx(6.0)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="NaN"):
        non_dominated([[0, np.nan]])
    with pytest.raises(ValueError, match="reference point"):
        hypervolume([[0, 0]], [1, 1, 1])


# -- seeded brute-force checks of the fast paths -------------------------------------------------

def brute_force(p):
    """The definition, pair by pair: i is kept iff no j is <= in every objective and < in one."""
    n = len(p)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if i != j and all(p[j][k] <= p[i][k] for k in range(p.shape[1])) and \
                    any(p[j][k] < p[i][k] for k in range(p.shape[1])):
                keep[i] = False
                break
    return keep


@pytest.mark.parametrize("dims", [2, 3])
def test_non_dominated_equals_the_definition_on_ties_and_duplicates(dims):
    rng = np.random.default_rng(dims)
    for case in range(500):
        n = int(rng.integers(0, 40))
        high = int(rng.choice([2, 4, 10, 1000]))  # small ranges: many ties and duplicate points
        p = rng.integers(-high, high, size=(n, dims)).astype(float)
        if case % 5 == 0 and n:
            p[rng.integers(n, size=n // 2)] = p[0]  # a repeated point
        got = non_dominated(p)
        assert got.dtype == bool and got.shape == (n,)
        assert got.tolist() == brute_force(p).tolist(), p.tolist()


def test_non_dominated_keeps_every_copy_of_a_front_point():
    assert non_dominated([[1, 2], [1, 2], [2, 1], [2, 2], [2, 1]]).tolist() == [True, True, True, False, True]
    assert non_dominated([[0, 5], [0, 3], [0, 3], [1, 3]]).tolist() == [False, True, True, False]
    assert non_dominated([[1, 1, 1]] * 3).tolist() == [True] * 3
    assert non_dominated(np.zeros((0, 2))).tolist() == []


def test_non_dominated_with_an_infinite_objective():
    p = np.array([[0, np.inf], [1, 5], [0, np.inf]])
    assert non_dominated(p).tolist() == brute_force(p).tolist() == [True, True, True]


def test_objectives_matrix_equals_vector_and_feasible_row_by_row():
    from evo_nas.algorithms.objectives import Objectives

    rng = np.random.default_rng(3)
    values = [None, float("nan"), float("inf"), -float("inf"), 0.0, 0.5, 1.0, 2.0, 3.5, 25.0]
    layouts = [Objectives(("val_acc", "latency_ms")),
               Objectives(("val_acc", "latency_ms"), latency_target_ms=2.0),
               Objectives(("latency_ms", "val_acc", "params_m"), latency_target_ms=3.5),
               Objectives(("score", "params_m"), latency_target_ms=1.0, maximize=frozenset({"score"})),
               Objectives(("val_acc", "params_m"))]
    for objectives in layouts:
        records = []
        for i in range(300):
            r = {"key": str(i), "status": str(rng.choice(["ok", "ok", "ok", "failed"]))}
            for name in ("val_acc", "latency_ms", "params_m", "score"):
                if rng.random() < 0.9:
                    r[name] = values[int(rng.integers(len(values)))] if rng.random() < 0.3 else float(rng.random() * 4)
            records.append(r)
        M, feasible = objectives.matrix(records)
        assert M.shape == (300, objectives.n_obj) and feasible.shape == (300,)
        assert M.tolist() == [objectives.vector(r).tolist() for r in records]
        assert feasible.tolist() == [objectives.feasible(r) for r in records]
        assert 0 < feasible.sum() < 300
    M, feasible = layouts[0].matrix([])
    assert M.shape == (0, 2) and feasible.shape == (0,)
