"""Where kosql keeps what it makes once and reuses (converted models, the bundled dataset)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$KOSQL_CACHE_DIR`` when set, else the platform's user cache folder for kosql."""
    override = os.environ.get("KOSQL_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("kosql"))
