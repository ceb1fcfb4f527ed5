"""Issue 7: NetAdapt refinement, as a library function and as ``evo-nas refine`` on a run."""
import math

import numpy as np
import pytest

from evo_nas.cli import main
from evo_nas.deploy.netadapt import block_proposal, netadapt
from evo_nas.engine.run import RunDir
from evo_nas.engine.runner import run_search
from evo_nas.spaces.costs import count
from evo_nas.spaces.loader import load_space
from evo_nas.spaces.space import Genome

_LATENCY: dict = {}


def latency(g: Genome) -> float:
    """A deterministic stand-in for a latency table: MACs plus a per-layer overhead."""
    if g.key not in _LATENCY:
        _LATENCY[g.key] = _latency(g.architecture())
    return _LATENCY[g.key]


def _latency(a) -> float:
    return count(a).macs / 1e6 + 0.05 * sum(1 for x in a.layers() if x.op != "skip")


def make_evaluate(calls):
    def evaluate(genomes):
        calls.append([g.key for g in genomes])
        return [{"key": g.key, "status": "ok", "latency_ms": latency(g),
                 "val_acc": 0.5 + 0.05 * math.log(count(g.architecture()).params)} for g in genomes]
    return evaluate


@pytest.mark.parametrize("name", ["mnasnet", "fbnet", "mobilenetv3"])
def test_netadapt_reaches_the_target_keeping_the_best_ratio(name):
    space = load_space(name, resolution=32, num_classes=10)
    start = space.sample(np.random.default_rng(1))
    target = 0.85 * latency(start)
    calls = []
    r = netadapt(start, make_evaluate(calls), latency, target, step_fraction=0.1, max_steps=40)
    assert r.reached and r.final_ms <= target < latency(start)
    lat = [latency(start)] + [s.chosen["predicted_ms"] for s in r.steps]
    assert all(b < a for a, b in zip(lat, lat[1:]))
    prev = start.canonical()
    for s in r.steps:
        assert s.chosen["ratio"] == max(p["ratio"] for p in s.proposals)
        assert len(s.proposals) == len({p["block"] for p in s.proposals})   # one proposal per block
        nxt = space.parse(s.chosen["key"])
        changed = [i for i, (a, b) in enumerate(zip(prev.genes, nxt.genes)) if a != b]
        sl = space.block_slices[s.chosen["block"] - 1]
        assert changed and all(sl.start <= i < sl.stop for i in changed)
        prev = nxt
    assert prev == r.final
    again = netadapt(start, make_evaluate([]), latency, target, step_fraction=0.1, max_steps=40)
    assert again.path() == r.path()
    assert calls[0] == [start.key] and sum(map(len, calls)) == 1 + sum(len(s.proposals) for s in r.steps)


def test_netadapt_stops_when_the_space_cannot_shrink_further():
    space = load_space("mobilenetv3", resolution=32, num_classes=10)
    start = space.sample(np.random.default_rng(1))
    r = netadapt(start, make_evaluate([]), latency, 0.3 * latency(start), max_steps=100)
    assert not r.reached and len(r.steps) < 100
    assert all(block_proposal(r.final, b, latency, r.final_ms, 0.0) is None for b in range(space.n_blocks))


def test_block_proposal_is_the_smallest_cut_that_meets_the_step():
    space = load_space("mnasnet", resolution=32, num_classes=10)
    g = space.sample(np.random.default_rng(4))
    cur = latency(g)
    for block in range(space.n_blocks):
        for need in (0.001, 0.05 * cur, 10 * cur):
            p = block_proposal(g, block, latency, cur, need)
            sl = space.block_slices[block]
            cuts = {}
            for i in range(sl.start, sl.stop):
                for v in range(space.cardinalities[i]):
                    h = Genome(space, g.genes[:i] + (v,) + g.genes[i + 1:]).canonical()
                    if h.key != g.key and latency(h) < cur:
                        cuts[h.key] = latency(h)
            if not cuts:
                assert p is None
                continue
            meeting = [v for v in cuts.values() if cur - v >= need]
            assert p.latency_ms == (max(meeting) if meeting else min(cuts.values()))


def test_netadapt_rejects_bad_settings():
    g = load_space("fbnet", resolution=32, num_classes=10).genome([3] * 22)
    for kw, msg in (({"target_ms": 0}, "target_ms"), ({"target_ms": 1, "step_fraction": 1.5}, "step_fraction")):
        with pytest.raises(ValueError, match=msg):
            netadapt(g, make_evaluate([]), latency, **kw)


def test_refine_command_adds_refined_models_to_the_run(tmp_path, capsys):
    # full resolution: the synthetic latency then follows MACs more than its per-key noise
    cfg = {"seed": 2, "space": {"name": "mobilenetv3"},
           "problem": {"name": "synthetic"}, "search": {"pop_size": 8, "generations": 2, "cache": False}}
    r = run_search(cfg, tmp_path / "run", quiet=True)
    run = RunDir(r.run_dir)
    before = run.evaluations()
    fastest = min(f["latency_ms"] for f in r.front)
    assert main(["refine", str(r.run_dir), "--target-ms", f"{0.9 * fastest}", "--members", "1"]) == 0
    out = capsys.readouterr().out
    assert "kept proposal" in out and "refined models appended" in out
    after = run.evaluations()
    refined = [e for e in after if e.get("origin") == "netadapt"]
    assert after[:len(before)] == before and len(after) == len(before) + len(refined) > len(before)
    assert len({e["key"] for e in after}) == len(after)
    front = run.pareto()
    assert min(f["latency_ms"] for f in front) < fastest      # a refined model joined the Pareto set
    assert any(f.get("origin") == "netadapt" for f in front)
    import json

    assert json.loads((run.path / "pareto.json").read_text())["size"] == len(front)


def test_refine_with_a_target_every_member_meets_says_where_it_would_act(tmp_path, capsys):
    cfg = {"seed": 2, "problem": {"name": "synthetic"}, "search": {"pop_size": 8, "generations": 1, "cache": False}}
    r = run_search(cfg, tmp_path / "run", quiet=True)
    slowest = max(f["latency_ms"] for f in r.front)
    before = RunDir(r.run_dir).evaluations()
    assert main(["refine", str(r.run_dir), "--target-ms", f"{2 * slowest}"]) == 0
    out = capsys.readouterr().out
    assert "nothing to refine" in out and f"below {slowest:.3g}" in out
    assert RunDir(r.run_dir).evaluations() == before


def test_refine_errors_are_one_line(tmp_path, capsys):
    assert main(["refine", str(tmp_path / "nope"), "--target-ms", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evo-nas refine: error:") and "\n" not in err
