"""Our runtime on .tflite files other tools wrote (tests/fixtures/foreign):
the TF Lite converter and litert-torch, float and quantized. Each output
must agree with ai-edge-litert on the manifest's seeded inputs."""
import json
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from harness import REPO, run_cli, run_native
from tolerances import RUNTIME_AGREEMENT

FOREIGN = REPO / "tests" / "fixtures" / "foreign"
MANIFEST = json.loads((FOREIGN / "MANIFEST.json").read_text())["files"]

# Files the runtime does not run yet: loading must fail with an error that
# names what is missing (so the gap is explicit, never a wrong answer).
NOT_YET = {
    # int16x8 quantization: no int16 CONV_2D / FULLY_CONNECTED kernels yet.
    "int16x8.tflite": "CONV_2D (operator #0 of subgraph 0): input "
                      "'serving_default_image:0' has type int16 but this "
                      "kernel takes float32, int8, uint8",
    # Quantized HARD_SWISH is not implemented yet.
    "torch_cnn_static_int8.tflite": "HARD_SWISH (operator #4 of subgraph 0)",
}


def make_input(spec):
    rng = np.random.default_rng(spec["seed"])
    dtype = np.dtype(spec["dtype"])
    if dtype.kind == "f":
        return rng.uniform(spec["low"], spec["high"], spec["shape"]).astype(dtype)
    return rng.integers(spec["low"], spec["high"], spec["shape"],
                        endpoint=True).astype(dtype)


def _quantized(entry):
    return any(i["dtype"] in ("int8", "uint8", "int16") for i in entry["inputs"]) \
        or entry["file"].startswith(("int8", "uint8", "int16", "torch_cnn_static"))


def litert_outputs(path, feeds, quantized):
    # Quantized files: LiteRT's reference kernels, the semantics we follow
    # (its XNNPACK delegate rounds some int8 ops differently, by 1 LSB).
    resolver = (OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if quantized
                else OpResolverType.AUTO)
    interp = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=resolver)
    sigs = interp.get_signature_list()
    if sigs:
        key = next(iter(sigs))
        runner = interp.get_signature_runner(key)
        by_tensor = {d["name"]: n for n, d in
                     runner.get_input_details().items()}
        return key, {k: np.asarray(v) for k, v in
                     runner(**{by_tensor.get(n, n): v for n, v in feeds.items()}).items()}
    for d in interp.get_input_details():
        if list(d["shape"]) != list(feeds[d["name"]].shape):
            interp.resize_tensor_input(d["index"], feeds[d["name"]].shape)
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], feeds[d["name"]])
    interp.invoke()
    return None, {d["name"]: interp.get_tensor(d["index"])
                  for d in interp.get_output_details()}


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_foreign_file_agrees_with_litert(entry):
    path = FOREIGN / entry["file"]
    if entry["file"] in NOT_YET:
        proc = run_cli("run", path)
        assert proc.returncode == 2, proc.stdout
        assert NOT_YET[entry["file"]] in proc.stderr, proc.stderr
        return
    feeds = {i["name"]: make_input(i) for i in entry["inputs"]}
    quantized = _quantized(entry)
    key, want = litert_outputs(path, feeds, quantized)
    if key is not None:
        # Signature inputs are named by the signature, not the tensor.
        interp = Interpreter(model_path=str(path))
        runner = interp.get_signature_runner(key)
        names = {d["name"]: n for n, d in runner.get_input_details().items()}
        feeds = {names.get(n, n): v for n, v in feeds.items()}
    got = run_native(path, feeds, key)
    assert sorted(got) == sorted(want)
    for name, w in want.items():
        g = got[name]
        assert g.shape == w.shape and g.dtype == w.dtype, (name, g.dtype, g.shape, w.dtype, w.shape)
        if np.issubdtype(w.dtype, np.integer) and quantized:
            # Integer kernels: exact, or 1 LSB where a rounding step of
            # LiteRT's fixed-point pipeline is reassociated.
            diff = np.abs(g.astype(np.int64) - w.astype(np.int64))
            assert diff.max() <= 1, f"{name}: off by {diff.max()} LSB"
        else:
            np.testing.assert_allclose(g, w, **RUNTIME_AGREEMENT,
                                       err_msg=f"{entry['file']}: {name}")


def test_at_least_ten_foreign_files_run():
    assert len(MANIFEST) - len(NOT_YET) >= 10
