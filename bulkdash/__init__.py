"""bulkdash: a terminal dashboard for Weavr's Multi API bulk processes, and its simulator's shared parts."""

import sys

# httpx's package imports its command-line client whenever click and rich are importable (they are: uvicorn
# brings click, Textual brings rich), a command bulkdash never runs. It cost ~20 ms of every dashboard start
# after the first frame and ~45 ms of the embedded simulator's own process (rich's console and highlighter;
# python -X importtime). Marked absent, that import fails at once and httpx defines a stub ``main`` instead.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
