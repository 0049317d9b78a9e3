"""What the Keras-Hub task tests share: random weights, saving a preset,
running a file's signature in ai-edge-litert, keras-hub's own output, and a
CLI conversion that must fail."""
import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter

import keras2litert
from harness import assert_builtin_only, run_cli


# ImageNet's mean and standard deviation, as keras-hub's vision presets
# standardize pixels (x / 255 - mean) / std.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


def randomize(model, seed=0, matrix_scale=0.2, vector_scale=0.5):
    """Random weights everywhere (norm scales and biases included), so a
    weight read from the wrong place cannot pass."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        scale = vector_scale if len(w.shape) <= 1 else matrix_scale
        w.assign(rng.normal(0.0, scale, w.shape).astype(w.dtype))


def save_preset(task, tmp_path, name="preset"):
    folder = tmp_path / name
    task.save_to_preset(str(folder))
    return folder


def run_signature(path, feeds, key="serving_default"):
    """The outputs of signature `key` in ai-edge-litert."""
    runner = Interpreter(model_path=str(path)).get_signature_runner(key)
    return runner(**feeds)


def keras_out(model, feeds):
    """The model's inference output. training=False is explicit, as
    predict() passes it: some keras-hub layers (DeepLabV3's
    SpatialPyramidPooling) otherwise normalize with batch statistics."""
    return keras.ops.convert_to_numpy(model(feeds, training=False))


def cli_error(src, tmp_path, *args):
    """Converts `src` with the CLI, which must fail with exit code 2 and
    leave no file; returns its stderr."""
    out = tmp_path / "x.tflite"
    proc = run_cli("convert", src, "-o", out, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert not out.exists()
    return proc.stderr


def randomize_norms(model, seed=0):
    """For vision tasks: the convolutions keep keras' random initialization;
    every BatchNormalization gets random statistics, scales and offsets and
    every bias a random value, so a weight read from the wrong layer cannot
    pass."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        name = w.path
        if "moving_variance" in name or "gamma" in name:
            v = rng.uniform(0.5, 1.5, w.shape)
        elif "beta" in name or "moving_mean" in name or "bias" in name:
            v = rng.normal(0.0, 0.1, w.shape)
        else:
            continue
        w.assign(v.astype(w.dtype))


def raw_pixels(batch, h, w, c=3, seed=1):
    """Random raw pixel values in [0, 255), float32 NHWC."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (batch, h, w, c)).astype("float32")


def keras_on_pixels(task, pixels):
    """keras-hub on raw pixels: the task's image converter, then the
    task."""
    images = keras.ops.convert_to_numpy(
        task.preprocessor.image_converter(pixels))
    return keras_out(task, images)


def convert_preset_and_live(task, tmp_path, note):
    """Saves `task` as a preset, converts it with the CLI (whose summary must
    contain `note`) and the live task with the Python API; the two files
    must be byte-identical and builtin-only. Returns the file and the CLI's
    stdout."""
    preset = save_preset(task, tmp_path)
    from_preset = tmp_path / "preset.tflite"
    proc = run_cli("convert", preset, "-o", from_preset, check=True)
    assert note in proc.stdout, proc.stdout
    from_live = tmp_path / "live.tflite"
    keras2litert.export(task, from_live, verbose=False)
    assert from_preset.read_bytes() == from_live.read_bytes()
    assert_builtin_only(from_preset)
    return from_preset, proc.stdout


def assert_runs_like(path, feeds, want, tolerance):
    """Signature serving_default of `path`, in ai-edge-litert and in our
    runtime, gives exactly the outputs in `want` (name -> array), each
    within `tolerance` (assert_allclose keyword arguments)."""
    theirs = run_signature(path, feeds)
    mine = keras2litert.LiteRTModel(path).predict(feeds)
    for runtime, got in [("ai-edge-litert", theirs),
                         ("keras2litert runtime", mine)]:
        assert sorted(got) == sorted(want), runtime
        for k, v in want.items():
            np.testing.assert_allclose(got[k], v, err_msg=f"{runtime}: {k}",
                                       **tolerance)
