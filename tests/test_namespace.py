"""polyalign installs as one namespace, ``polyalign.align``, ``polyalign.translate``, ``polyalign.tei``: no
top-level name of its own can replace another distribution's (translate-toolkit's ``translate``, PyPI's
``align``), and no module is loaded twice under two names."""
from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("align", "translate", "tei")


def _python_files() -> list[Path]:
    return sorted(p for top in (*FOLDERS, "tests", "samples") for p in (REPO / top).rglob("*.py"))


def _bare_imports(path: Path) -> list[str]:
    """Imports of a folder by its bare name (``from align.x import y``, ``import tei``) in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
        found += [f"{path.relative_to(REPO)}:{node.lineno}: {name}" for name in names
                  if name.split(".")[0] in FOLDERS]
    return found


def test_no_file_imports_a_folder_by_its_bare_name():
    assert [hit for path in _python_files() for hit in _bare_imports(path)] == []


def test_the_bare_import_check_finds_one(tmp_path):
    bad = REPO / "tests" / "_bare_import_probe.py"
    try:
        bad.write_text("from align.pipeline import read_inputs\nimport tei.writer as w\n", encoding="utf-8")
        assert [hit.split(": ")[1] for hit in _bare_imports(bad)] == ["align.pipeline", "tei.writer"]
    finally:
        bad.unlink()


def test_every_module_loads_under_polyalign_only():
    """Import all of polyalign, then look at what Python holds: nothing under a bare folder name."""
    for folder in FOLDERS:
        package = importlib.import_module(f"polyalign.{folder}")
        for module in pkgutil.walk_packages(package.__path__, f"polyalign.{folder}."):
            importlib.import_module(module.name)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in FOLDERS:
            where = getattr(module, "__file__", None) or ""
            assert not where.startswith(str(REPO)), f"{name} was loaded from {where}, outside polyalign's namespace"


def _fresh_venv(where: Path) -> Path:
    """A new virtual environment that sees this one's packages after its own, so that installing polyalign
    needs no network and no torch; translate-toolkit goes into the new one itself, where a clash would hurt."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = where / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    Path(own, "zz_polyalign_test_base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    from importlib.metadata import version

    _pip(python, "install", "--no-deps", "--ignore-installed", f"translate-toolkit=={version('translate-toolkit')}")
    return python


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run([str(python), "-m", "pip", "-q", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


CHECK = """
import sys, translate, polyalign.align.cli, polyalign.translate.engines
from translate.storage import tmx
assert translate.__file__.startswith(sys.prefix), translate.__file__
assert hasattr(tmx, "tmxfile")
print(polyalign.translate.engines.__file__)
"""


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["install", "editable"])
def test_installs_beside_translate_toolkit(tmp_path, editable):
    from importlib.metadata import PackageNotFoundError, distribution

    try:  # not by importing it: pytest puts the repository's root, with its folder translate/, first on sys.path
        distribution("translate-toolkit")
    except PackageNotFoundError:
        pytest.skip("translate-toolkit (the 'test' extra) is not installed")
    python = _fresh_venv(tmp_path / "venv")
    _pip(python, "install", "--no-deps", "--ignore-installed", *(["-e"] if editable else []), str(REPO))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    check = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(str(REPO) if editable else str(tmp_path / "venv"))
    polyalign = tmp_path / "venv" / "bin" / "polyalign"
    run = subprocess.run([str(polyalign), "align", str(REPO / "samples" / "ojo.es.txt"),
                          str(REPO / "samples" / "ojo.en.txt"), "--no-translate", "-f", "beads",
                          "-o", str(tmp_path / "ojo.txt")], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "ojo.txt").read_text().count(":[") > 5
