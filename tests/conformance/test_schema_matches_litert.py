"""src/litert/schema.fbs against the LiteRT schema that ai-edge-litert ships.

Our schema file is our own text, but what it encodes is the format: enum
values, union member order (a member's position is its type code), and the
slot, type and default of every table field. This test compiles our schema
with Debian's flatc into Python, then compares the generated code with
`ai_edge_litert.schema_py_generated` (the real schema, compiled by upstream):

- enums and unions: the full name -> value mapping;
- tables: for every accessor, the vtable offset it reads (4 + 2 * slot), the
  scalar type it reads, what kind of field it is, and its default; and every
  accessor of the real table must exist in ours, so an empty table of ours
  is only accepted where the format's table is empty too.

One more case mutates a copy of the schema and checks that the comparison
catches it, so a comparison that silently matches nothing cannot pass.
"""
from __future__ import annotations

import importlib
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ai_edge_litert import schema_py_generated as real

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "src" / "litert" / "schema.fbs"
FLATC = "/usr/bin/flatc" if Path("/usr/bin/flatc").exists() else shutil.which("flatc")
PACKAGE = "k2l.litert.fb"  # flatc's Python package for `namespace k2l.litert.fb;`

# Enums and unions that must be declared (and equal).
KEY_ENUMS = ["TensorType", "BuiltinOperator", "BuiltinOptions", "BuiltinOptions2",
             "ActivationFunctionType", "Padding", "QuantizationDetails",
             "CustomOptionsFormat", "FullyConnectedOptionsWeightsFormat"]
# Tables the writer fills in: they must be declared with all their fields.
KEY_TABLES = ["Model", "SubGraph", "Tensor", "Buffer", "Operator", "OperatorCode",
              "SignatureDef", "TensorMap", "Metadata", "QuantizationParameters"]

pytestmark = pytest.mark.skipif(FLATC is None, reason="flatc not installed")


# --------------------------------------------------------------------------
# Loading both schemas as {name: class}

def _is_table(cls):
    return hasattr(cls, "Init") and hasattr(cls, "GetRootAs")


def _real_types():
    enums, tables = {}, {}
    for name, cls in vars(real).items():
        if not inspect.isclass(cls) or cls.__module__ != real.__name__:
            continue
        if _is_table(cls):
            tables[name] = cls
        elif not hasattr(cls, "InitFromBuf"):  # skip object-API classes (FooT)
            enums[name] = cls
    return enums, tables


def _purge_package():
    root = PACKAGE.split(".")[0]
    for mod in [m for m in sys.modules if m == root or m.startswith(root + ".")]:
        del sys.modules[mod]


def _compile_python(schema: Path, out: Path):
    """Compiles `schema` to Python under `out`; returns (enums, tables)."""
    subprocess.run([FLATC, "--python", "-o", str(out), str(schema)],
                   check=True, capture_output=True, text=True)
    pkg_dir = out.joinpath(*PACKAGE.split("."))
    names = sorted(p.stem for p in pkg_dir.glob("*.py") if p.stem != "__init__")
    assert names, f"flatc produced no modules under {pkg_dir}"
    _purge_package()
    sys.path.insert(0, str(out))
    try:
        classes = {n: getattr(importlib.import_module(f"{PACKAGE}.{n}"), n)
                   for n in names}
    finally:
        sys.path.remove(str(out))
        _purge_package()
    enums = {n: c for n, c in classes.items() if not _is_table(c)}
    tables = {n: c for n, c in classes.items() if _is_table(c)}
    return enums, tables


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    return _compile_python(SCHEMA, tmp_path_factory.mktemp("schema_py"))


@pytest.fixture(scope="module")
def theirs():
    return _real_types()


# --------------------------------------------------------------------------
# What is compared

def enum_members(cls):
    return {k: v for k, v in vars(cls).items()
            if not k.startswith("_") and isinstance(v, int)}


_KINDS = ("String", "Indirect", "Union", "Vector", "GetVectorAsNumpy", "bool(")


def accessors(cls):
    """accessor name -> (vtable offset, scalar types read, kind, default)."""
    out = {}
    for name, fn in inspect.getmembers(cls, inspect.isfunction):
        src = inspect.getsource(fn)
        m = re.search(r"self\._tab\.Offset\((\d+)\)", src)
        if not m:
            continue
        flags = tuple(sorted(set(re.findall(r"number_types\.(\w+Flags)", src))
                             - {"UOffsetTFlags"}))
        kind = tuple(k for k in _KINDS if k in src)
        returns = re.findall(r"^\s*return (.+?)\s*$", src, re.M)
        out[name] = (int(m.group(1)), flags, kind, returns[-1] if returns else None)
    return out


def enum_problems(name, mine, real_cls):
    a, b = enum_members(mine), enum_members(real_cls)
    if a == b:
        return []
    diff = sorted(set(a.items()) ^ set(b.items()), key=lambda kv: (kv[1], kv[0]))
    return [f"enum {name}: differs in {diff}"]


def table_problems(name, mine, real_cls):
    problems = []
    a, b = accessors(mine), accessors(real_cls)
    for acc, sig in sorted(a.items()):
        if acc not in b:
            problems.append(f"{name}.{acc}: not in the format")
        elif sig != b[acc]:
            problems.append(f"{name}.{acc}: ours (offset, types, kind, default) "
                            f"{sig} != format {b[acc]}")
    for acc in sorted(set(b) - set(a)):
        problems.append(f"{name}.{acc}: missing (format reads vtable offset {b[acc][0]})")
    return problems


# --------------------------------------------------------------------------
# Tests

def test_compiles_for_cpp_with_scoped_enums(tmp_path):
    proc = subprocess.run([FLATC, "--cpp", "--scoped-enums", "-o", str(tmp_path),
                           str(SCHEMA)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    header = (tmp_path / "schema_generated.h").read_text()
    assert "namespace k2l" in header and "namespace fb" in header


def test_header_facts():
    text = re.sub(r"//[^\n]*", "", SCHEMA.read_text())
    assert re.search(r"^namespace k2l\.litert\.fb;", text, re.M)
    assert re.search(r'^file_identifier "TFL3";', text, re.M)
    assert re.search(r'^file_extension "tflite";', text, re.M)
    assert re.search(r"^root_type Model;", text, re.M)
    # Alignment is invisible in the generated Python, so read it here.
    buf = re.search(r"table Buffer\s*\{([^}]*)\}", text).group(1)
    assert re.search(r"data\s*:\s*\[ubyte\]\s*\(force_align:\s*16\)", buf), buf


def test_file_identifier_matches(ours):
    _, tables = ours
    pattern = r'BufferHasIdentifier\(buf, offset, (b"[^"]+")'
    ident = re.search(pattern, inspect.getsource(tables["Model"].ModelBufferHasIdentifier))
    real_ident = re.search(pattern, inspect.getsource(real.Model.ModelBufferHasIdentifier))
    assert ident and real_ident and ident.group(1) == real_ident.group(1)


def test_key_types_declared(ours):
    enums, tables = ours
    assert not [e for e in KEY_ENUMS if e not in enums]
    assert not [t for t in KEY_TABLES if t not in tables]


def test_nothing_invented(ours, theirs):
    """Every enum, union and table of ours exists in the format."""
    enums, tables = ours
    real_enums, real_tables = theirs
    assert sorted(set(enums) - set(real_enums)) == []
    assert sorted(set(tables) - set(real_tables)) == []


def test_enums_and_unions(ours, theirs):
    enums, _ = ours
    real_enums, _ = theirs
    compared = sorted(set(enums) & set(real_enums))
    assert set(KEY_ENUMS) <= set(compared)
    problems = [p for n in compared for p in enum_problems(n, enums[n], real_enums[n])]
    assert not problems, "\n".join(problems)


def test_union_members_are_declared_tables(ours):
    enums, tables = ours
    for union in ("BuiltinOptions", "BuiltinOptions2", "QuantizationDetails",
                  "SparseIndexVector"):
        members = [m for m, v in enum_members(enums[union]).items() if v != 0]
        assert members and not [m for m in members if m not in tables], union


def test_tables(ours, theirs):
    _, tables = ours
    _, real_tables = theirs
    problems = []
    compared = 0
    for name in sorted(tables):
        if name not in real_tables:
            continue  # reported by test_nothing_invented
        compared += len(accessors(tables[name]))
        problems += table_problems(name, tables[name], real_tables[name])
    assert compared > 500, f"only {compared} accessors compared"
    assert not problems, "\n".join(problems)


def test_key_tables_have_every_field(ours):
    """The tables the writer fills, spelled out (test_tables covers all)."""
    _, tables = ours
    for name in KEY_TABLES:
        assert set(accessors(tables[name])) == set(accessors(getattr(real, name))), name
    fc = accessors(tables["FullyConnectedOptions"])
    assert {"WeightsFormat", "KeepNumDims", "AsymmetricQuantizeInputs",
            "QuantizedBiasType"} <= set(fc)
    assert accessors(tables["OperatorCode"])["Version"][3] == "1"
    assert accessors(tables["Buffer"])["Offset"][1] == ("Uint64Flags",)


def test_comparison_catches_a_wrong_schema(tmp_path):
    """Swapped fields, a wrong enum value and a wrong default must all show."""
    text = SCHEMA.read_text()
    bad = text.replace("  stride_w:int;\n  stride_h:int;\n  fused_activation_function",
                       "  stride_h:int;\n  stride_w:int;\n  fused_activation_function", 1)
    bad = bad.replace("FLOAT8_E5M2 = 22", "FLOAT8_E5M2 = 23", 1)
    bad = re.sub(r"(table OperatorCode \{[^}]*version:int) = 1", r"\1 = 2", bad, 1)
    assert bad.count("\n") == text.count("\n") and bad != text
    path = tmp_path / "schema.fbs"
    path.write_text(bad)
    enums, tables = _compile_python(path, tmp_path / "py")
    problems = enum_problems("TensorType", enums["TensorType"], real.TensorType)
    problems += table_problems("Conv2DOptions", tables["Conv2DOptions"], real.Conv2DOptions)
    problems += table_problems("OperatorCode", tables["OperatorCode"], real.OperatorCode)
    text_of = "\n".join(problems)
    assert "enum TensorType" in text_of
    assert "Conv2DOptions.StrideW" in text_of and "Conv2DOptions.StrideH" in text_of
    assert "OperatorCode.Version" in text_of
