"""The installed `modelledger` command.

An installed ModelLedger keeps its folders (domain, schema, cli ...) inside one package
directory, `modelledger`, instead of at the top of site-packages where `schema` is another
project's name (setup.py). The code imports them by their own names, so the command puts
that directory first on the module path of its own process, and only there, then runs
the command line. In the source tree the directory is the repository's root.
"""

from __future__ import annotations

import os
import sys


def use_own_folders() -> None:
    """Put the directory holding the server's folders first on this process's module path."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)


def main() -> None:
    use_own_folders()
    from cli.main import app

    app()


if __name__ == "__main__":
    main()
