"""The bulk API simulator (``bulkdash-sim``)."""

import bulkdash  # noqa: F401  (its package marks httpx's command-line client absent: see there)
