"""Normalization, reshaping and merge layers, compared with Keras."""
import json
import zipfile

import keras
import numpy as np
import pytest

from harness import check_model, run_cli

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
    (dict(center=False, epsilon=0.1), (3, 4)), (dict(axis=1), (3, 4, 5)),
    (dict(renorm=True), (4, 3)),
], ids=["nhwc", "axis1", "noscale", "nocenter_eps", "axis1_rank4", "renorm"])
def test_batch_normalization(tmp_path, kw, shape):
    model = _seq(shape, L.BatchNormalization(**kw))
    bn = model.layers[-1]
    names = [w.path.split("/")[-1] for w in bn.weights]
    # moving variance (and renorm's stddev) > 0
    _randomize(bn, positive=tuple(i for i, n in enumerate(names)
                                  if "variance" in n or "stddev" in n))
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


def test_layer_normalization_large_mean(tmp_path):
    """Inputs whose mean is 100x their spread: centring loses float32 digits,
    and Keras' own jitted result is ~1e-5 off the exact value (measured: up to
    7e-5 on 512 rows, and eager Keras differs from jitted Keras likewise). So
    this case compares at atol 2e-4; it guards against a lowering that
    loses more than that, such as E[x^2] - E[x]^2."""
    model = _seq((16,), L.LayerNormalization())
    _randomize(model.layers[-1])
    check_model(model, tmp_path, tol={"atol": 2e-4, "rtol": 1e-5}, feeds_fn=lambda b: {
        "x": (100 + np.random.default_rng(b).standard_normal((b, 16))).astype("float32")})


def test_normalization_adapted(tmp_path):
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(0).normal(3.0, 2.0, (64, 5)).astype("float32"))
    check_model(_seq((5,), norm), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_from_config(tmp_path, invert):
    norm = L.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0],
                           invert=invert)
    check_model(_seq((4, 3), norm), tmp_path)


@pytest.mark.parametrize("axis,invert", [(None, False), ((1, 2), False), (1, True)],
                         ids=["all_axes", "axes12", "axis1_invert"])
def test_normalization_adapted_axes(tmp_path, axis, invert):
    norm = L.Normalization(axis=axis, invert=invert)
    norm.adapt(np.random.default_rng(1).normal(-2.0, 3.0, (64, 4, 3)).astype("float32"))
    check_model(_seq((4, 3), norm), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("mean,variance", [
    (2.0, 3.0),                                                # scalars
    ([1.0, 2.0, 3.0], [1.0, 4.0, 9.0]),                        # aligned right
    (np.arange(12.0).reshape(4, 3), np.arange(1.0, 13.0).reshape(4, 3)),
], ids=["scalar", "broadcast_right", "nested"])
def test_normalization_config_shapes(tmp_path, mean, variance):
    norm = L.Normalization(axis=(1, 2), mean=mean, variance=variance)
    check_model(_seq((4, 3), norm), tmp_path)


def test_normalization_casts_int_input(tmp_path):
    x = keras.Input((3,), dtype="int32", name="x")
    norm = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.0])
    check_model(keras.Model(x, norm(x)), tmp_path)


@pytest.mark.parametrize("kw", [dict(scale=1 / 255.0), dict(scale=2.0, offset=-1.0),
                                dict(scale=[0.5, 2.0, 3.0], offset=0.25),
                                dict(scale=np.array([0.5, 2.0, 3.0], "float32"),
                                     offset=np.array([[1.0], [2.0], [3.0], [4.0]]))],
                         ids=["scale", "offset", "per_channel", "numpy_arrays"])
def test_rescaling(tmp_path, kw):
    check_model(_seq((4, 4, 3), L.Rescaling(**kw)), tmp_path)


def test_rescaling_uint8_image(tmp_path):
    x = keras.Input((4, 4, 3), dtype="uint8", name="image")
    model = keras.Model(x, L.Rescaling(1 / 127.5, offset=-1.0, name="scaled")(x))
    rng = np.random.default_rng(0)
    check_model(model, tmp_path, formats=("keras", "h5"), feeds_fn=lambda b: {
        "image": rng.integers(0, 256, (b, 4, 4, 3)).astype("uint8")})


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
    (lambda: L.Permute((3, 1, 4, 2)), (2, 3, 4, 5)),
    (lambda: L.ZeroPadding2D(((1, 2), (0, 1)), data_format="channels_first"), (2, 4, 5)),
    (lambda: L.Cropping2D(((1, 2), (0, 1)), data_format="channels_first"), (2, 6, 5)),
    (lambda: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), (2, 3, 4, 2)),
    (lambda: L.Cropping3D(((1, 0), (0, 2), (1, 1))), (4, 5, 6, 2)),
    (lambda: L.UpSampling3D((2, 1, 3)), (2, 3, 2, 2)),
    (lambda: L.UpSampling3D(2, data_format="channels_first"), (2, 2, 3, 2)),
], ids=["flatten", "flatten_cf", "reshape", "reshape_minus1", "permute", "permute3", "repeat",
        "zpad1d", "zpad2d", "zpad2d_int", "crop1d", "crop2d", "up1d", "up2d_nearest",
        "up2d_bilinear", "permute4", "zpad2d_cf", "crop2d_cf", "zpad3d", "crop3d", "up3d",
        "up3d_cf"])
def test_reshaping(tmp_path, layer, shape):
    check_model(_seq(shape, layer()), tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("hw", [(1, 1), (3, 5), (7, 6)])
def test_upsampling2d_factors(tmp_path, hw):
    """RESIZE_NEAREST_NEIGHBOR (no half-pixel) must repeat pixels exactly as
    Keras' ops.repeat does, and RESIZE_BILINEAR with half-pixel centers must
    match jax.image.resize, for factors whose 1/f rounds either way."""
    x = keras.Input((*hw, 2), name="x")
    outs = [L.UpSampling2D(f, interpolation=i, name=f"{i}_{f[0]}_{f[1]}")(x)
            for i in ("nearest", "bilinear") for f in [(5, 7), (10, 3), (25, 11)]]
    check_model(keras.Model(x, outs), tmp_path, batches=(1, 2))


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


@pytest.mark.parametrize("cls", [L.Add, L.Maximum, L.Average])
def test_merge_broadcasts_unit_dims(tmp_path, cls):
    a = keras.Input((1, 3), name="a")
    b = keras.Input((4, 3), name="b")
    c = keras.Input((2, 4, 1), name="c")  # rank 4: a and b gain axes at 1
    check_model(keras.Model([a, b, c], cls(name="merged")([a, b, c])), tmp_path)


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
    ((1, 1), False, ((5,), (5, 3))), ((1, 2), True, ((3,), (4, 3))),
    ((2, 1), False, ((4, 5), (5,))), (-1, False, ((4, 5), (3, 5))),
    ((3, 1), False, ((2, 4, 5), (5, 3))), ((2, 1), True, ((2, 4, 5), (4, 3, 2))),
    ((1, 3), False, ((3, 2), (2, 4, 3))),
], ids=["2d", "2d_norm", "3d_22", "3d_11", "3d_21_norm", "3d_12", "2d_3d", "2d_3d_norm",
        "3d_2d", "neg", "4d_3d", "4d_4d_norm", "2d_4d"])
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


@pytest.mark.parametrize("kw", [dict(), dict(center=False), dict(axis=[1, 2]),
                                dict(scale=False)],
                         ids=["default", "nocenter", "axes12", "noscale_keeps_gamma"])
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


# Rejections: each names the layer, says why, and exits with code 2.

def _edit_config(src, layer_name, **changes):
    """Rewrites one layer's config inside a saved .keras archive."""
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(files["config.json"])
    for layer in cfg["config"]["layers"]:
        if layer["config"].get("name") == layer_name:
            layer["config"].update(changes)
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(src, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return src


def _rejects(model, tmp_path, fragments, **edits):
    src = tmp_path / "m.keras"
    model.save(src)
    for layer_name, changes in edits.items():
        _edit_config(src, layer_name, **changes)
    out = tmp_path / "o.tflite"
    proc = run_cli("convert", src, "-o", out)
    assert proc.returncode == 2, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("interp", ["bicubic", "lanczos3"])
def test_upsampling2d_interpolation_without_builtin(tmp_path, interp):
    model = _seq((3, 4, 2), L.UpSampling2D(2, interpolation=interp, name="up"))
    _rejects(model, tmp_path, ["'up' (UpSampling2D)", f"interpolation='{interp}'",
                               "no LiteRT builtin", "'nearest' or 'bilinear'"])


def test_upsampling2d_channels_first(tmp_path):
    model = _seq((2, 3, 4), L.UpSampling2D(2, data_format="channels_first", name="up"))
    _rejects(model, tmp_path, ["'up' (UpSampling2D)", "channels_first",
                               "data_format='channels_last'"])


def test_reshape_of_dynamic_dims(tmp_path):
    model = keras.Sequential([keras.Input((None, 4), name="x"),
                              L.Reshape((-1, 2), name="rs")])
    _rejects(model, tmp_path, ["'rs' (Reshape)", "dynamic non-batch dim",
                               "fixed non-batch dimensions"])


@pytest.mark.parametrize("shape,layer,edit,fragment", [
    ((4, 3), lambda: L.Reshape((3, 4), name="bad"), dict(target_shape=[5, 5]),
     "cannot reshape"),
    ((4, 3), lambda: L.Reshape((3, 4), name="bad"), dict(target_shape=[0, 4]),
     "positive int32"),
    ((4, 3), lambda: L.Permute((2, 1), name="bad"), dict(dims=[1, 1]), "not a permutation"),
    ((4, 3), lambda: L.UpSampling1D(2, name="bad"), dict(size=0), "positive factor"),
    ((4, 4, 3), lambda: L.UpSampling2D(2, name="bad"), dict(size=[2, 2**31]), "int32"),
    ((4, 4, 3), lambda: L.ZeroPadding2D(1, name="bad"), dict(data_format="channels_middle"),
     "data_format='channels_middle'"),
], ids=["reshape_count", "reshape_zero", "permute_repeat", "up1d_zero", "up2d_huge",
        "zpad_format"])
def test_malformed_reshaping_configs(tmp_path, shape, layer, edit, fragment):
    _rejects(_seq(shape, layer()), tmp_path, ["'bad'", fragment], bad=edit)


def test_repeat_vector_count_below_one(tmp_path):
    _rejects(_seq((3,), L.RepeatVector(2, name="rep")), tmp_path,
             ["'rep' (RepeatVector)", "positive factor"], rep=dict(n=0))


def test_dot_axes_of_unequal_size(tmp_path):
    a = keras.Input((4, 5), name="a")
    b = keras.Input((5, 3), name="b")
    model = keras.Model([a, b], L.Dot(axes=(2, 1), name="dot")([a, b]))
    _rejects(model, tmp_path, ["'dot' (Dot)", "equal non-batch axes"],
             dot=dict(axes=[1, 1]))
