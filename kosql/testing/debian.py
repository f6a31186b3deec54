"""Install Debian packages for tests that need a real service (PostgreSQL, Chromium).

Tests call :func:`ensure_debian_packages` from a session fixture: when every named executable is
already present nothing happens; otherwise, as root with ``apt-get`` available, it runs
``apt-get update`` once per machine and installs the packages. A file lock keeps two test processes
from running apt at the same time. Returns False (the caller skips, or fails in CI) when the
packages cannot be installed here.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

_LOCK = Path("/tmp/kosql-apt.lock")
_UPDATED = Path("/tmp/kosql-apt.updated")


def ensure_debian_packages(packages: Sequence[str], executables: Sequence[str], timeout: float = 1200) -> bool:
    """Make sure ``executables`` exist, installing ``packages`` with apt-get when they do not."""
    if all(_found(exe) for exe in executables):
        return True
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(_found(exe) for exe in executables):
            return True
        if not _UPDATED.exists():
            subprocess.run(["apt-get", "update", "-q"], check=False, env=env, timeout=timeout,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _UPDATED.touch()
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], check=False,
                       env=env, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return all(_found(exe) for exe in executables)


def _found(executable: str) -> bool:
    return shutil.which(executable) is not None or Path(executable).exists()


def postgres_bin_dir() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (initdb, pg_ctl), newest version first."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    for version in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
        if (version / "bin" / "initdb").exists():
            return version / "bin"
    return None
