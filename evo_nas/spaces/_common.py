"""What the FBNet (arXiv 1812.03443) and MobileNetV3 (arXiv 1905.02244) spaces share with MnasNet's
(arXiv 1807.11626): global settings, a fixed stem and head, width scaling and overrides."""
from __future__ import annotations

from .arch import SE_STYLES, HeadSpec, StemSpec, make_divisible
from .blocks import ACT_CODES
from .space import Space, SpaceError, _need

#: The global settings of a space file, in the order they are read and checked:
#: (key, attribute, type, default or None when required, check or None).
SETTINGS = (
    ("name", "name", str, None, None),
    ("resolution", "resolution", int, 224, lambda v: v >= 8),
    ("in_channels", "in_channels", int, 3, lambda v: v >= 1),
    ("num_classes", "num_classes", int, 1000, lambda v: v >= 2),
    ("width_multiplier", "width_multiplier", float, 1.0, lambda v: v > 0),
    ("channel_divisor", "divisor", int, 8, lambda v: v >= 1),
    ("act", "act", str, "relu", lambda v: v in ACT_CODES),
    ("se_style", "se_style", str, "mnasnet", lambda v: v in SE_STYLES),
)


def read_settings(space: Space, d: dict, where: str, settings=SETTINGS, **defaults) -> None:
    """Set ``space.where`` and one attribute per setting from the space definition ``d``; ``defaults``
    replace a setting's default by key. ``SpaceError`` names the first missing, mistyped or invalid one."""
    space.where = where
    for key, attr, kind, default, _ in settings:
        setattr(space, attr, _need(d, key, kind, where, defaults.get(key, default)))
    for key, attr, _, _, ok in settings:
        if ok is not None and not ok(getattr(space, attr)):
            raise SpaceError(f"{where}: {key} = {getattr(space, attr)!r} is invalid")


def check_frame(space: Space, arch, blocks: int | None = None) -> None:
    """``ValueError`` when ``arch`` does not fit ``space``'s fixed frame: its number of blocks (``blocks``,
    for a space that fixes it) and its stem's filters; the first check an ``encode`` makes."""
    if blocks is not None and len(arch.blocks) != blocks:
        raise ValueError(f"architecture has {len(arch.blocks)} blocks, space {space.name!r} has {blocks}")
    if arch.stem.out_ch != space.stem.out_ch:
        raise ValueError(f"stem has {arch.stem.out_ch} filters, space {space.name!r} has {space.stem.out_ch}")


class MacroSpace(Space):
    """A space around a fixed stem and head; subclasses declare the searched part."""

    #: whether the head's 1x1 conv is width-scaled below multiplier 1.0 (MobileNetV3: yes, MnasNet: no)
    scale_head_down: bool = False

    def _read_globals(self, d: dict, where: str, act: str = "relu", se_style: str = "mnasnet") -> None:
        read_settings(self, d, where, act=act, se_style=se_style)
        stem, head = d.get("stem", {}), d.get("head", {})
        if not isinstance(stem, dict) or not isinstance(head, dict):
            raise SpaceError(f"{where}: stem and head must be tables")
        self.stem = StemSpec(
            out_ch=self.channels(_need(stem, "filters", int, f"{where} [stem]", 32)),
            kernel=_need(stem, "kernel", int, f"{where} [stem]", 3),
            stride=_need(stem, "stride", int, f"{where} [stem]", 2),
            act=self._act(stem, f"{where} [stem]"),
        )
        filters = _need(head, "filters", int, f"{where} [head]", 1280)
        post = head.get("post_filters", 0)
        if not isinstance(post, int) or post < 0:
            raise SpaceError(f"{where} [head]: post_filters = {post!r} must be an int >= 0")
        if self.width_multiplier > 1 or self.scale_head_down:
            filters = self.channels(filters)
            post = self.channels(post) if post else 0
        post_bias = head.get("post_bias", True)
        if not isinstance(post_bias, bool):
            raise SpaceError(f"{where} [head]: post_bias = {post_bias!r} must be true or false")
        self.head = HeadSpec(filters=filters, dropout=_need(head, "dropout", float, f"{where} [head]", 0.2),
                             act=self._act(head, f"{where} [head]"), post_filters=post, post_bias=post_bias)
        if not 0 <= self.head.dropout < 1:
            raise SpaceError(f"{where}: head.dropout = {self.head.dropout} must be in [0, 1)")
        self.definition = dict(d)
        self.definition.update(resolution=self.resolution, in_channels=self.in_channels,
                               num_classes=self.num_classes, width_multiplier=self.width_multiplier)

    @staticmethod
    def _tables(d: dict, key: str, where: str, label: str) -> list[tuple[str, dict]]:
        """The non-empty list of tables ``[[key]]``, each with its place for messages (``SpaceError``)."""
        items = d.get(key)
        if not isinstance(items, list) or not items:
            raise SpaceError(f"{where}: [[{key}]] must list at least one {label}")
        out = []
        for n, table in enumerate(items, 1):
            place = f"{where} {label} {n}"
            if not isinstance(table, dict):
                raise SpaceError(f"{place}: must be a table")
            out.append((place, table))
        return out

    @staticmethod
    def _act(table: dict, where: str) -> str | None:
        act = table.get("act")
        if act is not None and act not in ACT_CODES:
            raise SpaceError(f"{where}: act = {act!r} (expected one of {', '.join(ACT_CODES)})")
        return act

    def channels(self, filters: float) -> int:
        """Width-scaled channels, rounded to the space's divisor."""
        return make_divisible(filters * self.width_multiplier, self.divisor)
