"""NAS-Bench-201's cell space and network: cell strings, blocks, the built PyTorch network and its counts.

Needs no benchmark data. The published counts are NAS-Bench-201's own (``params`` and ``flop`` of
its records, NAS-Bench-201-v1_1-096897): per dataset the smallest and largest network, the all-``none``
cell and the all-``nor_conv_3x3`` cell. Its FLOP counter adds the classifier's bias to the
multiply-adds; the project's MACs do not, so ``flop = MACs + classes``.
"""
import numpy as np
import pytest
import torch

from evo_nas.algorithms import operators
from evo_nas.cli import main
from evo_nas.networks.builder import count_model
from evo_nas.networks.nb201 import build_network
from evo_nas.spaces.loader import load_space

ALL_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
# dataset: (classes, resolution, (params, flop) of the all-none cell, of the all-3x3 cell)
PUBLISHED = {"cifar10": (10, 32, (73306, 7.78305e6), (1531546, 220.11969e6)),
             "cifar100": (100, 32, (79156, 7.7889e6), (1537396, 220.12554e6)),
             "imagenet16": (120, 16, (80456, 1.9534e6), (1538696, 55.03756e6))}


@pytest.fixture(scope="module")
def space():
    return load_space("nb201")


def all_genes(space):
    return np.stack(np.unravel_index(np.arange(5 ** 6), space.cardinalities), axis=1)


def test_every_cell_string_round_trips_and_names_one_genome(space):
    X = all_genes(space)
    keys = space.keys(X)
    assert len(set(keys)) == 15625
    assert [space.parse(k).genes for k in keys[::97]] == [tuple(x) for x in X[::97].tolist()]
    assert all(space.parse_genes(k) == tuple(x) for k, x in zip(keys, X.tolist()))
    g = space.parse(ALL_3X3)
    assert g.genes == (3,) * 6 and g.key == ALL_3X3 and str(space.parse("3, 3, 3, 3, 3, 3")) == ALL_3X3
    # the operations in NAS-Bench-201's order, one gene per edge in the string's order
    assert space.parse("|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|none~2|").genes == \
        (1, 0, 4, 2, 0, 0)


@pytest.mark.parametrize("text, message", [
    ("|nor_conv_3x3~0|+|nor_conv_5x5~0|none~1|+|none~0|none~1|none~2|",
     "edge 0->2: operation 'nor_conv_5x5' is not one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"),
    ("|none~0|+|none~1|none~1|+|none~0|none~1|none~2|", "edge 0->2: 'none~1' is not <operation>~0"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3|", "edge 2->3: 'nor_conv_3x3' is not <operation>~2"),
    ("|none~0|+|none~0|none~1|", "2 nodes separated by '|+|', the space has 3"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 has 1 inputs ('none~0'), expected 2"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '|'"),
])
def test_a_malformed_cell_string_is_one_line_naming_the_edge_and_value(space, text, message):
    with pytest.raises(ValueError) as e:
        space.parse(text)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_gene_out_of_range_names_the_edge(space):
    with pytest.raises(ValueError, match=r"edge 1->2 = 5 is out of range \[0, 4\]"):
        space.genome((0, 0, 5, 0, 0, 0))


def test_the_cli_reports_a_malformed_genome_on_one_line(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[problem]\nname = "nb201"\ndevice = "pixel9"\n')
    assert main(["search", str(cfg), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evo-nas search: error: [problem] device = 'pixel9'") and "\n" not in err
    assert not (tmp_path / "run").exists()


def test_blocks_are_the_incoming_edges_of_each_node_and_every_gene_is_categorical(space):
    assert [(s.start, s.stop) for s in space.block_slices] == [(0, 1), (1, 3), (3, 6)]
    assert space.gene_names == ("edge 0->1", "edge 0->2", "edge 1->2", "edge 0->3", "edge 1->3", "edge 2->3")
    assert space.ordered == (False,) * 6
    assert space.cardinalities == (5,) * 6
    # no two genomes are merged: every tabulated cell is its own architecture
    X = all_genes(space)
    assert (space.canonical_array(X) == X).all()
    rng = np.random.default_rng(0)
    a, b = np.zeros((200, 6), dtype=np.int64), np.full((200, 6), 3)
    c1, c2 = operators.crossover_array(space, a, b, rng)
    for row in c1:  # crossover takes each node's edges whole from one parent
        for s in space.block_slices:
            assert len(set(row[s].tolist())) == 1


def test_the_built_network_has_nas_bench_201s_published_parameter_and_flop_counts(space):
    for dataset, (classes, res, smallest, largest) in PUBLISHED.items():
        sp = space.with_overrides(num_classes=classes, resolution=res)
        for cell, (params, flop) in ((ALL_NONE, smallest), (ALL_3X3, largest)):
            genes = sp.parse_genes(cell)
            built_params, built_macs = count_model(build_network(sp, cell), res)
            assert built_params == params, (dataset, cell)
            assert built_macs + classes == round(flop), (dataset, cell)
            P, M = sp.costs_array([genes])
            assert (P[0], M[0]) == (built_params, built_macs)


def test_the_analytic_counts_equal_the_built_networks_of_random_cells(space):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 5, (6, 6))
    P, M = space.costs_array(X)
    for x, p, m in zip(X, P, M):
        assert count_model(build_network(space, x), 32) == (p, m)
    P, M = space.costs_array(all_genes(space))
    assert P.min() == 73306 and P.max() == 1531546 and M.max() == 220119680


def test_the_network_runs_and_a_seeded_build_is_reproducible(space):
    sp = space.with_overrides(num_classes=120, resolution=16)
    net = build_network(sp, "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_3x3~1|none~2|",
                        generator=torch.Generator().manual_seed(3))
    again = build_network(sp, "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_3x3~1|none~2|",
                          generator=torch.Generator().manual_seed(3))
    for p, q in zip(net.parameters(), again.parameters()):
        assert torch.equal(p, q)
    net.eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 120) and torch.isfinite(out).all()
    # a cell whose output node takes only `none` outputs zeros: the network then sees the reductions only
    dead = build_network(space, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    cell = dead.cells[0]
    assert torch.count_nonzero(cell(torch.randn(1, 16, 32, 32))) == 0


def test_the_space_file_refuses_bad_settings(space):
    from evo_nas.spaces.loader import space_from_dict
    from evo_nas.spaces.space import SpaceError

    for key, value in (("operations", ["none", "sep_conv_3x3"]), ("nodes", 1), ("resolution", 30)):
        with pytest.raises(SpaceError, match=key):
            space_from_dict({**space.definition, key: value})
    with pytest.raises(ValueError, match="not a chain of blocks"):
        space.genome((0,) * 6).architecture()


def test_show_prints_a_cell_with_its_network_counts(capsys):
    assert main(["show", ALL_3X3, "--num-classes", "120", "--resolution", "16"]) == 0
    out = capsys.readouterr().out
    assert "2->3   nor_conv_3x3" in out and "1,538,696 parameters, 55.04M MACs at 16x16, 120 classes" in out
    assert main(["show", ALL_3X3.replace("~2|", "~1|")]) == 2
    assert "edge 2->3: 'nor_conv_3x3~1' is not <operation>~2" in capsys.readouterr().err
