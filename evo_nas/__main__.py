"""``python -m evo_nas``: the ``evo-nas`` command line."""
import sys

from .cli import main

sys.exit(main())
