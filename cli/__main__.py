"""``python -m cli``: the same as the ``clarify-kit`` console script."""

import sys

from cli.commands import main

sys.exit(main())
