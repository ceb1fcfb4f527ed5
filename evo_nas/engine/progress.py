"""Per-generation progress: a tqdm bar with evaluations, cache hits, failures and hypervolume."""
from __future__ import annotations

import sys


class Progress:
    def __init__(self, total: int | None, unit: str, quiet: bool = False, initial: int = 0, desc: str = "search"):
        self.quiet = quiet
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit=unit, desc=desc, file=sys.stderr,
                            dynamic_ncols=True, leave=True)

    def update(self, n: int, entry: dict) -> None:
        if self.bar is None:
            return
        hv = entry.get("hypervolume")
        self.bar.set_postfix_str(
            f"evals={entry['evaluations']} hits={entry['cache_hits_total']} fails={entry['failures_total']} "
            f"front={entry['front_size']} hv={'-' if hv is None else f'{hv:.4g}'}", refresh=False)
        self.bar.update(n)

    def write(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
