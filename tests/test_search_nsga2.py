import pickle

import numpy as np
import pytest

from evo_nas.algorithms.nsga2 import NSGA2Strategy
from evo_nas.algorithms.objectives import FAILED_PENALTY, Objectives
from evo_nas.problems.synthetic import SyntheticConfig, synthetic_evaluate

CFG = SyntheticConfig.from_dict({"space": {"name": "mnasnet", "resolution": 32, "num_classes": 10}})
SPACE = CFG.space()


def strategy(seed=0, **search):
    return NSGA2Strategy(SPACE, {"pop_size": 10, **search}, Objectives(), np.random.default_rng(seed))


@pytest.mark.parametrize("kind", ["uniform", "one_point", "two_point"])
def test_every_asked_genome_is_valid_canonical_and_unique_in_its_batch(kind):
    s = strategy(crossover=kind)
    for _ in range(5):
        genomes = s.ask()
        assert 0 < len(genomes) <= 10
        for g in genomes:
            SPACE.validate(g.genes)
            assert g.genes == SPACE.canonical_genes(g.genes)
        assert len({g.key for g in genomes}) == len(genomes)
        s.tell(genomes, [synthetic_evaluate(g, CFG) for g in genomes])


def test_state_dict_round_trip_continues_identically():
    a = strategy(seed=3)
    for _ in range(3):
        g = a.ask()
        a.tell(g, [synthetic_evaluate(x, CFG) for x in g])
    state = pickle.loads(pickle.dumps(a.state_dict()))
    b = strategy(seed=99)
    b.load_state_dict(state)
    assert [g.key for g in a.ask()] == [g.key for g in b.ask()]


def test_same_seed_same_search_different_seed_different_search():
    keys = lambda seed: [g.key for g in strategy(seed).ask()]
    assert keys(1) == keys(1)
    assert keys(1) != keys(2)


def test_failed_results_get_the_penalty_and_are_not_selected():
    o = Objectives()
    assert (o.vector({"status": "failed"}) == FAILED_PENALTY).all()
    assert list(o.vector({"status": "ok", "val_acc": 0.9, "latency_ms": 3.0})) == [-0.9, 3.0]
    s = strategy()
    first = s.ask()
    s.tell(first, [synthetic_evaluate(g, CFG) for g in first])
    offspring = s.ask()
    s.tell(offspring, [{"status": "failed", "error": "x"} for _ in offspring])
    # survival keeps every successful parent before any failed child
    assert {g.key for g in s.population()} == {g.key for g in first}


def test_tell_must_match_ask():
    s = strategy()
    genomes = s.ask()
    with pytest.raises(ValueError, match="tell got"):
        s.tell(genomes[:-1], [synthetic_evaluate(g, CFG) for g in genomes[:-1]])


def test_exact_duplicate_elimination_drops_the_children_pymoos_distances_drop():
    from pymoo.core.duplicate import DefaultDuplicateElimination
    from pymoo.core.population import Population

    from evo_nas.algorithms.nsga2 import ExactDuplicateElimination

    rng = np.random.default_rng(0)
    for _ in range(300):
        a, b, c = (Population.new("X", rng.integers(0, 2, (int(rng.integers(lo, 30)), 4))) for lo in (1, 0, 0))
        assert ExactDuplicateElimination().do(a, b, c, return_indices=True)[1:] == \
            DefaultDuplicateElimination().do(a, b, c, return_indices=True)[1:]


@pytest.mark.parametrize("search", [
    {},
    {"pop_size": 12, "n_offsprings": 7, "crossover": "one_point", "crossover_prob": 0.6, "mutation_prob": 0.5},
    {"crossover": "gene_uniform", "mutation": "per_gene", "gene_mutation_rate": 0.3},
    {"crossover": "two_point", "mutation": "ordinal", "crossover_prob": 0.0},
    # children mostly copy their parents: many rounds of duplicate elimination per generation
    {"pop_size": 6, "crossover_prob": 0.0, "mutation_prob": 0.05},
    # one child per generation (one mating, the second child truncated), an odd count, crossover always
    {"pop_size": 3, "n_offsprings": 1, "crossover": "gene_uniform", "crossover_prob": 1.0, "mutation": "ordinal"},
    {"pop_size": 5, "n_offsprings": 11, "crossover_prob": 1.0, "mutation_prob": 0.0},
    # no crossover, no mutation: every child copies a parent, n_max_iterations rounds, no offspring
    {"pop_size": 4, "crossover_prob": 0.0, "mutation_prob": 0.0},
])
def test_array_mating_makes_the_offspring_pymoos_mating_makes(search):
    from pymoo.core.mating import Mating

    from evo_nas.algorithms.mating import ArrayMating

    ours, theirs = strategy(seed=5, **search), strategy(seed=5, **search)
    m = ours.algorithm.mating
    assert isinstance(m, ArrayMating)
    theirs.algorithm.mating = Mating(m.selection, m.crossover, m.mutation, repair=m.repair,
                                     eliminate_duplicates=m.eliminate_duplicates, n_max_iterations=m.n_max_iterations)
    sizes = []
    for _ in range(12):
        X, Y = ours.ask_array(), theirs.ask_array()
        assert X.shape == Y.shape and (X == Y).all()
        sizes.append(len(X))
        if not len(X):
            break
        results = [synthetic_evaluate(g, CFG) for g in SPACE.genomes(X)]
        ours.tell_array(results)
        theirs.tell_array(results)
    assert sizes[0] > 0


def test_array_mating_survives_a_checkpoint_round_trip():
    from pymoo.core.mating import Mating

    from evo_nas.algorithms.mating import ArrayMating

    search = {"pop_size": 6, "n_offsprings": 5, "mutation_prob": 0.3}
    ours, theirs = strategy(seed=2, **search), strategy(seed=2, **search)
    m = pickle.loads(pickle.dumps(ours.algorithm.mating))
    theirs.algorithm.mating = Mating(m.selection, m.crossover, m.mutation, repair=m.repair,
                                     eliminate_duplicates=m.eliminate_duplicates, n_max_iterations=m.n_max_iterations)
    for _ in range(6):
        ours.load_state_dict({"algorithm": pickle.dumps(ours.algorithm), "pending": pickle.dumps(None)})
        assert isinstance(ours.algorithm.mating, ArrayMating)
        X, Y = ours.ask_array(), theirs.ask_array()
        assert X.shape == Y.shape and (X == Y).all()
        results = [synthetic_evaluate(g, CFG) for g in SPACE.genomes(X)]
        ours.tell_array(results)
        theirs.tell_array(results)


def test_a_checkpoint_with_pymoos_mating_resumes_with_array_mating():
    """Checkpoints written before ArrayMating hold pymoo's Mating: a resume makes the same offspring on arrays."""
    from pymoo.core.mating import Mating

    from evo_nas.algorithms.mating import ArrayMating

    old, straight = strategy(seed=4), strategy(seed=4)
    m = old.algorithm.mating
    old.algorithm.mating = Mating(m.selection, m.crossover, m.mutation, repair=m.repair,
                                  eliminate_duplicates=m.eliminate_duplicates, n_max_iterations=m.n_max_iterations)
    for g in range(5):
        if g == 2:
            old.load_state_dict({"algorithm": pickle.dumps(old.algorithm), "pending": pickle.dumps(None)})
            assert isinstance(old.algorithm.mating, ArrayMating)
        X, Y = old.ask_array(), straight.ask_array()
        assert (X == Y).all()
        results = [synthetic_evaluate(g, CFG) for g in SPACE.genomes(X)]
        old.tell_array(results)
        straight.tell_array(results)
