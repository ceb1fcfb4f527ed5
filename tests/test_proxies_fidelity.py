"""The fidelity summary: Kendall tau and top-k overlap against the reference, on hand-made records."""
import pytest

from evo_nas.studies.proxy_fidelity import fidelity_study, format_report, summarize


def rec(name, key, score, acc=None, secs=1.0, status="ok"):
    return {"name": name, "key": key, "score": score, "val_acc": acc, "eval_s": secs, "params_m": 1.0 + int(key[1:]),
            "status": status}


def study(records, keys):
    return {"genomes": keys, "names": ["reference", "same", "reversed"], "records": records, "wall_s": 1.0,
            "top_k": 2, "n_jobs": 1, "reference": {"kind": "train", "steps": 10}}


def test_tau_and_overlap_of_perfect_and_reversed_proxies():
    keys = [f"g{i}" for i in range(6)]
    acc = [0.1, 0.5, 0.3, 0.9, 0.7, 0.2]
    records = [rec("reference", k, a, a, secs=10.0) for k, a in zip(keys, acc)]
    records += [rec("same", k, 3 * a, secs=2.0) for k, a in zip(keys, acc)]
    records += [rec("reversed", k, -a, secs=1.0) for k, a in zip(keys, acc)]
    rows = {r["proxy"]: r for r in summarize(study(records, keys))}
    assert rows["same"]["kendall_tau"] == pytest.approx(1.0) and rows["same"]["top2_overlap"] == 1.0
    assert rows["reversed"]["kendall_tau"] == pytest.approx(-1.0) and rows["reversed"]["top2_overlap"] == 0.0
    assert rows["same"]["cost_vs_reference"] == pytest.approx(0.2)
    assert "params_m (baseline)" in rows
    text = format_report(study(records, keys), list(rows.values()))
    assert "same" in text and "1.000" in text


def test_failed_genomes_are_left_out_and_counted():
    keys = [f"g{i}" for i in range(4)]
    records = [rec("reference", k, i / 10, i / 10) for i, k in enumerate(keys)]
    records += [rec("same", k, i, status="failed" if i == 0 else "ok") for i, k in enumerate(keys)]
    records += [rec("reversed", k, -i) for i, k in enumerate(keys)]
    rows = {r["proxy"]: r for r in summarize(study(records, keys))}
    assert rows["same"]["failed"] == 1 and rows["same"]["kendall_tau"] == pytest.approx(1.0)


@pytest.mark.parametrize("section, line", [
    ({"genome": 3}, "[fidelity] unknown key 'genome' (did you mean 'genomes'?)"),
    ({"genomes": 2}, "[fidelity] genomes = 2 must be an int >= 5"),
    ({"genomes": "20"}, "[fidelity] genomes = '20' must be an int >= 5"),
    ({"sample_seed": -1}, "[fidelity] sample_seed = -1 must be a non-negative int (the seed of the random genomes)"),
    ({"n_jobs": 0}, "[fidelity] n_jobs = 0 must be an int in [1, 512] or -1"),
    ({"backend": "mpi"}, "[fidelity] backend = 'mpi' must be one of loky, threading, sequential, dask"),
    ({"top_k": 0}, "[fidelity] top_k = 0 must be an int >= 1 (the size of the top sets compared)"),
    ({"proxies": []}, "[fidelity] proxies = [] must be a non-empty list of proxy tables"),
    ({"proxies": ["synflow"]}, "[fidelity] proxies = ['synflow'] must be a non-empty list of proxy tables"),
    ({"reference": {"kind": "synflow"}},
     "[fidelity] reference kind = 'synflow' must be 'train' (the reference is a long training)"),
    ({"genomes": 6, "top_k": 7}, "[fidelity] top_k = 7 must be at most genomes = 6"),
])
def test_a_bad_fidelity_section_is_one_line_naming_key_and_value(section, line):
    with pytest.raises(ValueError) as e:
        fidelity_study({"fidelity": section})
    assert str(e.value) == line


def test_the_fidelity_defaults_and_the_shipped_config():
    from pathlib import Path

    from evo_nas.base.errors import validate
    from evo_nas.spaces.loader import read_toml
    from evo_nas.studies.proxy_fidelity import FidelityKeys

    keys = validate(FidelityKeys, {}, "fidelity")
    assert keys.model_dump() == {"genomes": 20, "sample_seed": 0, "n_jobs": 1, "backend": "loky", "top_k": 5,
                                 "proxies": [{"kind": k} for k in ("train", "synflow", "naswot", "gradnorm")],
                                 "reference": {"kind": "train", "steps": 500}}
    config = read_toml(Path(__file__).parents[1] / "experiments" / "proxy_fidelity.toml", "config")
    keys = validate(FidelityKeys, config["fidelity"], "fidelity")
    assert keys.genomes == 20 and keys.n_jobs == 2 and keys.reference == {"kind": "train", "steps": 200}
