"""Normalization, reshaping and merge layers, compared with Keras."""
import keras
import numpy as np
import pytest

from harness import check_model

L = keras.layers


def _seq(shape, *layers):
    return keras.Sequential([keras.Input(shape, name="x"), *layers])


def _randomize(layer, seed=0, positive=()):
    """Non-trivial weights so that a wrong formula cannot pass."""
    rng = np.random.default_rng(seed)
    ws = []
    for i, w in enumerate(layer.get_weights()):
        ws.append(rng.uniform(0.5, 2.0, w.shape) if i in positive
                  else rng.normal(size=w.shape))
    layer.set_weights(ws)


@pytest.mark.parametrize("kw,shape", [
    (dict(), (6, 6, 4)), (dict(axis=1), (5, 4)), (dict(scale=False), (7,)),
    (dict(center=False, epsilon=0.1), (3, 4)),
], ids=["nhwc", "axis1", "noscale", "nocenter_eps"])
def test_batch_normalization(tmp_path, kw, shape):
    model = _seq(shape, L.BatchNormalization(**kw))
    bn = model.layers[-1]
    n = len(bn.get_weights())
    _randomize(bn, positive=(n - 1,))  # moving variance > 0
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_batch_normalization_folds_into_conv(tmp_path):
    from harness import op_names
    model = _seq((6, 6, 3), L.Conv2D(4, 3, use_bias=False), L.BatchNormalization(),
                 L.ReLU())
    _randomize(model.layers[1], positive=(3,))
    out = check_model(model, tmp_path)["keras"]
    assert op_names(out) == ["CONV_2D"]


@pytest.mark.parametrize("kw,shape", [
    (dict(), (5, 8)), (dict(axis=[1, 2]), (3, 4, 5)), (dict(axis=1), (4, 3)),
    (dict(center=False), (6,)), (dict(scale=False, epsilon=0.01), (2, 6)),
], ids=["last", "axes12", "axis1", "nocenter", "noscale"])
def test_layer_normalization(tmp_path, kw, shape):
    model = _seq(shape, L.LayerNormalization(**kw))
    _randomize(model.layers[-1])
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_normalization_adapted(tmp_path):
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(0).normal(3.0, 2.0, (64, 5)).astype("float32"))
    check_model(_seq((5,), norm), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_from_config(tmp_path, invert):
    norm = L.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0],
                           invert=invert)
    check_model(_seq((4, 3), norm), tmp_path)


@pytest.mark.parametrize("kw", [dict(scale=1 / 255.0), dict(scale=2.0, offset=-1.0),
                                dict(scale=[0.5, 2.0, 3.0], offset=0.25)],
                         ids=["scale", "offset", "per_channel"])
def test_rescaling(tmp_path, kw):
    check_model(_seq((4, 4, 3), L.Rescaling(**kw)), tmp_path)


@pytest.mark.parametrize("layer,shape", [
    (lambda: L.Flatten(), (3, 4, 2)),
    (lambda: L.Flatten(data_format="channels_first"), (3, 4, 2)),
    (lambda: L.Reshape((4, 6)), (24,)),
    (lambda: L.Reshape((-1, 3)), (4, 6)),
    (lambda: L.Permute((2, 1)), (3, 5)),
    (lambda: L.Permute((3, 1, 2)), (2, 3, 4)),
    (lambda: L.RepeatVector(3), (5,)),
    (lambda: L.ZeroPadding1D((1, 2)), (5, 3)),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 3))), (4, 4, 2)),
    (lambda: L.ZeroPadding2D(1), (4, 4, 2)),
    (lambda: L.Cropping1D((1, 2)), (7, 3)),
    (lambda: L.Cropping2D(((1, 0), (2, 1))), (6, 6, 2)),
    (lambda: L.UpSampling1D(3), (4, 2)),
    (lambda: L.UpSampling2D((2, 3)), (3, 4, 2)),
    (lambda: L.UpSampling2D(2, interpolation="bilinear"), (3, 4, 2)),
], ids=["flatten", "flatten_cf", "reshape", "reshape_minus1", "permute", "permute3", "repeat",
        "zpad1d", "zpad2d", "zpad2d_int", "crop1d", "crop2d", "up1d", "up2d_nearest",
        "up2d_bilinear"])
def test_reshaping(tmp_path, layer, shape):
    check_model(_seq(shape, layer()), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("cls", [L.Add, L.Multiply, L.Average, L.Maximum, L.Minimum])
def test_merge_three_inputs(tmp_path, cls):
    ins = [keras.Input((4, 3), name=f"in{i}") for i in range(3)]
    check_model(keras.Model(ins, cls(name="merged")(ins)), tmp_path,
                formats=("keras", "h5"))


def test_subtract_and_broadcast_rank(tmp_path):
    a = keras.Input((4, 3), name="a")
    b = keras.Input((3,), name="b")  # Keras inserts axes after the batch
    c = keras.Input((4, 3), name="c")
    out = L.Add(name="sum")([a, b])
    model = keras.Model([a, b, c], [out, L.Subtract(name="diff")([a, c])])
    check_model(model, tmp_path)


@pytest.mark.parametrize("axis", [-1, 1])
def test_concatenate(tmp_path, axis):
    a = keras.Input((4, 3), name="a")
    b = keras.Input((4, 3), name="b")
    check_model(keras.Model([a, b], L.Concatenate(axis=axis, name="cat")([a, b])),
                tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("axes,normalize,shapes", [
    (1, False, ((6,), (6,))), (1, True, ((6,), (6,))),
    ((2, 2), False, ((4, 5), (3, 5))), ((1, 1), False, ((4, 5), (4, 3))),
    ((2, 1), True, ((4, 5), (5, 3))), ((1, 2), False, ((4, 5), (3, 4))),
], ids=["2d", "2d_norm", "3d_22", "3d_11", "3d_21_norm", "3d_12"])
def test_dot(tmp_path, axes, normalize, shapes):
    a = keras.Input(shapes[0], name="a")
    b = keras.Input(shapes[1], name="b")
    out = L.Dot(axes=axes, normalize=normalize, name="dot")([a, b])
    check_model(keras.Model([a, b], out), tmp_path)


@pytest.mark.parametrize("kw,shape", [
    (dict(groups=2), (4, 4, 6)), (dict(groups=3, epsilon=0.01), (5, 6)),
    (dict(groups=6, center=False), (3, 6)), (dict(groups=1, scale=False), (2, 2, 4)),
], ids=["g2_nhwc", "g3_seq", "g6_nocenter", "g1_noscale"])
def test_group_normalization(tmp_path, kw, shape):
    model = _seq(shape, L.GroupNormalization(**kw))
    _randomize(model.layers[-1])
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("axis,shape", [(-1, (6,)), (1, (4, 3)), ([1, 2], (3, 4))],
                         ids=["last", "axis1", "axes12"])
def test_unit_normalization(tmp_path, axis, shape):
    check_model(_seq(shape, L.UnitNormalization(axis=axis)), tmp_path)


@pytest.mark.parametrize("kw", [dict(), dict(center=False), dict(axis=[1, 2])],
                         ids=["default", "nocenter", "axes12"])
def test_layer_normalization_rms_scaling(tmp_path, kw):
    model = _seq((3, 5), L.LayerNormalization(rms_scaling=True, **kw))
    _randomize(model.layers[-1])
    check_model(model, tmp_path)


@pytest.mark.parametrize("kw", [
    dict(height=6, width=10), dict(height=3, width=4),
    dict(height=5, width=5, interpolation="nearest"),
    dict(height=4, width=4, crop_to_aspect_ratio=True),
    dict(height=9, width=3, crop_to_aspect_ratio=True, interpolation="nearest"),
], ids=["up", "down", "nearest", "crop_square", "crop_tall_nearest"])
def test_resizing(tmp_path, kw):
    check_model(_seq((7, 8, 3), L.Resizing(**kw)), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("hw", [(4, 6), (5, 3), (7, 8)])
def test_center_crop(tmp_path, hw):
    check_model(_seq((7, 8, 3), L.CenterCrop(*hw)), tmp_path)


@pytest.mark.parametrize("kw,shape", [(dict(), (4, 6)), (dict(axis=[1, 2], epsilon=0.1),
                                                         (3, 4))], ids=["last", "axes12"])
def test_rms_normalization(tmp_path, kw, shape):
    model = _seq(shape, L.RMSNormalization(**kw))
    _randomize(model.layers[-1])
    check_model(model, tmp_path, formats=("keras", "h5"))
