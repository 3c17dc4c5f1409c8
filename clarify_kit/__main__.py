"""``python -m clarify_kit``: the same as the ``clarify-kit`` console script."""

import sys

from clarify_kit.cli import main

sys.exit(main())
