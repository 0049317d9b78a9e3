"""Keras-Hub's MobileNet blocks (DepthwiseConvBlock, InvertedResidualBlock,
ConvBnActBlock, with their squeeze-and-excite), compared with Keras:
Functional models built from the real layers, with random batch norm
statistics and biases."""
import json
import zipfile

import keras
import numpy as np
import pytest

from harness import check_model, op_names, run_cli

mb = pytest.importorskip("keras_hub.src.models.mobilenet.mobilenet_backbone")


def _randomize(model, seed=0):
    """Random batch norm statistics, scales and offsets and random biases
    (the kernels keep keras' initialization), so a weight read from the
    wrong sublayer cannot pass."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "moving_variance" in w.path or "gamma" in w.path:
            w.assign(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype))
        elif any(k in w.path for k in ("beta", "moving_mean", "bias")):
            w.assign(rng.normal(0.0, 0.2, w.shape).astype(w.dtype))


def _model(shape, *blocks):
    x = keras.Input(shape, name="x")
    y = x
    for b in blocks:
        y = b(y)
    model = keras.Model(x, y)
    _randomize(model)
    return model


CASES = {
    "depthwise_se_s2": ((9, 9, 16), lambda: [mb.DepthwiseConvBlock(
        16, 8, stride=2, squeeze_excite_ratio=0.5, name="block_0")]),
    "depthwise_residual": ((8, 8, 16), lambda: [mb.DepthwiseConvBlock(
        16, 16, stride=1, residual=True, name="block_0")]),
    "inverted_se_residual": ((8, 8, 16), lambda: [mb.InvertedResidualBlock(
        36, 16, 16, 3, 1, 0.25, "hard_swish", 1, name="block_1_0")]),
    "inverted_k5_s2": ((9, 9, 8), lambda: [mb.InvertedResidualBlock(
        40, 8, 24, 5, 2, None, "relu", 2, name="block_1_0")]),
    # keras-hub adds the input back only for an int stride of 1.
    "inverted_pair_stride": ((8, 8, 16), lambda: [mb.InvertedResidualBlock(
        40, 16, 16, 3, (1, 1), None, "relu6", 1, name="block_1_0")]),
    "conv_bn_act": ((4, 4, 16), lambda: [mb.ConvBnActBlock(
        20, "hard_swish", name="block_2_0")]),
    "chain": ((16, 16, 16), lambda: [
        mb.DepthwiseConvBlock(16, 8, stride=2, squeeze_excite_ratio=0.5,
                              name="block_0"),
        mb.InvertedResidualBlock(40, 8, 16, 3, 2, None, "relu", 1,
                                 name="block_1_0"),
        mb.InvertedResidualBlock(64, 16, 16, 5, 1, 0.25, "hard_swish", 2,
                                 name="block_1_1"),
        mb.ConvBnActBlock(48, "hard_swish", name="block_2_0")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mobilenet_block(tmp_path, case):
    shape, blocks = CASES[case]
    out = check_model(_model(shape, *blocks()), tmp_path)["keras"]
    ops = op_names(out)
    if case.startswith(("depthwise", "inverted", "chain")):
        assert "DEPTHWISE_CONV_2D" in ops and "SPLIT" not in ops


def _unzipped(model, tmp_path):
    src = tmp_path / "m.keras"
    model.save(src)
    folder = tmp_path / "m_dir"
    with zipfile.ZipFile(src) as z:
        z.extractall(folder)
    return folder, json.loads((folder / "config.json").read_text())


def _layer(config, name):
    for layer in config["config"]["layers"]:
        if layer["name"] == name:
            return layer
    raise KeyError(name)


def _drop(key):
    return lambda layer: layer["config"].pop(key)


def _set(key, value):
    return lambda layer: layer["config"].__setitem__(key, value)


@pytest.mark.parametrize("case,name,edit,fragments", [
    ("inverted_k5_s2", "block_1_0", _drop("activation"),
     ["layer 'block_1_0' (InvertedResidualBlock): its config has no "
      "activation"]),
    ("conv_bn_act", "block_2_0", _drop("activation"),
     ["layer 'block_2_0' (ConvBnActBlock): its config has no activation"]),
    ("inverted_se_residual", "block_1_0", _set("squeeze_excite_ratio", "x"),
     ["layer 'block_1_0' (InvertedResidualBlock): squeeze_excite_ratio is "
      "\"x\", not a number or None"]),
    ("depthwise_se_s2", "x",
     lambda layer: layer["config"].__setitem__("batch_shape", [None, 9, 16]),
     ["layer 'block_0_0' (DepthwiseConvBlock): its input has shape",
      "it takes one [batch, height, width, channels] feature map"]),
], ids=["inverted_activation", "conv_bn_act_activation", "se_ratio",
        "rank3_input"])
def test_mobilenet_block_refusals(tmp_path, case, name, edit, fragments):
    shape, blocks = CASES[case]
    folder, config = _unzipped(_model(shape, *blocks()), tmp_path)
    edit(_layer(config, name))
    (folder / "config.json").write_text(json.dumps(config))
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", folder, "-o", out)
    assert proc.returncode == 2, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr
    assert not out.exists()
