"""`LiteRTModel`: load any `.tflite` and run it on keras2litert's native
runtime, with the inspection API of `tf.lite.Interpreter`."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from keras2litert import _core


def _np_dtype(name: str):
    try:
        return np.dtype(name).type
    except TypeError:
        return name  # e.g. "bfloat16" or "int4": no plain numpy type


def _details(raw: list) -> list:
    for d in raw:
        d["dtype"] = _np_dtype(d["dtype"])
    return raw


def _as_input(value: Any, detail: dict) -> np.ndarray:
    """An array for one input. Values of the same kind are cast to the
    input's dtype (float64 -> float32, int64 -> int32), as Keras' predict
    does; anything else is left for the runtime to refuse by name."""
    arr = np.asarray(value)
    want = detail["dtype"]
    if isinstance(want, type) and arr.dtype != want:
        if np.can_cast(arr.dtype, want, casting="same_kind"):
            arr = arr.astype(want)
    return np.ascontiguousarray(arr)


class SignatureRunner:
    """Runs one signature by input name, like tf.lite's SignatureRunner:
    `runner(name=array, ...)` returns a dict of output name -> array."""

    def __init__(self, model: "LiteRTModel", key: str, info: dict):
        self._model = model
        self._key = key
        self._info = info

    def get_input_details(self) -> dict:
        by_index = {d["index"]: d for d in self._model._all_details()}
        return {n: by_index.get(i, {"index": i}) for n, i in self._info["inputs"]}

    def get_output_details(self) -> dict:
        by_index = {d["index"]: d for d in self._model._all_details()}
        return {n: by_index.get(i, {"index": i}) for n, i in self._info["outputs"]}

    def __call__(self, **inputs: Any) -> dict:
        details = self.get_input_details()
        arrays = {
            name: _as_input(v, details[name]) if name in details else np.asarray(v)
            for name, v in inputs.items()
        }
        out = self._model._core.predict_named(arrays, self._key)
        return {name: out[name] for name, _ in self._info["outputs"]}


class LiteRTModel:
    """A `.tflite` model on keras2litert's native runtime.

    `LiteRTModel(path_or_bytes, num_threads=1)` verifies and prepares the
    model: a corrupt file or an op without a kernel is a ValueError here.
    Any valid `.tflite` loads, not only ours.
    """

    def __init__(self, path_or_bytes: Any, num_threads: int = 1):
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive int, got {num_threads!r}")
        if isinstance(path_or_bytes, (str, os.PathLike)):
            self._core = _core.Model.load(os.fspath(path_or_bytes), num_threads)
        elif isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self._core = _core.Model.from_bytes(path_or_bytes, num_threads)
        else:
            raise ValueError(
                "LiteRTModel takes the path of a .tflite file or its bytes, "
                f"and got a {type(path_or_bytes).__name__}"
            )
        self._signatures = self._core.signatures()

    # -- inspection ---------------------------------------------------------

    @property
    def input_details(self) -> list:
        """One dict per input of the main subgraph: name, index, shape,
        shape_signature (-1 for a dynamic dimension), dtype, quantization
        and quantization_parameters, as tf.lite.Interpreter gives them."""
        return _details(self._core.input_details())

    @property
    def output_details(self) -> list:
        return _details(self._core.output_details())

    def _all_details(self) -> list:
        return self.input_details + self.output_details

    def get_signature_list(self) -> dict:
        """{key: {"inputs": [names], "outputs": [names]}}, in file order."""
        return {
            s["key"]: {
                "inputs": [n for n, _ in s["inputs"]],
                "outputs": [n for n, _ in s["outputs"]],
            }
            for s in self._signatures
        }

    def get_signature_runner(self, signature_key: str | None = None) -> SignatureRunner:
        """The runner of `signature_key` (default: the first signature)."""
        if not self._signatures:
            raise ValueError(
                "this model has no signatures. Run it by position with "
                "predict([...]) or by tensor name with predict({...})"
            )
        if signature_key is None:
            info = self._signatures[0]
        else:
            found = [s for s in self._signatures if s["key"] == signature_key]
            if not found:
                keys = ", ".join(f"'{s['key']}'" for s in self._signatures)
                raise ValueError(
                    f"the model has no signature '{signature_key}'. Its "
                    f"signatures are {keys}"
                )
            info = found[0]
        return SignatureRunner(self, info["key"], info)

    # -- running ------------------------------------------------------------

    def resize_input(self, input: int | str, shape: Any) -> None:
        """Resizes an input (by position or name) within its
        shape_signature; the next run uses the new shape."""
        dims = [int(d) for d in shape]
        if isinstance(input, str):
            self._core.resize_input(input, dims)
        else:
            self._core.resize_input(int(input), dims)
        self._core.allocate_tensors()

    def predict(self, x: Any) -> Any:
        """Runs the model.

        `x` is an array (one input), a list or tuple (by position) or a dict
        (by input name, the first signature's names). An input whose shape
        differs from the current one is resized first. Returns an array for
        a single output and a list for several; with a dict input, a dict of
        output name -> array.
        """
        details = self.input_details
        if isinstance(x, dict):
            if self._signatures:
                runner = self.get_signature_runner()
                return runner(**x)
            by_name = {d["name"]: d for d in details}
            arrays = {
                k: _as_input(v, by_name[k]) if k in by_name else np.asarray(v)
                for k, v in x.items()
            }
            return self._core.predict_named(arrays, "")
        values = list(x) if isinstance(x, (list, tuple)) else [x]
        arrays = [
            _as_input(v, details[i]) if i < len(details) else np.asarray(v)
            for i, v in enumerate(values)
        ]
        outs = self._core.predict(arrays)
        return outs[0] if len(outs) == 1 else outs

    # -- saving -------------------------------------------------------------

    def save(self, filepath: str | os.PathLike) -> None:
        """Writes the model's bytes to `filepath` atomically."""
        self._core.save(os.fspath(filepath))

    def to_bytes(self) -> bytes:
        return self._core.bytes()

    def __repr__(self) -> str:
        ins = ", ".join(
            f"{d['name']}{[int(s) for s in d['shape_signature']]}"
            for d in self.input_details
        )
        sigs = self.get_signature_list()
        outs = ", ".join(
            next(iter(sigs.values()))["outputs"]
            if sigs
            else [d["name"] for d in self.output_details]
        )
        return f"LiteRTModel(inputs: {ins}; outputs: {outs})"
