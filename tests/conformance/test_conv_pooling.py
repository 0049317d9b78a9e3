"""Convolution and pooling layers, compared with Keras."""
import keras
import pytest

from harness import check_model, op_names

L = keras.layers


def _seq(shape, *layers):
    return keras.Sequential([keras.Input(shape, name="x"), *layers])


@pytest.mark.parametrize("kw", [
    dict(padding="valid"), dict(padding="same", strides=2),
    dict(padding="causal", dilation_rate=2), dict(padding="same", use_bias=False),
    dict(padding="valid", activation="relu", dilation_rate=3),
], ids=["valid", "same_s2", "causal_d2", "nobias", "relu_d3"])
def test_conv1d(tmp_path, kw):
    check_model(_seq((16, 3), L.Conv1D(4, 3, **kw)), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("kw", [dict(padding="causal", dilation_rate=2),
                                dict(padding="valid", strides=2)],
                         ids=["causal_d2", "valid_s2"])
def test_conv1d_one_channel_per_group(tmp_path, kw):
    """groups equal to the input channels: a DEPTHWISE_CONV_2D."""
    out = check_model(_seq((16, 3), L.Conv1D(6, 3, groups=3, **kw)), tmp_path,
                      formats=("keras", "h5"))
    assert "DEPTHWISE_CONV_2D" in op_names(out["keras"])


@pytest.mark.parametrize("kw", [
    dict(padding="valid"), dict(padding="same", strides=2),
    dict(padding="same", dilation_rate=2), dict(padding="valid", strides=(2, 1)),
    dict(padding="same", groups=2), dict(padding="valid", groups=4, use_bias=False),
    dict(padding="same", activation="relu6"), dict(padding="same", use_bias=False),
    dict(padding="valid", groups=4, strides=2, dilation_rate=1),
], ids=["valid", "same_s2", "dilated", "strides21", "groups2", "groups4_nobias",
        "relu6", "nobias", "groups4_s2"])
def test_conv2d(tmp_path, kw):
    check_model(_seq((9, 9, 4), L.Conv2D(8, (3, 2), **kw)), tmp_path,
                formats=("keras", "h5"))


@pytest.mark.parametrize("kw", [
    dict(padding="same", depth_multiplier=2), dict(padding="valid", strides=2),
    dict(padding="same", dilation_rate=2, use_bias=False),
], ids=["mult2", "valid_s2", "dilated_nobias"])
def test_depthwise_conv2d(tmp_path, kw):
    check_model(_seq((8, 8, 3), L.DepthwiseConv2D(3, **kw)), tmp_path,
                formats=("keras", "h5"))


def test_depthwise_conv1d(tmp_path):
    check_model(_seq((12, 3), L.DepthwiseConv1D(3, depth_multiplier=2, padding="same")),
                tmp_path)


@pytest.mark.parametrize("layer", [
    lambda: L.SeparableConv1D(5, 3, padding="same", depth_multiplier=2),
    lambda: L.SeparableConv2D(5, 3, padding="valid", strides=2, activation="relu"),
    lambda: L.SeparableConv2D(5, 3, padding="same", use_bias=False),
], ids=["sep1d", "sep2d", "sep2d_nobias"])
def test_separable(tmp_path, layer):
    made = layer()
    shape = (12, 3) if isinstance(made, L.SeparableConv1D) else (8, 8, 3)
    check_model(_seq(shape, made), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("kw", [
    dict(strides=2, padding="same"), dict(strides=2, padding="valid"),
    dict(strides=1, padding="valid", use_bias=False), dict(strides=3, padding="same"),
], ids=["s2_same", "s2_valid", "s1_nobias", "s3_same"])
def test_conv2d_transpose(tmp_path, kw):
    check_model(_seq((5, 5, 3), L.Conv2DTranspose(4, 3, **kw)), tmp_path,
                formats=("keras", "h5"))


@pytest.mark.parametrize("kw", [dict(strides=2, padding="same"),
                                dict(strides=2, padding="valid")], ids=["same", "valid"])
def test_conv1d_transpose(tmp_path, kw):
    check_model(_seq((6, 3), L.Conv1DTranspose(4, 3, **kw)), tmp_path)


@pytest.mark.parametrize("cls", [L.MaxPooling2D, L.AveragePooling2D])
@pytest.mark.parametrize("kw", [
    dict(pool_size=2), dict(pool_size=3, strides=2, padding="same"),
    dict(pool_size=(2, 3), strides=1, padding="valid"),
], ids=["default", "same", "valid_rect"])
def test_pooling2d(tmp_path, cls, kw):
    check_model(_seq((7, 7, 3), cls(**kw)), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("cls", [L.MaxPooling1D, L.AveragePooling1D])
@pytest.mark.parametrize("kw", [dict(pool_size=2),
                                dict(pool_size=3, strides=2, padding="same")],
                         ids=["default", "same"])
def test_pooling1d(tmp_path, cls, kw):
    check_model(_seq((9, 3), cls(**kw)), tmp_path)


@pytest.mark.parametrize("cls,shape", [
    (L.GlobalAveragePooling2D, (5, 5, 3)), (L.GlobalMaxPooling2D, (5, 5, 3)),
    (L.GlobalAveragePooling1D, (6, 3)), (L.GlobalMaxPooling1D, (6, 3)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(tmp_path, cls, shape, keepdims):
    check_model(_seq(shape, cls(keepdims=keepdims)), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("cls", [L.GlobalAveragePooling3D, L.GlobalMaxPooling3D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling3d(tmp_path, cls, keepdims):
    check_model(_seq((3, 4, 5, 2), cls(keepdims=keepdims)), tmp_path)


@pytest.mark.parametrize("kw", [
    dict(padding="valid"), dict(padding="same", strides=2),
    dict(padding="same", dilation_rate=2, use_bias=False, activation="relu"),
], ids=["valid", "same_s2", "dilated_nobias_relu"])
def test_conv3d(tmp_path, kw):
    check_model(_seq((6, 6, 6, 2), L.Conv3D(3, (3, 2, 3), **kw)), tmp_path,
                formats=("keras", "h5"))


@pytest.mark.parametrize("kw", [dict(strides=2, padding="same"),
                                dict(strides=2, padding="valid"),
                                dict(strides=1, padding="valid", use_bias=False)],
                         ids=["s2_same", "s2_valid", "s1_nobias"])
def test_conv3d_transpose(tmp_path, kw):
    check_model(_seq((3, 3, 3, 2), L.Conv3DTranspose(4, 3, **kw)), tmp_path)


@pytest.mark.parametrize("cls", [L.MaxPooling3D, L.AveragePooling3D])
@pytest.mark.parametrize("kw", [
    dict(pool_size=2), dict(pool_size=(3, 2, 3), strides=(2, 1, 2), padding="same"),
    dict(pool_size=(2, 3, 2), strides=1, padding="valid"),
], ids=["default", "same", "valid"])
def test_pooling3d(tmp_path, cls, kw):
    check_model(_seq((5, 6, 7, 2), cls(**kw)), tmp_path, formats=("keras", "h5"))
