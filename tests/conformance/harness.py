"""Conformance harness: real Keras in, our CLI, real LiteRT out.

Every case: save the model with real Keras (.keras, and .h5 where asked),
convert it with the keras2litert CLI, load the result in ai-edge-litert,
and compare each named output with Keras `predict`. It also asserts that the
file holds builtin ops only, that the signature carries the Keras names, and
that the batch dimension can be resized.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert import schema_py_generated as schema  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from tolerances import FP32, RUNTIME_AGREEMENT  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("K2L_CLI", REPO / "build" / "release" / "keras2litert"))

_CODE_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items()
               if not k.startswith("_")}


def run_cli(*args, check=False):
    """Runs the CLI; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([str(CLI), *map(str, args)], capture_output=True,
                          text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"keras2litert {' '.join(map(str, args))} failed "
            f"({proc.returncode}):\n{proc.stderr}")
    return proc


def op_names(tflite_path) -> list[str]:
    """The operator codes of a .tflite file, read with LiteRT's own schema."""
    buf = Path(tflite_path).read_bytes()
    model = schema.Model.GetRootAsModel(buf, 0)
    names = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        name = _CODE_NAMES.get(code, str(code))
        if oc.CustomCode():
            name += ":" + oc.CustomCode().decode()
        names.append(name)
    return names


def assert_builtin_only(tflite_path):
    for name in op_names(tflite_path):
        assert not name.startswith("CUSTOM") and "Flex" not in name, (
            f"{tflite_path} contains a non-builtin op: {name}")


def _input_names(model) -> list[str]:
    """Signature input names: dict keys, else the Input layers' names."""
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, dict):
        return list(struct)
    return [t._keras_history[0].name for t in model.inputs]


def _keras_inputs(model, feeds: dict):
    """Arranges named feeds the way the model's input structure expects."""
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, dict):
        return {k: feeds[k] for k in struct}
    names = _input_names(model)
    if len(names) == 1:
        return feeds[names[0]]
    return [feeds[n] for n in names]


def _output_names(model) -> list[str]:
    """Output layer names, deduplicated the way the converter does."""
    names, used = [], set()
    for t in model.outputs:
        operation, _, tensor_index = t._keras_history
        name = operation.name + (f"_{tensor_index}" if tensor_index else "")
        unique, k = name, 1
        while unique in used:
            unique, k = f"{name}_{k}", k + 1
        used.add(unique)
        names.append(unique)
    return names


def _keras_outputs(model, result) -> dict:
    """Names Keras outputs the way the converter names signature outputs."""
    if isinstance(result, dict):
        return {k: np.asarray(v) for k, v in result.items()}
    outs = result if isinstance(result, (list, tuple)) else [result]
    names = _output_names(model)
    assert len(names) == len(outs), (names, len(outs))
    return {n: np.asarray(o) for n, o in zip(names, outs)}


def random_feeds(model, batch, seed=0, int_high=10) -> dict:
    rng = np.random.default_rng(seed)
    feeds = {}
    struct = getattr(model, "_inputs_struct", None)
    tensors = list(struct.values()) if isinstance(struct, dict) else model.inputs
    for name, t in zip(_input_names(model), tensors):
        shape = [batch] + [d if d is not None else 7 for d in t.shape[1:]]
        if "int" in str(t.dtype):
            feeds[name] = rng.integers(0, int_high, size=shape).astype(t.dtype)
        else:
            feeds[name] = rng.standard_normal(shape).astype("float32")
    return feeds


def _file_safe(name: str) -> str:
    """The file name `keras2litert run` gives an output's .npy."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "output"


def run_native(tflite_path, feeds: dict, signature=None, threads=1) -> dict:
    """Runs a .tflite through our runtime (the CLI's `run`)."""
    with tempfile.TemporaryDirectory() as d:
        args = ["run", tflite_path, "-d", Path(d) / "out", "-t", threads]
        if signature:
            args += ["-s", signature]
        for i, (name, value) in enumerate(feeds.items()):
            path = Path(d) / f"in{i}.npy"
            np.save(path, np.ascontiguousarray(value).reshape(np.shape(value)))
            args += ["-i", f"{name}={path}"]
        proc = run_cli(*args, check=True)
        outs = {}
        for line in proc.stdout.splitlines():
            m = re.match(r"  output (.*?): ", line)
            if m:
                name = m.group(1)
                outs[name] = np.load(Path(d) / "out" / f"{_file_safe(name)}.npy")
        return outs


def run_litert(tflite_path, feeds: dict, native=True) -> dict:
    """Runs ai-edge-litert; unless `native` is False, also runs our runtime
    on the same inputs and asserts that the two agree."""
    interp = Interpreter(model_path=str(tflite_path))
    runner = interp.get_signature_runner("serving_default")
    got = {k: np.asarray(v) for k, v in runner(**feeds).items()}
    if native:
        ours = run_native(tflite_path, feeds, "serving_default")
        assert set(ours) == set(got), (sorted(ours), sorted(got))
        for k, v in got.items():
            assert ours[k].shape == v.shape and ours[k].dtype == v.dtype, (
                f"{tflite_path}: output {k}: ours {ours[k].dtype}"
                f"{ours[k].shape}, ai-edge-litert {v.dtype}{v.shape}")
            np.testing.assert_allclose(
                ours[k], v, **RUNTIME_AGREEMENT,
                err_msg=f"{tflite_path}: our runtime vs ai-edge-litert, "
                        f"output {k}")
    return got


def compare(expected: dict, actual: dict, atol, rtol, label=""):
    assert set(expected) == set(actual), (
        f"{label}: signature outputs {sorted(actual)} != Keras {sorted(expected)}")
    for name, want in expected.items():
        got = actual[name]
        # NaN compares equal to NaN below; a case must not pass on NaNs.
        if np.issubdtype(want.dtype, np.floating):
            assert np.isfinite(want).all(), (
                f"{label}: Keras output {name} is not finite; fix the case")
        assert got.shape == want.shape, (
            f"{label}: output {name} has shape {got.shape}, Keras {want.shape}")
        np.testing.assert_allclose(got, want.astype(got.dtype), atol=atol,
                                   rtol=rtol, err_msg=f"{label}: output {name}")


def check_model(model, tmp_path, feeds=None, *, formats=("keras",),
                tol=FP32, batches=(2, 4), name="model", feeds_fn=None):
    """Converts `model` from each format and compares it with Keras.

    `feeds` maps input names to arrays of the first batch size; by default
    random inputs are drawn for each batch size in `batches` (the second one
    checks that the batch dimension resizes).
    """
    tmp_path = Path(tmp_path)
    results = {}
    for fmt in formats:
        src = tmp_path / f"{name}.{fmt}"
        model.save(src)
        out = tmp_path / f"{name}_{fmt}.tflite"
        run_cli("convert", src, "-o", out, check=True)
        assert_builtin_only(out)
        interp = Interpreter(model_path=str(out))
        sig = interp.get_signature_list()["serving_default"]
        assert sorted(sig["inputs"]) == sorted(_input_names(model)), sig
        for i, batch in enumerate(batches):
            if feeds is not None and i == 0:
                f = feeds
            elif feeds_fn is not None:
                f = feeds_fn(batch)
            else:
                f = random_feeds(model, batch, seed=i)
            want = _keras_outputs(model, model.predict(_keras_inputs(model, f),
                                                       verbose=0))
            got = run_litert(out, f)
            compare(want, got, label=f"{name}.{fmt} batch {batch}", **tol)
        results[fmt] = out
    return results
