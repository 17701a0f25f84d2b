"""``python -m mtd``: the same as the ``mtd`` console script."""

import sys

from .cli import main

sys.exit(main())
