"""Subcommands of ``evo-nas``; every module here defines ``register(subparsers)``."""
