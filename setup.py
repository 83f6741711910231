"""Packaging: the server's folders are installed as sub-packages of one package,
`modelledger`, so no folder's name (schema, domain, cli ...) lands at the top of
site-packages, where it could replace or be replaced by another project's module. The
`modelledger` command (launcher.py) puts that package's directory on its own module path.
The rest of the configuration is in pyproject.toml.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

FOLDERS = ["domain", "application", "storage", "projections", "schema", "routes", "workers", "cli", "demo"]
FOUND = find_packages(include=[f"{folder}*" for folder in FOLDERS])



class BuildPy(build_py):
    """Leaves this file out: it is the only module of the root that is not the server's."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        found = super().find_package_modules(package, package_dir)
        return [m for m in found if (m[0], m[1]) != ("modelledger", "setup")]


setup(
    cmdclass={"build_py": BuildPy},
    # The repository's root is the package `modelledger`: its modules (server, runtime,
    # launcher) and its folders, each a sub-package.
    package_dir={"modelledger": "."},
    packages=["modelledger", *(f"modelledger.{name}" for name in FOUND)],
)
