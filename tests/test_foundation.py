"""Issue 2: the factorized space, genomes, block strings, builder and cost counters."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evo_nas.networks.builder import build_model, count_model
from evo_nas.spaces.blocks import BlockSpec, parse_block
from evo_nas.spaces.costs import count
from evo_nas.spaces.loader import GENOMES_DIR, known_names, load_known, load_space
from evo_nas.spaces.space import Genome

SPACE = load_space("mnasnet")
SMALL = load_space("mnasnet", resolution=32, in_channels=1, num_classes=10)


def genes_strategy(space):
    return st.tuples(*(st.integers(0, c - 1) for c in space.cardinalities))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genes_strategy(SPACE))
def test_encode_decode_and_string_round_trip(genes):
    g = Genome(SPACE, genes)
    c = g.canonical()
    assert SPACE.encode(g.architecture()) == c.genes
    assert c.architecture() == g.architecture()
    assert c.canonical() == c
    assert SPACE.parse(g.key) == c
    assert SPACE.parse(g.key).key == g.key
    assert SPACE.parse(",".join(map(str, genes))) == g


@settings(max_examples=300, deadline=None)
@given(genes_strategy(SPACE), st.data())
def test_key_identifies_the_network(genes, data):
    """Two genomes have the same key exactly when they expand to the same layers."""
    g = Genome(SPACE, genes)
    i = data.draw(st.integers(0, SPACE.n_genes - 1))
    v = data.draw(st.integers(0, SPACE.cardinalities[i] - 1))
    h = Genome(SPACE, genes[:i] + (v,) + genes[i + 1:])
    same_layers = g.architecture().layers() == h.architecture().layers()
    assert (g.key == h.key) == same_layers


@settings(max_examples=2000, deadline=None)
@given(genes_strategy(SPACE))
def test_analytic_costs_are_positive_and_monotone_in_classes(genes):
    g = Genome(SPACE, genes)
    a = count(g)
    b = count(load_space("mnasnet", num_classes=10).genome(genes))
    assert a.params - b.params == 990 * (g.architecture().head.filters + 1)
    assert a.macs > 0


def check_builds_runs_and_counts(genes):
    g = Genome(SMALL, genes)
    model = build_model(g, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    params, macs = count_model(model, 32, 1)
    assert (params, macs) == (count(g).params, count(g).macs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genes_strategy(SMALL))
def test_every_genome_builds_runs_and_counts_match(genes):
    check_builds_runs_and_counts(genes)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genes_strategy(SMALL))
def test_thousands_of_genomes_build_run_and_count(genes):
    check_builds_runs_and_counts(genes)


@settings(max_examples=15, deadline=None)
@given(genes_strategy(SPACE))
def test_counts_match_at_full_resolution(genes):
    g = Genome(SPACE, genes)
    params, macs = count_model(build_model(g), 224)
    assert (params, macs) == (count(g).params, count(g).macs)


@pytest.mark.parametrize("name", known_names())
def test_known_architecture_exact_parameters(name):
    k = load_known(name)
    model = build_model(k.architecture)
    params, macs = count_model(model, k.space.resolution, k.space.in_channels)
    assert k.params is not None, f"{name} declares no reference parameter count"
    assert params == k.params
    assert count(k.architecture).params == k.params
    assert count(k.architecture).macs == macs
    if k.macs_m:
        assert abs(macs / 1e6 - k.macs_m) / k.macs_m < 0.01


def test_mobilenetv2_is_a_genome_and_mnasnet_a1_is_explicit():
    mbv2 = load_known("mobilenetv2")
    g = mbv2.genome()
    assert g.architecture() == mbv2.architecture
    assert g.key == mbv2.architecture.to_string()
    with pytest.raises(ValueError, match=r"block 5 .*filters 112"):
        load_known("mnasnet_a1").genome()


def test_build_is_seeded():
    g = SMALL.sample(np.random.default_rng(3))
    a = build_model(g, generator=torch.Generator().manual_seed(7)).state_dict()
    b = build_model(g, generator=torch.Generator().manual_seed(7)).state_dict()
    c = build_model(g, generator=torch.Generator().manual_seed(8)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point() and a[k].numel() > 1)


def test_sampling_is_seeded_and_covers_the_space():
    rng1, rng2 = np.random.default_rng(0), np.random.default_rng(0)
    s1 = [SPACE.sample(rng1) for _ in range(300)]
    assert s1 == [SPACE.sample(rng2) for _ in range(300)]
    seen = np.array([g.genes for g in s1])
    for i, c in enumerate(SPACE.cardinalities):
        assert set(seen[:, i]) == set(range(c)), SPACE.gene_names[i]


def test_canonicalization_examples():
    mbv2 = load_known("mobilenetv2").genome()
    genes = list(mbv2.genes)
    genes[5] = 0       # block 1: 1 reference layer, delta -1 still builds one layer
    assert Genome(SPACE, genes).key == mbv2.key
    genes = list(mbv2.genes)
    genes[3] = 2       # block 1: stride 1 but 32 -> 16 channels, one layer: identity == none
    assert Genome(SPACE, genes).key == mbv2.key
    genes[3] = 0       # pooling skip: a projection shortcut, a different network
    assert Genome(SPACE, genes).key != mbv2.key


@pytest.mark.parametrize("genes, message", [
    ((0,) * 41, "has 41 genes"),
    ((0,) * 40 + (0, 3), r"block 7 layers = 3 is out of range \[0, 2\]"),
    ((4,) + (0,) * 41, r"block 1 op = 4 is out of range"),
])
def test_invalid_genomes_name_the_gene(genes, message):
    with pytest.raises(ValueError, match=message):
        Genome(SPACE, genes)


@pytest.mark.parametrize("text, message", [
    ("ir_r2_k3_s2_e6_i16", "missing token o"),
    ("zz_r1_k3_s1_i32_o16", "unknown op 'zz'"),
    ("ir_r1_k4_s1_e6_i32_o16", "kernel 4"),
    ("ir_r1_k3_s3_e6_i32_o16", "stride 3"),
    ("ir_r1_k3_s1_eX_i32_o16", "bad value in token 'eX'"),
    ("ir_r1_k3_s1_e6_i32_o16_foo", "unknown token 'foo'"),
])
def test_malformed_block_strings(text, message):
    with pytest.raises(ValueError, match=message):
        parse_block(text)


def test_block_string_round_trip_of_every_token():
    for text in ["ir_r2_k5_s2_x72_i24_o40_se0.25_ahs", "ir_r1_k3_s1_e1_i16_o16_g2_ke",
                 "cn_r3_k3_s1_i16_o16_noskip", "ds_r2_k3_s2_i16_o24_poolskip", "skip_r1_i16_o16"]:
        b = parse_block(text)
        assert parse_block(b.to_string()) == b.canonical()
        assert b.canonical().to_string() == text


def test_off_grid_genome_names_the_block():
    k = load_known("mnasnet_a1")
    with pytest.raises(ValueError, match=r"block 5 \(ir_r2_k3_s1_e6_i80_o112_se0.25\): filters 112"):
        SPACE.parse(k.architecture.to_string())
    with pytest.raises(ValueError, match="input channels 33"):
        SPACE.parse(k.architecture.to_string().replace("i32_o16", "i33_o16", 1))


def test_mismatched_channels_are_rejected():
    with pytest.raises(ValueError, match="block 2"):
        SPACE.parse_architecture("ds_r1_k3_s1_i32_o16-ir_r2_k3_s2_e6_i24_o24")


def test_invalid_block_spec_lists_every_problem():
    with pytest.raises(ValueError, match=r"kernel 2 .*stride 4"):
        BlockSpec("ir", 1, 2, 4, 8, 8)


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "evo_nas", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_show_known_and_genome():
    r = run_cli("show", "mnasnet_a1")
    assert r.returncode == 0, r.stderr
    assert "3,887,038" in r.stdout and "311.58M" in r.stdout and "block 7" in r.stdout
    g = load_known("mobilenetv2").genome()
    r = run_cli("show", ",".join(map(str, g.genes)), "--resolution", "32", "--num-classes", "10")
    assert r.returncode == 0, r.stderr
    assert g.key in r.stdout


def test_cli_show_genome_file(tmp_path):
    path = tmp_path / "best.txt"
    path.write_text(load_known("mobilenetv2").genome().key + "\n")
    r = run_cli("show", str(path))
    assert r.returncode == 0 and "3,504,872" in r.stdout, r.stderr


@pytest.mark.parametrize("arg, message", [
    ("ir_r1_k3_s1_e6_i32", "missing token o"),
    ("1,2,3", "has 3 genes"),
    ("nonexistent.toml", "file not found: nonexistent.toml"),
    ("missing.txt", "genome file not found: missing.txt"),
    ("mnasnet_a2", "'mnasnet_a2' is not a known architecture (did you mean 'mnasnet_a1'?)"),
])
def test_cli_bad_input_gives_one_line_and_nonzero_exit(arg, message):
    r = run_cli("show", arg)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


@pytest.mark.parametrize("content, message", [
    ("name = 'x'\n[choices]\nkernel = [4]\n", "choices.op must be a non-empty list"),
    ('name = "x"\nresolution = "big"\n', "resolution = 'big' must be int"),
    ("name = 'x'\nthis is not toml", "not valid TOML"),
    ("name = 'x'\nresolution = 224\nresolution = 192\n", "line 3 is `resolution = 192`"),
    ("name = 'x'\ntype = 'nope'\n", "type = 'nope'"),
])
def test_cli_bad_space_file(tmp_path, content, message):
    path = tmp_path / "space.toml"
    path.write_text(content)
    r = run_cli("show", "mobilenetv2", "--space", str(path))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_user_space_file_with_other_choices(tmp_path):
    text = (GENOMES_DIR / "mnasnet.toml").read_text()
    text = text.replace('kernel = [3, 5]', 'kernel = [3, 5, 7]').replace('num_classes = 1000', 'num_classes = 100')
    path = tmp_path / "my.toml"
    path.write_text(text)
    space = load_space(path)
    assert space.cardinalities[1] == 3 and space.num_classes == 100
    assert space.fingerprint() != SPACE.fingerprint()
    g = space.sample(np.random.default_rng(0))
    assert space.parse(g.key) == g.canonical()


def test_cli_paths_of_the_wrong_kind_give_one_line(tmp_path):
    config = tmp_path / "exp.toml"
    config.write_text('seed = 1\n[problem]\nname = "ofa-mbv3"\n[search]\ngenerations = 1\n')
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    cases = [
        (("search", str(tmp_path)), f"config file is a directory: {tmp_path}"),
        (("search", str(config), "--run-dir", str(a_file)), f"run directory {a_file} is a file"),
        (("search", "--resume", str(tmp_path / "nosuch")), f"run directory not found: {tmp_path / 'nosuch'}"),
        (("show", "mobilenetv2", "--space", "nosuch"), "known spaces: anb, fbnet, mnasnet"),
    ]
    for args, message in cases:
        r = run_cli(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and message in lines[0], (args, r.stderr)
    assert a_file.read_text() == "keep me"


def test_a_reader_that_goes_away_stops_the_cli_quietly():
    p = subprocess.Popen([sys.executable, "-m", "evo_nas", "show", "mnasnet_a1"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdout.close()  # before the CLI has written anything: its first write meets a closed pipe
    err = p.stderr.read()
    assert p.wait() == 128 + 13 and err == ""
