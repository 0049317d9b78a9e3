"""Conversion speed against the I/O floor.

For each whole model of the conformance suite, times `keras2litert convert`
(median of --runs) and `cp` of the same model's weights file, the floor set
by I/O, and prints a table with the ratio and the converter's peak RSS.
This is a benchmark, not a test: nothing here asserts a time.

usage: .venv/bin/python bench/convert_bench.py [--runs 5] [--size 224]
(needs /usr/bin/time, Debian's `time` package, which scripts/setup.sh installs)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / "build" / "release" / "keras2litert"


def models(size):
    keras.utils.set_random_seed(0)
    app = dict(weights=None, input_shape=(size, size, 3), classes=1000)
    yield "MobileNetV2", keras.applications.MobileNetV2(**app)
    yield "ResNet50", keras.applications.ResNet50(**app)
    yield "EfficientNetB0", keras.applications.EfficientNetB0(**app)
    yield "DenseNet121", keras.applications.DenseNet121(**app)
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(20000, 128)(tokens)
    x = keras.layers.Conv1D(128, 5, activation="relu")(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    yield "Conv1D text", keras.Model(tokens, keras.layers.Dense(2)(x))


def timed(cmd):
    """Runs `cmd`; returns (seconds, peak RSS in MiB).

    The peak RSS comes from /usr/bin/time, which forks the command itself:
    a child forked straight from this (large) Python process would report
    Python's resident size as its own high-water mark.
    """
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}: {proc.stderr}")
    return elapsed, int(proc.stderr.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, model in models(args.size):
            src = tmp / "model.keras"
            model.save(src)
            with zipfile.ZipFile(src) as z:
                z.extract("model.weights.h5", tmp)
            weights = tmp / "model.weights.h5"
            out = tmp / "model.tflite"
            conv = [timed([str(CLI), "convert", str(src), "-o", str(out), "-q"])
                    for _ in range(args.runs)]
            cp = [timed(["cp", str(weights), str(tmp / "copy.h5")])
                  for _ in range(args.runs)]
            rows.append((name, weights.stat().st_size / 2**20,
                         statistics.median(t for t, _ in cp) * 1e3,
                         statistics.median(t for t, _ in conv) * 1e3,
                         max(m for _, m in conv), out.stat().st_size / 2**20))
            src.unlink()
            weights.unlink()
    print(f"\nconversion vs cp of the weights file (median of {args.runs}, "
          f"{args.size}x{args.size} inputs)\n")
    print(f"{'model':<16}{'weights MiB':>12}{'cp ms':>10}{'convert ms':>12}"
          f"{'ratio':>8}{'peak RSS MiB':>14}{'tflite MiB':>12}")
    for name, mib, cp_ms, conv_ms, rss, out_mib in rows:
        print(f"{name:<16}{mib:>12.1f}{cp_ms:>10.1f}{conv_ms:>12.1f}"
              f"{conv_ms / cp_ms:>8.1f}{rss:>14.1f}{out_mib:>12.1f}")


if __name__ == "__main__":
    main()
