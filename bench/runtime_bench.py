"""Native runtime latency against ai-edge-litert (XNNPACK), per model.

Builds four models with real Keras and random weights (MobileNetV2,
ResNet50, a BERT-base-sized encoder, a GPT-2-sized decoder step with a KV
cache), converts each with keras2litert, then times the same .tflite in
ai-edge-litert (its default XNNPACK delegate) and in our runtime
(`keras2litert bench`), at 1 and 2 threads. Prints a markdown table with
the median latencies and our/LiteRT ratio. A benchmark, not a test: nothing
here asserts a time.

usage: .venv/bin/python bench/runtime_bench.py [--runs 10] [--models a,b]
       [--out docs/benchmarks.md]
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("K2L_CLI", REPO / "build" / "release" / "keras2litert"))


def mobilenet_v2():
    return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))


def resnet50():
    return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))


def bert_base_encoder(seq=128, hidden=768, heads=12, ff=3072, layers=12,
                      vocab=30522):
    tokens = keras.Input((seq,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab, hidden, name="token_embedding")(tokens)
    x = keras.layers.LayerNormalization(epsilon=1e-12, name="emb_norm")(x)
    for i in range(layers):
        a = keras.layers.MultiHeadAttention(heads, hidden // heads,
                                            name=f"attn_{i}")(x, x)
        x = keras.layers.LayerNormalization(epsilon=1e-12, name=f"ln1_{i}")(
            keras.layers.Add()([x, a]))
        h = keras.layers.Dense(ff, activation="gelu", name=f"ff1_{i}")(x)
        h = keras.layers.Dense(hidden, name=f"ff2_{i}")(h)
        x = keras.layers.LayerNormalization(epsilon=1e-12, name=f"ln2_{i}")(
            keras.layers.Add()([x, h]))
    pooled = keras.layers.Dense(hidden, activation="tanh", name="pooler")(
        keras.layers.GlobalAveragePooling1D(name="pool")(x))
    return keras.Model(tokens, {"sequence_output": x, "pooled_output": pooled})


def gpt2_decoder_step(cache=128, hidden=768, heads=12, ff=3072, layers=12,
                      vocab=50257):
    """One generation step: one new token attends to `cache` past keys and
    values per layer, and returns the logits and the new keys/values."""
    ops = keras.ops
    hd = hidden // heads
    x_in = keras.Input((1, hidden), name="token_embedding")
    inputs, outputs = [x_in], {}
    x = x_in
    for i in range(layers):
        pk = keras.Input((heads, cache, hd), name=f"past_key_{i}")
        pv = keras.Input((heads, cache, hd), name=f"past_value_{i}")
        inputs += [pk, pv]
        h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"ln1_{i}")(x)

        def heads_of(t, name):
            t = keras.layers.Dense(hidden, name=name)(t)
            t = keras.layers.Reshape((1, heads, hd))(t)
            return keras.layers.Permute((2, 1, 3))(t)  # (B, heads, 1, hd)

        q, k, v = (heads_of(h, f"{n}_{i}") for n in ("q", "k", "v"))
        keys = keras.layers.Concatenate(axis=2)([pk, k])
        values = keras.layers.Concatenate(axis=2)([pv, v])
        scores = ops.matmul(q, ops.transpose(keys, (0, 1, 3, 2))) * (hd ** -0.5)
        probs = keras.layers.Softmax(axis=-1)(scores)
        ctx = ops.matmul(probs, values)  # (B, heads, 1, hd)
        ctx = keras.layers.Reshape((1, hidden))(
            keras.layers.Permute((2, 1, 3))(ctx))
        x = keras.layers.Add()([x, keras.layers.Dense(hidden, name=f"o_{i}")(ctx)])
        h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"ln2_{i}")(x)
        h = keras.layers.Dense(ff, activation="gelu", name=f"fc_{i}")(h)
        x = keras.layers.Add()([x, keras.layers.Dense(hidden, name=f"proj_{i}")(h)])
        outputs[f"key_{i}"] = k
        outputs[f"value_{i}"] = v
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_f")(x)
    outputs["logits"] = keras.layers.Dense(vocab, use_bias=False,
                                           name="lm_head")(x)
    return keras.Model(inputs, outputs)


MODELS = {
    "MobileNetV2": mobilenet_v2,
    "ResNet50": resnet50,
    "BERT-base encoder (seq 128)": bert_base_encoder,
    "GPT-2 decoder step (cache 128)": gpt2_decoder_step,
}


def litert_median(path, threads, runs):
    interp = Interpreter(model_path=str(path), num_threads=threads)
    interp.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in interp.get_input_details():
        shape = [max(1, s) for s in d["shape"]]
        if np.issubdtype(d["dtype"], np.integer):
            value = rng.integers(0, 10, size=shape).astype(d["dtype"])
        else:
            value = rng.standard_normal(shape).astype(d["dtype"])
        interp.set_tensor(d["index"], value)
    for _ in range(2):
        interp.invoke()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        interp.invoke()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def ours_median(path, threads, runs):
    proc = subprocess.run([str(CLI), "bench", str(path), "-t", str(threads),
                           "-n", str(runs)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    med = float(re.search(r"median\s+([\d.]+) ms", proc.stdout).group(1))
    rss = re.search(r"peak memory (.*) \(", proc.stdout).group(1)
    return med, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--out", help="also write the table to this markdown file")
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in args.models.split(","):
            model = MODELS[name]()
            src = Path(d) / "m.keras"
            out = Path(d) / "m.tflite"
            model.save(src)
            del model
            subprocess.run([str(CLI), "convert", str(src), "-o", str(out), "-q"],
                           check=True)
            size = out.stat().st_size / 2**20
            for threads in (1, 2):
                ref = litert_median(out, threads, args.runs)
                ours, rss = ours_median(out, threads, args.runs)
                rows.append((name, f"{size:.0f} MiB", threads, ref, ours,
                             ours / ref, rss))
                print(f"{name} t={threads}: litert {ref:.2f} ms, ours "
                      f"{ours:.2f} ms, ratio {ours / ref:.2f}", flush=True)
    ratios = [r[5] for r in rows]
    lines = [
        "| Model | .tflite | Threads | ai-edge-litert (XNNPACK) median ms "
        "| keras2litert runtime median ms | Ratio | Our peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} "
                     f"| {r[5]:.2f} | {r[6]} |")
    lines.append("")
    lines.append(f"Median ratio over all rows: {statistics.median(ratios):.2f} "
                 f"(runs per cell: {args.runs}; {platform.processor() or platform.machine()}, "
                 f"{os.cpu_count()} cores)")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    sys.exit(main())
