"""Issue 7: FBNet's layer-wise space and the MobileNetV3-style space, known genomes and properties."""
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evo_nas.networks.builder import ChannelShuffle, build_model, count_model
from evo_nas.spaces.costs import count
from evo_nas.spaces.loader import load_known, load_space, space_from_dict
from evo_nas.spaces.space import Genome, SpaceError

FBNET = load_space("fbnet")
MBV3 = load_space("mobilenetv3")
SPACES = {"fbnet": FBNET, "mobilenetv3": MBV3}
SMALL = {n: load_space(n, resolution=32, in_channels=1, num_classes=10) for n in SPACES}


def genes_strategy(space):
    return st.tuples(*(st.integers(0, c - 1) for c in space.cardinalities))


def test_space_shapes():
    assert FBNET.cardinalities == (9,) * 22
    assert [s.stop - s.start for s in FBNET.block_slices] == [1, 4, 4, 4, 4, 4, 1]
    assert FBNET.gene_names[1] == "stage 2 layer 1"
    assert MBV3.cardinalities == (2, 5, 2, 2) * 12
    assert MBV3.gene_names[:4] == ("block 1 kernel", "block 1 expansion", "block 1 se_ratio", "block 1 act")


@pytest.mark.parametrize("name, params, macs_m", [("fbnet_c", 5_572_200, 385.0), ("mobilenetv3_large", 5_483_032, 216.6)])
def test_known_genomes_exact_parameters(name, params, macs_m):
    k = load_known(name)
    g = k.genome()
    assert g.architecture() == k.architecture and g.key == k.architecture.to_string()
    assert count(g).params == params
    assert round(count(g).macs / 1e6, 1) == macs_m
    assert count_model(build_model(g), 224) == (count(g).params, count(g).macs)


def test_fbnet_c_genome_reads_as_the_published_layer_list():
    g = load_known("fbnet_c").genome()
    names = [FBNET.describe_gene(i, v) for i, v in enumerate(g.genes)]
    assert names == ["k3_e1", "k3_e6", "k3_e1", "k3_e1", "skip", "k5_e6", "k5_e3", "k5_e6", "k3_e6",
                     "k5_e6", "k5_e3", "k5_e6", "k5_e6", "k5_e6", "k5_e6", "k5_e6", "k5_e3",
                     "k5_e6", "k5_e6", "k5_e6", "k5_e6", "k3_e6"]
    published = FBNET.parse(",".join(map(str, [0, 3, 8, 0, 0] + list(g.genes[5:]))))
    assert published.key == g.key and published.canonical() == g


@pytest.mark.parametrize("name", list(SPACES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_encode_decode_and_string_round_trip(name, data):
    space = SPACES[name]
    g = Genome(space, data.draw(genes_strategy(space)))
    c = g.canonical()
    assert space.encode(g.architecture()) == c.genes
    assert c.architecture() == g.architecture() and c.canonical() == c
    assert space.parse(g.key) == c and space.parse(g.key).key == g.key


def without_identity_layers(genome):
    return [x for x in genome.architecture().layers() if x.op != "skip"]


@pytest.mark.parametrize("name", list(SPACES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_key_identifies_the_network(name, data):
    """Same key exactly when the layers are the same, identity layers aside."""
    space = SPACES[name]
    genes = data.draw(genes_strategy(space))
    i = data.draw(st.integers(0, space.n_genes - 1))
    other = list(genes)
    other[i] = data.draw(st.integers(0, space.cardinalities[i] - 1))
    g, h = Genome(space, genes), Genome(space, other)
    assert (g.key == h.key) == (without_identity_layers(g) == without_identity_layers(h))


@settings(max_examples=100, deadline=None)
@given(genes_strategy(FBNET), st.data())
def test_fbnet_identity_layers_move_freely_within_a_stage(genes, data):
    """Permuting the layers after a stage's first one changes the key unless only skips moved."""
    stage = data.draw(st.sampled_from(FBNET.block_slices[1:6]))
    perm = data.draw(st.permutations(list(range(stage.start + 1, stage.stop))))
    other = list(genes)
    other[stage.start + 1:stage.stop] = [genes[k] for k in perm]
    g, h = Genome(FBNET, genes), Genome(FBNET, other)
    non_skip = lambda gs: [x for x in gs[stage.start + 1:stage.stop] if FBNET.describe_gene(0, x) != "skip"]
    assert (g.key == h.key) == (non_skip(list(genes)) == non_skip(other))


@pytest.mark.parametrize("name", list(SPACES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_genome_builds_runs_and_counts_match(name, data):
    space = SMALL[name]
    g = Genome(space, data.draw(genes_strategy(space)))
    model = build_model(g, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    assert count_model(model, 32, 1) == (count(g).params, count(g).macs)


def test_moved_identity_layer_builds_the_same_function():
    space = SMALL["fbnet"]
    a = space.genome([0, 3, 8, 0, 0] + [3] * 17)
    b = space.genome([0, 3, 0, 0, 8] + [3] * 17)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        ya = build_model(a, torch.Generator().manual_seed(1)).eval()(x)
        yb = build_model(b, torch.Generator().manual_seed(1)).eval()(x)
    assert a.key == b.key and torch.equal(ya, yb)


def test_group2_candidates_shuffle_and_halve_the_1x1_weights():
    k3, k3g2 = FBNET.layer_block(FBNET.stages[1].candidates[0], 24, 24, 1), FBNET.layer_block(FBNET.stages[1].candidates[1], 24, 24, 1)
    assert k3g2.groups == 2 and k3.groups == 1 and k3g2.keep_expand
    a = FBNET.base_architecture([FBNET.layer_block(FBNET.stages[0].candidates[0], 16, 16, 1)])
    b = FBNET.base_architecture([FBNET.layer_block(FBNET.stages[0].candidates[1], 16, 16, 1)])
    assert count(a).params - count(b).params == 2 * 16 * 16 // 2
    assert any(isinstance(m, ChannelShuffle) for m in build_model(b).modules())
    shuffle = ChannelShuffle(2)
    x = torch.arange(8.0).view(1, 8, 1, 1)
    assert shuffle(x).flatten().tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


def test_fbnet_skip_where_the_shape_changes_is_a_projection():
    g = FBNET.genome([0, 8, 8, 8, 8] + [3] * 17)
    first = g.architecture().blocks[1]
    assert (first.op, first.kernel, first.stride, first.in_ch, first.out_ch) == ("cn", 1, 2, 16, 24)


def test_mobilenetv3_se_width_and_rounding_duplicates():
    k = load_known("mobilenetv3_large")
    se = [x.se_ch for x in k.architecture.layers() if x.se_ch]
    assert se == [24, 32, 32, 120, 168, 168, 240, 240]
    block1 = list(k.genome().genes[:4])
    half = MBV3.genome(block1[:1] + [1] + block1[2:] + list(k.genome().genes[4:]))
    assert half.key == k.genome().key and half.canonical().genes[1] == 2


def test_width_multiplier_scales_the_spaces():
    small = load_space("mobilenetv3", width_multiplier=0.5)
    assert small.stem.out_ch == 8 and small.head.filters == 480
    assert load_space("fbnet", width_multiplier=0.5).genome([3] * 22).architecture().blocks[-1].out_ch == 176


@pytest.mark.parametrize("space, text, message", [
    ("fbnet", "ir_r1_k7_s1_e6_i16_o16", "stage 1 layer 1 (ir_r1_k7_s1_e6_i16_o16): not one of the candidates"),
    ("fbnet", "ir_r1_k3_s1_e6_i16_o24", "stage 2 layer 1: expected a layer i16_o24_s2"),
    ("mobilenetv3", "ir_r1_k7_s1_x16_i16_o16-" * 11 + "ir_r1_k3_s1_x16_i16_o16", "block 1"),
])
def test_off_grid_architectures_name_the_layer(space, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SPACES[space].parse(text.strip("-"))


def test_mobilenetv3_off_grid_expansion_names_the_block():
    k = load_known("mobilenetv3_large")
    text = k.architecture.to_string().replace("x200", "x208")
    with pytest.raises(ValueError, match=r"block 7 .*expanded channels 208 not reachable"):
        MBV3.parse(text)


@pytest.mark.parametrize("patch, message", [
    ({"candidates": ["k3_e1", "k4_e1"]}, "candidate 'k4_e1'"),
    ({"candidates": ["k3_e1", "zz"]}, "unknown candidate 'zz'"),
    ({"stages": []}, r"\[\[stages\]\] must list"),
    ({"stages": [{"filters": 16, "layers": 1}]}, "stage 1: missing key 'stride'"),
    ({"type": "nosuch"}, "type = 'nosuch'"),
])
def test_bad_fbnet_definitions_name_the_value(patch, message):
    with pytest.raises(SpaceError, match=message):
        space_from_dict({**FBNET.definition, **patch}, "fbnet.toml")


def test_bad_mobilenetv3_choice_names_the_value():
    with pytest.raises(SpaceError, match=r"choices.act: invalid value 'gelu'"):
        space_from_dict({**MBV3.definition, "choices": {**MBV3.definition["choices"], "act": ["relu", "gelu"]}}, "m.toml")


def test_sampling_is_seeded():
    import numpy as np

    for space in SPACES.values():
        a = [space.sample(np.random.default_rng(3)).key for _ in range(2)]
        assert a[0] == a[1]


@pytest.mark.parametrize("name", list(SPACES))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_latency_table_enumeration_covers_every_layer(name, data):
    from evo_nas.latency.table import space_layers

    space = SPACES[name]
    genome = space.genome(data.draw(genes_strategy(space)))
    known = space_layers(space)
    assert all(layer.key() in known for layer in genome.architecture().layers())
