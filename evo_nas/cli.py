"""The ``evo-nas`` command line: subcommands live in ``evo_nas/commands/``, one module each.

Each command module defines ``register(subparsers)``, adding its parser with
``set_defaults(func=run)``. Errors from bad input become one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import commands

USER_ERRORS = (ValueError, FileNotFoundError, KeyError, OSError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evo-nas", description="Platform-aware neural architecture search by evolution.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("evo-nas: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"evo-nas {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
