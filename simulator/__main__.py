"""``python -m simulator`` runs the ``bulkdash-sim`` command."""

import sys

from simulator.cli import main

sys.exit(main())
