"""The native runtime through the CLI: `run`, `bench`, and load rejections.

Agreement with ai-edge-litert on every conformance model is checked by the
harness itself (run_litert runs both); this file covers the commands."""
from pathlib import Path

import keras
import numpy as np

from harness import run_cli, run_litert, run_native


def _model(tmp_path):
    a = keras.Input((4,), name="a")
    b = keras.Input((3, 2), name="b")
    h = keras.layers.Concatenate(name="joined")(
        [keras.layers.Dense(6, activation="tanh", name="dense")(a),
         keras.layers.Flatten(name="flat")(b)])
    model = keras.Model({"a": a, "b": b},
                        [keras.layers.Dense(2, name="logits")(h),
                         keras.layers.Reshape((4, 3), name="grid")(h)])
    model.save(tmp_path / "m.keras")
    run_cli("convert", tmp_path / "m.keras", "-o", tmp_path / "m.tflite",
            check=True)
    return tmp_path / "m.tflite"


def test_run_writes_named_npy_outputs(tmp_path):
    path = _model(tmp_path)
    rng = np.random.default_rng(0)
    feeds = {"a": rng.standard_normal((3, 4)).astype("float32"),
             "b": rng.standard_normal((3, 3, 2)).astype("float32")}
    ours = run_native(path, feeds)
    assert sorted(ours) == ["grid", "logits"]
    assert ours["grid"].shape == (3, 4, 3)
    # run_litert also checks our runtime against ai-edge-litert.
    want = run_litert(path, feeds)
    np.testing.assert_allclose(ours["logits"], want["logits"], atol=1e-5,
                               rtol=1e-5)


def test_run_without_inputs_uses_seeded_random_ones(tmp_path):
    path = _model(tmp_path)
    outs = []
    for seed in (7, 7, 8):
        d = tmp_path / f"out{len(outs)}"
        proc = run_cli("run", path, "-d", d, "--seed", seed, check=True)
        assert "input  a: float32[1, 4]" in proc.stdout
        assert "output logits: float32[1, 2]" in proc.stdout
        outs.append(np.load(d / "logits.npy"))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])


def test_run_one_input_needs_no_name(tmp_path):
    x = keras.Input((5,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, name="y")(x))
    model.save(tmp_path / "one.keras")
    run_cli("convert", tmp_path / "one.keras", "-o", tmp_path / "one.tflite",
            check=True)
    np.save(tmp_path / "x.npy", np.ones((2, 5), "float32"))
    proc = run_cli("run", tmp_path / "one.tflite", "-i", tmp_path / "x.npy",
                   check=True)
    assert "output y: float32[2, 2]" in proc.stdout


def test_run_rejections(tmp_path):
    path = _model(tmp_path)
    np.save(tmp_path / "a.npy", np.ones((2, 4), "float32"))
    np.save(tmp_path / "a64.npy", np.ones((2, 4), "float64"))
    np.save(tmp_path / "a5.npy", np.ones((2, 5), "float32"))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    cases = [
        (["-i", f"nope={tmp_path / 'a.npy'}"], "no input named 'nope'"),
        (["-i", str(tmp_path / "a.npy")], "write NAME=FILE.npy"),
        (["-i", f"a={tmp_path / 'a64.npy'}"], "takes float32 but was given float64"),
        (["-i", f"a={tmp_path / 'a5.npy'}"], "cannot take shape [2, 5]"),
        (["-i", f"a={tmp_path / 'junk.npy'}"], "not a readable .npy file"),
        (["-s", "other"], "no signature 'other'; it has: serving_default"),
    ]
    for args, fragment in cases:
        proc = run_cli("run", path, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert fragment in proc.stderr, (args, proc.stderr)


def test_load_rejections(tmp_path):
    path = _model(tmp_path)
    data = path.read_bytes()
    (tmp_path / "short.tflite").write_bytes(data[: len(data) // 3])
    bad_id = bytearray(data)
    bad_id[4:8] = b"XXXX"
    (tmp_path / "id.tflite").write_bytes(bytes(bad_id))
    for name, fragment in [("short.tflite", "verifier rejects"),
                           ("id.tflite", "is not 'TFL3'"),
                           ("missing.tflite", "cannot open")]:
        for cmd in ("run", "bench"):
            proc = run_cli(cmd, tmp_path / name)
            assert proc.returncode == 2, (cmd, name, proc.stderr)
            assert fragment in proc.stderr, (cmd, name, proc.stderr)


def test_bench_reports_latency_and_memory(tmp_path):
    path = _model(tmp_path)
    proc = run_cli("bench", path, "--runs", 5, "--threads", 2, check=True)
    for field in ("load", "min", "median", "p90", "peak memory"):
        assert field in proc.stdout, proc.stdout
    assert "2 threads, 5 runs" in proc.stdout
