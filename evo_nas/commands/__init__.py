"""Subcommands of ``evo-nas``; every public module here defines ``register(subparsers)`` (``_name``: a helper)."""
