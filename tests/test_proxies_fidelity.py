"""The fidelity summary: Kendall tau and top-k overlap against the reference, on hand-made records."""
import pytest

from studies.proxy_fidelity import fidelity_study, format_report, summarize


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


def test_bad_fidelity_section():
    with pytest.raises(ValueError, match="unknown key 'genome'"):
        fidelity_study({"fidelity": {"genome": 3}})
    with pytest.raises(ValueError, match="genomes = 2"):
        fidelity_study({"fidelity": {"genomes": 2}})
