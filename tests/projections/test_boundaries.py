"""The read side does not depend on the command side: importing every module of `projections`
imports nothing of `application` (both build on `domain` and `storage.event_log`)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import projections
for module in pkgutil.walk_packages(projections.__path__, "projections."):
    importlib.import_module(module.name)
print(sorted(m for m in sys.modules if m == "application" or m.startswith("application.")))
"""


def test_no_projection_module_imports_the_command_side() -> None:
    # A fresh interpreter: this process has long imported the command side for other tests.
    found = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
