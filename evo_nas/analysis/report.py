"""Plain-text tables: an architecture block by block (``evo-nas show``) and a Pareto set (``search``, ``pareto``)."""
from __future__ import annotations

from ..spaces.arch import Architecture, conv_out, to_architecture
from ..spaces.costs import head_cost, layer_cost, stem_cost

OP_NAMES = {"cn": "Conv", "ds": "SepConv", "ir": "MBConv", "skip": "Skip"}


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def architecture_table(obj) -> str:
    """Per-block table: op, kernel, SE, skip, filters, layers, resolution, params, MACs."""
    a: Architecture = to_architecture(obj).canonical()
    layers = a.layers()
    rows = []
    stem = stem_cost(a)
    res = conv_out(a.resolution, a.stem.kernel, a.stem.stride)
    rows.append(["stem", f"Conv{a.stem.kernel}x{a.stem.kernel}", "-", "-", f"{a.in_channels}->{a.stem.out_ch}", "1",
                 f"{a.resolution}->{res}", f"{stem.params:,}", f"{stem.macs / 1e6:.2f}M"])
    i = 0
    for n, b in enumerate(a.blocks, 1):
        ls = layers[i:i + b.repeats]
        i += b.repeats
        p = sum(layer_cost(x).params for x in ls)
        m = sum(layer_cost(x).macs for x in ls)
        op = OP_NAMES[b.op] + (f"{b.mid(b.in_ch) / b.in_ch:g}" if b.op == "ir" else "")
        skip = ",".join(sorted({x.shortcut for x in ls}))
        out_res = conv_out(ls[0].resolution, b.kernel, b.stride) if b.op != "skip" else ls[0].resolution
        rows.append([f"block {n}", f"{op} {b.kernel}x{b.kernel}" if b.op != "skip" else op,
                     f"{b.se_ratio:g}" if b.se_ratio else "-", skip,
                     f"{b.in_ch}->{b.out_ch}", str(b.repeats), f"{ls[0].resolution}->{out_res}",
                     f"{p:,}", f"{m / 1e6:.2f}M"])
    head = head_cost(a)
    widths = [a.feature_channels, a.head.filters] + ([a.head.post_filters] if a.head.post_filters else [])
    op = "Conv1x1+pool+Conv1x1+FC" if a.head.post_filters else "Conv1x1+pool+FC"
    rows.append(["head", op, "-", "-", "->".join(map(str, widths + [a.num_classes])), "1",
                 f"{a.output_resolution()}->1", f"{head.params:,}", f"{head.macs / 1e6:.2f}M"])
    total_p = stem.params + head.params + sum(layer_cost(x).params for x in layers)
    total_m = stem.macs + head.macs + sum(layer_cost(x).macs for x in layers)
    rows.append(["total", "", "", "", "", str(len(layers)), "", f"{total_p:,}", f"{total_m / 1e6:.2f}M"])
    header = ["", "op", "SE", "skip", "channels", "layers", "resolution", "params", "MACs"]
    return f"{a.to_string()}\n\n" + _table(rows, header)


def _short(key: str, width: int = 60) -> str:
    return key if len(key) <= width else key[:width - 3] + "..."


def front_table(front: list[dict], objectives, full_keys: bool = False) -> str:
    """A Pareto set as a table: #, each objective, each constrained quantity (a latency target, ``[constraints]``),
    params_m, macs_m, generation, genome (shortened unless ``full_keys``)."""
    constrained = (["latency_ms"] if objectives.latency_target_ms is not None else []) + \
        [name for name, _, _ in objectives.limits]
    cols = list(dict.fromkeys([*objectives.names, *constrained, "params_m", "macs_m"]))
    rows = []
    for n, r in enumerate(front, 1):
        vals = []
        for c in cols:
            v = r.get(c)
            vals.append("-" if v is None else (f"{v:.4f}" if c in objectives.maximize else f"{v:.3f}"))
        rows.append([str(n), *vals, str(r.get("generation", "")), r["key"] if full_keys else _short(r["key"])])
    return _table(rows, ["#", *cols, "gen", "genome"])
