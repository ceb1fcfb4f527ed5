"""The ``evo-nas`` command line: subcommands live in ``evo_nas/commands/``, one module each.

Each command module defines ``register(subparsers)``, adding its parser with
``set_defaults(func=run)``. Errors from bad input become one line on stderr and exit code 2.
Ctrl-C and SIGTERM stop a command the same way (a ``KeyboardInterrupt``: files are left whole,
a search saves its state and says how to resume); the process then kills its worker pool and
exits with 130 (SIGINT) or 143 (SIGTERM), as a shell reports a process ended by that signal.
A second SIGTERM during that clean-up ends the process at once.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading

from . import commands

USER_ERRORS = (ValueError, FileNotFoundError, KeyError, OSError, MemoryError)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as an interrupt so that it is handled exactly like Ctrl-C."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evo-nas", description="Platform-aware neural architecture search by evolution.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # a private helper of a command, not a command
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as e:
        from .base.parallel import shutdown_workers

        shutdown_workers()
        if isinstance(e, Terminated):
            print("evo-nas: terminated (SIGTERM)", file=sys.stderr)
            return 128 + signal.SIGTERM
        print("evo-nas: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        # the reader went away (``evo-nas show ... | head``): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except USER_ERRORS as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        if isinstance(e, MemoryError):
            msg = f"out of memory ({e or 'no detail'}); a smaller pop_size, n_offsprings or batch needs less"
        print(f"evo-nas {args.command}: error: {msg}", file=sys.stderr)
        return 2
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
