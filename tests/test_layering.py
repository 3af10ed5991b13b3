"""The core's layering is enforced (issue 17): one-way imports, wire types and effects at the
bottom, flows above, the client on top (the contracts are in ``.importlinter``)."""

from __future__ import annotations

import configparser
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def test_import_contracts_hold() -> None:
    # 0: every contract kept; the report names each broken import chain.
    assert lint_imports(config_filename=str(CONFIG), no_cache=True) == 0


def test_every_core_module_has_a_layer() -> None:
    # A new module outside the layers would escape the contract.
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    layers = parser["importlinter:contract:core-layers"]["layers"]
    named = {part.strip().removeprefix("aiogoogle.") for line in layers.splitlines() for part in line.replace("|", ":").split(":") if part.strip()}
    modules = {p.stem for p in (ROOT / "core").glob("*.py")} | {p.name for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()}
    unlayered = modules - named - {"__init__", "__main__", "__version__"}
    assert not unlayered, f"add these modules to a layer in .importlinter: {sorted(unlayered)}"
