"""``python -m bulkdash``: the same as the ``bulkdash`` command (``bulkdash serve`` starts tabs this way)."""

import sys

from bulkdash.cli import main

sys.exit(main())
