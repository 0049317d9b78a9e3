"""Keras-Hub's EfficientNet blocks (MBConvBlock, FusedMBConvBlock,
CBABlock), compared with Keras: Functional models built from the real
layers, saved as .keras, with random batch-norm statistics and odd feature
maps (stride 2 under "same" padding pads one side more)."""
import keras
import numpy as np
import pytest

from harness import check_model, op_names, run_cli
from tolerances import FP32

pytest.importorskip("keras_hub")
from keras_hub.src.models.efficientnet.cba import CBABlock  # noqa: E402
from keras_hub.src.models.efficientnet.fusedmbconv import (  # noqa: E402
    FusedMBConvBlock,
)
from keras_hub.src.models.efficientnet.mbconv import MBConvBlock  # noqa: E402

L = keras.layers


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "moving_variance" in w.path or "gamma" in w.path:
            w.assign(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype))
        elif any(k in w.path for k in ("beta", "moving_mean", "bias")):
            w.assign(rng.normal(0.0, 0.1, w.shape).astype(w.dtype))


def _model(block, channels=8, size=(9, 11)):
    x = keras.Input((*size, channels), name="x")
    y = block(x)
    model = keras.Model(x, L.Activation("linear", name="out")(y))
    _randomize(model)
    return model


MBCONV = {
    "expand_se_residual": dict(input_filters=8, output_filters=8,
                               expand_ratio=4, se_ratio=0.25),
    "expand_stride2": dict(input_filters=8, output_filters=12,
                           expand_ratio=6, strides=2, kernel_size=5,
                           se_ratio=0.5, activation="relu6"),
    # expand_ratio 1: no expansion conv, a kernel_size projection.
    "no_expand": dict(input_filters=8, output_filters=8, expand_ratio=1,
                      se_ratio=0.25, batch_norm_epsilon=1e-5),
    "nores": dict(input_filters=8, output_filters=8, expand_ratio=2,
                  nores=True, activation="relu"),
}


@pytest.mark.parametrize("kind", sorted(MBCONV))
def test_mbconv_block(tmp_path, kind):
    check_model(_model(MBConvBlock(**MBCONV[kind], name="block_")), tmp_path,
                tol=FP32)


FUSED = {
    "expand_residual": dict(input_filters=8, output_filters=8,
                            expand_ratio=4),
    "expand_se_stride2": dict(input_filters=8, output_filters=16,
                              expand_ratio=4, strides=2, se_ratio=0.25),
    # expand_ratio 1 applies projection_activation.
    "projection_activation": dict(input_filters=8, output_filters=8,
                                  expand_ratio=1, kernel_size=5,
                                  projection_activation="relu",
                                  activation="silu"),
    "projection_kernel": dict(input_filters=8, output_filters=12,
                              expand_ratio=2, projection_kernel_size=3),
}


@pytest.mark.parametrize("kind", sorted(FUSED))
def test_fused_mbconv_block(tmp_path, kind):
    check_model(_model(FusedMBConvBlock(**FUSED[kind], name="block_")),
                tmp_path, tol=FP32)


@pytest.mark.parametrize("kw", [
    dict(input_filters=8, output_filters=8),
    dict(input_filters=8, output_filters=16, strides=2, kernel_size=3),
    dict(input_filters=8, output_filters=8, nores=True, activation="relu"),
], ids=["residual", "stride2", "nores"])
def test_cba_block(tmp_path, kw):
    out = check_model(_model(CBABlock(**kw, name="block_")), tmp_path,
                      tol=FP32)
    assert "CONV_2D" in op_names(out["keras"])


def test_block_with_unknown_activation_refused(tmp_path):
    """An activation no converter lowers is refused, naming the block."""
    model = _model(CBABlock(input_filters=8, output_filters=8,
                            activation="celu", name="block_"))
    src = tmp_path / "m.keras"
    model.save(src)
    proc = run_cli("convert", src, "-o", tmp_path / "m.tflite")
    assert proc.returncode == 2
    assert "layer 'block_' (CBABlock)" in proc.stderr
