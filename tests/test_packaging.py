"""The wheel installs every folder under one package, `modelledger`, and nothing at the top
of site-packages but that package: installed in a clean virtualenv, the command runs from
any directory, the server's modules import, and `schema` (another project's name) stays free."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Imports every layer of the server as an installed `modelledger serve` does.
IMPORT_ALL = (
    "from modelledger import launcher; launcher.use_own_folders(); "
    "import server, workers.actors, workers.reduction_host, cli.main, demo.loader; "
    "from routes.web_app import BUILD; assert (BUILD / 'index.html').is_file(), BUILD"
)


# What a build of the server does not read (and must not write into: setuptools builds in the tree).
NOT_BUILT = {".git", ".ci", ".venv", ".modelledger", ".hypothesis", ".mypy_cache", ".ruff_cache", "web", "tests", "bench", "docs", "clients", "build"}


def source_copy(target: Path) -> Path:
    """The checkout's files that make the server's wheel, copied to `target`."""

    def ignored(folder: str, names: list[str]) -> set[str]:
        top = NOT_BUILT if Path(folder) == REPO else set()
        return {n for n in names if n in top or n in ("__pycache__", ".pytest_cache") or n.endswith(".egg-info")}

    return Path(shutil.copytree(REPO, target, ignore=ignored))


def run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_one_package_and_runs_from_anywhere(tmp_path: Path) -> None:
    source = source_copy(tmp_path / "source")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path / "dist", source, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("modelledger-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"modelledger", f"{wheel.name.split('-py3')[0]}.dist-info"}
    assert "modelledger/launcher.py" in names and "modelledger/schema/__init__.py" in names
    assert "modelledger/setup.py" not in names

    run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    client = shutil.copytree(REPO / "clients" / "python", tmp_path / "client", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    run(bin_dir / "pip", "install", "--quiet", wheel, client, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert "Usage: modelledger" in run(bin_dir / "modelledger", "--help", cwd=elsewhere)
    assert "--data-dir" in run(bin_dir / "modelledger", "serve", "--help", cwd=elsewhere)
    run(bin_dir / "python", "-c", IMPORT_ALL, cwd=elsewhere)
    free = subprocess.run([bin_dir / "python", "-c", "import schema"], cwd=elsewhere, capture_output=True, text=True)
    assert free.returncode == 1 and "No module named 'schema'" in free.stderr
