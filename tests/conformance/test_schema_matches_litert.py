"""Our schema subset (src/litert/schema.fbs) against the schema ai-edge-litert
ships: every enum value, every union member's index, and every field slot of
every table we declare with fields must be the format's."""
import importlib
import inspect
import re
import subprocess
import sys

import pytest
from ai_edge_litert import schema_py_generated as real

from harness import REPO

SCHEMA = REPO / "src" / "litert" / "schema.fbs"
ENUMS = ["TensorType", "BuiltinOperator", "BuiltinOptions", "BuiltinOptions2",
         "ActivationFunctionType", "Padding", "QuantizationDetails",
         "FullyConnectedOptionsWeightsFormat", "CustomOptionsFormat",
         "DimensionType", "SparseIndexVector"]


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema_py")
    subprocess.run(["flatc", "--python", "-o", str(out), str(SCHEMA)], check=True)
    sys.path.insert(0, str(out))
    try:
        yield lambda name: getattr(
            importlib.import_module(f"k2l.litert.fb.{name}"), name)
    finally:
        sys.path.remove(str(out))


def _members(cls):
    return {k: v for k, v in vars(cls).items() if not k.startswith("_")}


@pytest.mark.parametrize("name", ENUMS)
def test_enum_values(ours, name):
    assert _members(ours(name)) == _members(getattr(real, name))


def _slots(cls):
    """accessor name -> vtable offset, read from the generated accessors."""
    slots = {}
    for name, fn in inspect.getmembers(cls, inspect.isfunction):
        m = re.search(r"\.Offset\((\d+)\)", inspect.getsource(fn))
        if m:
            slots[name] = int(m.group(1))
    return slots


def _declared_tables():
    text = SCHEMA.read_text()
    return [m.group(1) for m in re.finditer(r"^table (\w+) \{(?!\})", text, re.M)]


@pytest.mark.parametrize("table", _declared_tables())
def test_table_fields(ours, table):
    mine, theirs = _slots(ours(table)), _slots(getattr(real, table))
    assert mine, f"{table} declares no fields"
    for accessor, offset in mine.items():
        assert theirs.get(accessor) == offset, (table, accessor)
    # Tables we write must not miss any of the format's fields.
    assert set(mine) == set(theirs), (table, set(theirs) - set(mine))
