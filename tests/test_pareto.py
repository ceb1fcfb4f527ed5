import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from evo_nas.pareto import dominates, hypervolume, hypervolume_2d, non_dominated

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
