"""``evo-nas data``: the benchmark data files, where each comes from, its licence, and whether it is here.

``evo-nas data`` lists every declared file and where it was found (``EVO_NAS_DATA``, the cache,
or missing); ``info B`` prints a benchmark's source, licence and citation; ``verify`` checks the
SHA-256 of every file present; ``fetch B`` downloads what is missing into the cache; ``import B
FOLDER`` copies a benchmark's files from a folder (laid out like the mirror's ``B/``) into the
cache, each checked first.
"""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("data", help="list, verify, fetch or import benchmark data files",
                       description="Benchmark data files are never shipped: each is declared with its source URL, "
                                   "SHA-256, licence and citation, and read from $EVO_NAS_DATA (a mirror folder), "
                                   "the cache ($EVO_NAS_CACHE), or downloaded on first use.")
    p.add_argument("action", nargs="?", default="list", choices=("list", "info", "verify", "fetch", "import"),
                   help="list (default), info, verify, fetch or import")
    p.add_argument("benchmark", nargs="?", help="a benchmark name (all of them when omitted, except for import)")
    p.add_argument("folder", nargs="?", help="import: the folder holding the benchmark's files")
    p.add_argument("--data-dir", help="a mirror folder searched before $EVO_NAS_DATA")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.report import _table
    from ..problems import benchdata

    names = [benchdata.benchmark(args.benchmark).name] if args.benchmark else list(benchdata.BENCHMARKS)
    if args.action == "import":
        if not args.benchmark or not args.folder:
            raise ValueError("usage: evo-nas data import BENCHMARK FOLDER")
        done = benchdata.import_folder(args.benchmark, args.folder)
        print(f"imported {len(done)} file(s) of {args.benchmark} into {benchdata.cache_root() / args.benchmark}")
        return 0
    if args.folder:
        raise ValueError(f"unexpected argument {args.folder!r} (a folder is read by import only)")
    if args.action == "info":
        for name in names:
            b = benchdata.benchmark(name)
            print(f"{b.name}: {b.title}\n  source:   {b.source}\n  licence:  {b.licence}\n  cite:     {b.citation}")
            for f in b.files:
                how = (f"built from {f.built_from}'s files when absent" if f.built_from
                       else "no download of its own: read from a mirror or imported")
                print(f"  {f.name}\n    sha256 {f.sha256}\n    {f.url or how}")
        return 0
    if args.action == "fetch":
        for name in names:
            paths = benchdata.fetch(name, args.data_dir)
            print(f"{name}: {len(paths)} file(s) present and checked")
        return 0
    verify = args.action == "verify"
    rows, bad = [], 0
    for name in names:
        for r in benchdata.status(name, args.data_dir, verify=verify):
            ok = r.get("ok")
            bad += ok is False
            state = "missing" if r["where"] is None else ("HASH MISMATCH" if ok is False else "ok" if ok else "present")
            rows.append([r["benchmark"], r["file"], state, r["where"] or "-",
                         "download" if r["url"] else f"built from {r['built_from']}" if r["built_from"]
                         else "mirror/import"])
    print(_table(rows, ["benchmark", "file", "state", "found in", "source"]))
    mirror = benchdata.mirror_root()
    print(f"\n{benchdata.ENV_MIRROR}: {mirror or '(unset)'}   cache: {benchdata.cache_root()}")
    if bad:
        raise ValueError(f"{bad} file(s) do not match their declared SHA-256: remove them and fetch or import again")
    return 0
