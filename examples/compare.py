"""Runs a converted .tflite in ai-edge-litert and compares it with Keras.

usage: compare.py MODEL.keras MODEL.tflite [--batch N]
Prints the max abs and rel error per output; exits 1 if any exceeds the fp32
tolerance (atol = rtol = 1e-5).
"""
import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

ATOL = RTOL = 1e-5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("keras_model")
    ap.add_argument("tflite_model")
    ap.add_argument("--batch", type=int, default=4)
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
    got = runner(**feeds)

    print(f"\n{'output':<16}{'shape':<16}{'max abs err':>14}{'max rel err':>14}  verdict")
    ok = True
    for name, w in want.items():
        g = got[name]
        w = np.asarray(w)
        abs_err = float(np.max(np.abs(g - w)))
        rel_err = float(np.max(np.abs(g - w) / (np.abs(w) + 1e-12)))
        passed = np.allclose(g, w, atol=ATOL, rtol=RTOL)
        ok &= passed
        print(f"{name:<16}{str(g.shape):<16}{abs_err:>14.3e}{rel_err:>14.3e}  "
              f"{'match' if passed else 'MISMATCH'}")
    print(f"\nai-edge-litert vs Keras predict on batch {args.batch}: "
          f"{'all outputs match' if ok else 'MISMATCH'} "
          f"(atol = rtol = {ATOL:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
