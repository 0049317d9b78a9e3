"""`verify`: compare a converted model with Keras `predict`, output by
output, on our runtime and on ai-edge-litert when it is installed."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from keras2litert._model import LiteRTModel

# fp32 conversions agree with Keras to this, unless a model says otherwise.
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-5


@dataclasses.dataclass
class OutputCheck:
    runtime: str  # "keras2litert" or "ai-edge-litert"
    output: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclasses.dataclass
class VerifyReport:
    """The result of `verify`: one row per runtime and output."""

    checks: list
    atol: float
    rtol: float
    batch: int

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [
            f"verify: batch {self.batch}, atol {self.atol:g}, rtol {self.rtol:g}: "
            + ("PASS" if self.passed else "FAIL"),
            f"  {'runtime':<15} {'output':<24} {'max abs':>10} {'max rel':>10}",
        ]
        for c in self.checks:
            lines.append(
                f"  {c.runtime:<15} {c.output:<24} {c.max_abs_error:>10.3g} "
                f"{c.max_rel_error:>10.3g}  {'ok' if c.passed else 'FAIL'}"
            )
        return "\n".join(lines)


def _random_inputs(details: list, n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for d in details:
        sig = [int(s) for s in d["shape_signature"]] or [int(s) for s in d["shape"]]
        shape = [n if i == 0 and s == -1 else (8 if s == -1 else s) for i, s in enumerate(sig)]
        dtype = d["dtype"]
        if dtype in (np.float32, np.float16, np.float64):
            out[d["name"]] = rng.standard_normal(shape).astype(dtype)
        elif dtype is np.bool_:
            out[d["name"]] = rng.integers(0, 2, shape).astype(bool)
        elif isinstance(dtype, type) and np.issubdtype(dtype, np.integer):
            # Small non-negative values: valid token ids and indices.
            out[d["name"]] = rng.integers(0, 2, shape).astype(dtype)
        else:
            raise ValueError(
                f"verify cannot make random values for input '{d['name']}' of "
                f"dtype {dtype}; pass `inputs` yourself"
            )
    return out


def _keras_structure(model: Any, names: list, arrays: list) -> Any:
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, dict):
        return dict(zip(names, arrays))
    return arrays[0] if len(arrays) == 1 else list(arrays)


def _flatten_outputs(y: Any, names: list) -> list:
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(
                f"the model's outputs {sorted(y)} do not match the file's "
                f"{names}; is this .tflite converted from this model?"
            )
        return [np.asarray(y[n]) for n in names]
    if isinstance(y, (list, tuple)):
        return [np.asarray(v) for v in y]
    return [np.asarray(y)]


def _errors(got: np.ndarray, want: np.ndarray, atol: float, rtol: float):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf"), float("inf"), False
    diff = np.abs(got - want)
    max_abs = float(diff.max()) if diff.size else 0.0
    nz = np.abs(want) > 0
    max_rel = float((diff[nz] / np.abs(want[nz])).max()) if nz.any() else 0.0
    ok = bool(np.all(diff <= atol + rtol * np.abs(want)))
    return max_abs, max_rel, ok


def _run_ai_edge_litert(path_or_bytes: Any, names: list, arrays: list) -> list | None:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    if isinstance(path_or_bytes, (bytes, bytearray)):
        interp = Interpreter(model_content=bytes(path_or_bytes))
    else:
        interp = Interpreter(model_path=os.fspath(path_or_bytes))
    details = interp.get_input_details()
    for d, a in zip(details, arrays):
        interp.resize_tensor_input(d["index"], a.shape)
    interp.allocate_tensors()
    for d, a in zip(details, arrays):
        interp.set_tensor(d["index"], a)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def verify(
    model: Any,
    filepath: Any,
    inputs: Any = None,
    n: int = 4,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int = 0,
    runtimes: tuple = ("keras2litert", "ai-edge-litert"),
) -> VerifyReport:
    """Compares a converted `.tflite` with Keras `predict`.

    Args:
        model: the live `keras.Model`, or the path of the `.keras`/`.h5` it
            was converted from.
        filepath: the `.tflite` path, its bytes, or a `LiteRTModel`.
        inputs: an array, a list (by position) or a dict (by input name);
            by default `n` seeded random samples (standard normal floats,
            integers in [0, 2)).
        atol, rtol: the pass bar, per element: |got - want| <= atol + rtol *
            |want|.
        runtimes: where to run the file: our native runtime and, when it is
            installed, ai-edge-litert (skipped silently when absent).

    Returns:
        A `VerifyReport` with the max absolute and relative error of every
        output on every runtime, and whether each passed.
    """
    if isinstance(model, (str, os.PathLike)):
        import keras

        model = keras.saving.load_model(os.fspath(model), compile=False)
    lite = filepath if isinstance(filepath, LiteRTModel) else LiteRTModel(filepath)
    details = lite.input_details
    names = [d["name"] for d in details]
    if inputs is None:
        feed = _random_inputs(details, n, seed)
        arrays = [feed[k] for k in names]
    elif isinstance(inputs, dict):
        missing = [k for k in names if k not in inputs]
        if missing:
            raise ValueError(
                f"inputs has no value for {missing}; the model's inputs are {names}"
            )
        arrays = [np.asarray(inputs[k]) for k in names]
    else:
        values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(values) != len(names):
            raise ValueError(
                f"inputs has {len(values)} arrays but the model has "
                f"{len(names)} inputs {names}"
            )
        arrays = [np.asarray(v) for v in values]
    arrays = [
        a.astype(d["dtype"]) if isinstance(d["dtype"], type) and a.dtype != d["dtype"] else a
        for a, d in zip(arrays, details)
    ]
    batch = int(arrays[0].shape[0]) if arrays and arrays[0].ndim else 1

    out_names = [d["name"] for d in lite.output_details]
    sig = lite.get_signature_list()
    if sig:
        out_names = next(iter(sig.values()))["outputs"]
    want = _flatten_outputs(
        model.predict(_keras_structure(model, names, arrays), verbose=0), out_names
    )

    got = {}
    if "keras2litert" in runtimes:
        y = lite.predict(list(arrays))
        got["keras2litert"] = y if isinstance(y, list) else [y]
    if "ai-edge-litert" in runtimes:
        source = filepath if not isinstance(filepath, LiteRTModel) else lite.to_bytes()
        y = _run_ai_edge_litert(source, names, arrays)
        if y is not None:
            got["ai-edge-litert"] = y

    checks = []
    for runtime, outs in got.items():
        for name, g, w in zip(out_names, outs, want):
            max_abs, max_rel, ok = _errors(g, w, atol, rtol)
            checks.append(OutputCheck(runtime, name, tuple(np.shape(g)), max_abs, max_rel, ok))
    return VerifyReport(checks=checks, atol=atol, rtol=rtol, batch=batch)
