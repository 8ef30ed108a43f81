"""The package's shape, checked statically: what a reader relies on to find their way (see README, Layout)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"gatescope": "gatescope", "asr": "gatescope.asr", "noise": "gatescope.noise", "analysis": "gatescope.analysis"}
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    return sorted(p for part in PARTS for p in (ROOT / part).rglob("*.py") if "__pycache__" not in p.parts)


def _public_defs(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Module-level functions and classes, and the methods of public classes, whose names do not start with _."""
    found: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            found.append(node)
            if isinstance(node, ast.ClassDef):
                found += [
                    m for m in node.body
                    if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and not m.name.startswith("_")
                    and not any(isinstance(d, ast.Name) and d.id == "property" for d in m.decorator_list)
                ]  # fmt: skip
    return found


def test_asr_has_few_top_level_modules_and_documented_subpackages() -> None:
    modules = sorted(p.name for p in (ROOT / "asr").glob("*.py"))
    assert len(modules) <= 8, modules
    for init in [*ROOT.glob("*/**/__init__.py")]:
        if init.parts[len(ROOT.parts)] in PARTS:
            assert ast.get_docstring(ast.parse(init.read_text())), f"{init.relative_to(ROOT)} has no docstring"


def test_files_and_functions_stay_small() -> None:
    too_long = []
    for path in _sources():
        text = path.read_text()
        if len(text.splitlines()) > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(too_long)


def test_every_public_function_and_class_has_a_docstring() -> None:
    missing = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in _sources()
        for node in _public_defs(ast.parse(path.read_text()))
        if not ast.get_docstring(node)
    ]
    assert not missing, f"{len(missing)} without a docstring:\n" + "\n".join(missing)


def test_pyproject_lists_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {v: k for k, v in config["package-dir"].items()}
    listed = set(config["packages"])
    on_disk = set()
    for top, name in folders.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            on_disk.add(".".join([name, *rel]))
    assert on_disk - listed == set(), "packages missing from pyproject.toml"
    assert listed - on_disk <= {"gatescope.conf"}, "pyproject.toml lists packages that do not exist"


def test_command_line_starts_without_heavy_imports() -> None:
    """``gatescope --help`` stays fast: the command line imports no torch, numpy or Lightning to build its parser."""
    code = "import sys; from gatescope.cli import build_parser; build_parser(); print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    )
    assert not loaded & {"torch", "numpy", "pytorch_lightning", "torchaudio", "scipy"}


@pytest.mark.parametrize("recipe", sorted(p.parent.name for p in ROOT.glob("recipes/*/run.sh")))
def test_recipe_configs_live_with_their_recipe(recipe: str) -> None:
    text = (ROOT / "recipes" / recipe / "run.sh").read_text()
    assert "../../conf/" not in text
    for config in (ROOT / "recipes" / recipe / "conf").glob("*.yaml"):
        assert not (ROOT / "conf" / config.name).exists() or config.name in {"fbank.yaml", "mfcc.yaml"}
