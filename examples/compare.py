"""Runs a converted .tflite in ai-edge-litert and in keras2litert's own
runtime, and compares both with Keras.

usage: compare.py MODEL.keras MODEL.tflite [--batch N] [--cli PATH]
Prints the max abs and rel error per output and runtime; exits 1 if any
exceeds the fp32 tolerance (atol = rtol = 1e-5).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

ATOL = RTOL = 1e-5


def run_native(cli, tflite, feeds):
    """Runs the .tflite through `keras2litert run`; returns outputs by name."""
    with tempfile.TemporaryDirectory() as d:
        args = [cli, "run", tflite, "-d", f"{d}/out"]
        for i, (name, value) in enumerate(feeds.items()):
            np.save(f"{d}/in{i}.npy", value)
            args += ["-i", f"{name}={d}/in{i}.npy"]
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"keras2litert run failed: {proc.stderr}")
        names = re.findall(r"^  output (.*?): ", proc.stdout, re.M)
        return {n: np.load(f"{d}/out/{re.sub(r'[^A-Za-z0-9_.-]', '_', n)}.npy")
                for n in names}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("keras_model")
    ap.add_argument("tflite_model")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--cli", default=str(Path(__file__).resolve().parents[1]
                                         / "build" / "release" / "keras2litert"))
    args = ap.parse_args()

    model = keras.saving.load_model(args.keras_model)
    rng = np.random.default_rng(0)
    feeds = {}
    for t in model.inputs:
        shape = [args.batch] + [d or 8 for d in t.shape[1:]]
        feeds[t.name] = rng.standard_normal(shape).astype("float32")
    keras_in = feeds[model.inputs[0].name] if len(feeds) == 1 else feeds
    want = model.predict(keras_in, verbose=0)
    if not isinstance(want, dict):
        want = dict(zip(model.output_names,
                        want if isinstance(want, (list, tuple)) else [want]))

    runner = Interpreter(model_path=args.tflite_model).get_signature_runner(
        "serving_default")
    results = {"ai-edge-litert": runner(**feeds),
               "keras2litert runtime": run_native(args.cli, args.tflite_model,
                                                  feeds)}

    print(f"\n{'runtime':<22}{'output':<16}{'shape':<16}{'max abs err':>14}"
          f"{'max rel err':>14}  verdict")
    ok = True
    for runtime, got in results.items():
        for name, w in want.items():
            g = got[name]
            w = np.asarray(w)
            abs_err = float(np.max(np.abs(g - w)))
            rel_err = float(np.max(np.abs(g - w) / (np.abs(w) + 1e-12)))
            passed = g.shape == w.shape and np.allclose(g, w, atol=ATOL, rtol=RTOL)
            ok &= passed
            print(f"{runtime:<22}{name:<16}{str(g.shape):<16}{abs_err:>14.3e}"
                  f"{rel_err:>14.3e}  {'match' if passed else 'MISMATCH'}")
    print(f"\nai-edge-litert and the keras2litert runtime vs Keras predict on "
          f"batch {args.batch}: {'all outputs match' if ok else 'MISMATCH'} "
          f"(atol = rtol = {ATOL:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
