"""keras.ops calls in Functional models, compared with Keras."""
import keras
import numpy as np
import pytest
from keras import ops

from harness import check_model, run_cli


def _model(fn, shape=(4, 3), **inputs):
    x = keras.Input(shape, name="x")
    return keras.Model(x, fn(x))


CASES = {
    "add_scalar": lambda x: ops.add(x, 1.5),
    "add_int_scalar": lambda x: ops.add(x, 2),
    "subtract": lambda x: ops.subtract(3.0, x),
    "multiply": lambda x: ops.multiply(x, x),
    "divide": lambda x: ops.divide(x, 4.0),
    "true_divide": lambda x: ops.true_divide(x, ops.add(ops.abs(x), 1.0)),
    "maximum_minimum": lambda x: ops.minimum(ops.maximum(x, -0.5), 0.5),
    "power": lambda x: ops.power(ops.abs(x), 2.0),
    "sqrt_rsqrt": lambda x: ops.sqrt(ops.abs(x)) + ops.rsqrt(ops.abs(x) + 1.0),
    "exp_log": lambda x: ops.log(ops.exp(x) + 1.0),
    "negative_square": lambda x: ops.negative(ops.square(x)),
    "matmul": lambda x: ops.matmul(ops.transpose(x, (0, 2, 1)), x),
    "matmul_const": lambda x: ops.matmul(x, np.arange(6, dtype="float32").reshape(3, 2)),
    "transpose_default": lambda x: ops.transpose(ops.expand_dims(x, 0), (1, 3, 2, 0)),
    "reshape": lambda x: ops.reshape(x, (-1, 12)),
    "expand_squeeze": lambda x: ops.squeeze(ops.expand_dims(x, 2), 2),
    "concatenate": lambda x: ops.concatenate([x, ops.multiply(x, 2.0)], axis=1),
    "mean": lambda x: ops.mean(x, axis=1, keepdims=True),
    "sum": lambda x: ops.sum(x, axis=-1),
    "max": lambda x: ops.max(x, axis=(1, 2)),
    "min": lambda x: ops.min(x, axis=1),
    "where": lambda x: ops.where(ops.greater(x, 0.0), x, ops.multiply(x, 0.1)),
    "where_scalar": lambda x: ops.where(ops.less(x, 0.2), 0.0, x),
    "take": lambda x: ops.take(x, [0, 2, -1], axis=1),
    "cast_roundtrip": lambda x: ops.cast(ops.cast(ops.multiply(x, 10.0), "int32"),
                                         "float32"),
    "pad_zeros": lambda x: ops.pad(x, [[0, 0], [1, 2], [0, 1]]),
    "pad_constant": lambda x: ops.pad(x, [[0, 0], [2, 0], [1, 1]],
                                      constant_values=-3.5),
    "pad_one_pair": lambda x: ops.pad(x, [[1, 1]], constant_values=0.25),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_op(tmp_path, name):
    check_model(_model(CASES[name]), tmp_path)


def test_split_outputs(tmp_path):
    x = keras.Input((4, 6), name="x")
    a, b, c = ops.split(x, 3, axis=-1)
    model = keras.Model(x, {"a": a, "b": ops.add(b, c)})
    check_model(model, tmp_path)


def test_ops_add_is_not_the_add_layer(tmp_path):
    """keras.ops.add and layers.Add share a class name; x + 1.0 must not be
    taken for a one-input Add layer (which would be the identity)."""
    model = _model(lambda x: ops.add(x, 1.0))
    check_model(model, tmp_path, formats=("keras",))


def test_pad_modes_other_than_constant_are_refused(tmp_path):
    model = _model(lambda x: ops.pad(x, [[0, 0], [1, 1], [0, 0]],
                                     mode="reflect"))
    model.save(tmp_path / "m.keras")
    proc = run_cli("convert", tmp_path / "m.keras", "-o", tmp_path / "o.tflite")
    assert proc.returncode == 2
    assert "(Pad): mode='reflect' is not supported. Supported values are " \
        "'constant'" in proc.stderr, proc.stderr
    assert not (tmp_path / "o.tflite").exists()


def test_unsupported_op_is_named(tmp_path):
    model = _model(lambda x: ops.cumsum(x, axis=1), shape=(4,))
    model.save(tmp_path / "m.keras")
    proc = run_cli("convert", tmp_path / "m.keras", "-o", tmp_path / "o.tflite")
    assert proc.returncode == 2
    assert "(keras.ops Cumsum)" in proc.stderr, proc.stderr
    assert not (tmp_path / "o.tflite").exists()


@pytest.mark.parametrize("steps", [6, None])
def test_split_at_indices(tmp_path, steps):
    x = keras.Input((steps, 4), name="x")
    a, b, c = ops.split(x, [2, 5], axis=1)
    d, e = ops.split(x, [1], axis=-1)
    model = keras.Model(x, {"a": a, "b": b, "c": c, "d": d, "e": e})
    check_model(model, tmp_path)


SLICES = {
    "range": lambda x: x[:, 1:3],
    "negative_int": lambda x: x[:, -1],
    "int_and_step": lambda x: x[:, 0, ::2],
    "ellipsis": lambda x: x[..., 1:],
    "newaxis": lambda x: x[:, None, 2, :, None],
    "negative_step": lambda x: x[:, ::-1, 1:3],
    "negative_bounds": lambda x: x[:, -3:-1, :-1],
}


@pytest.mark.parametrize("name", SLICES)
def test_getitem_slicing(tmp_path, name):
    check_model(_model(SLICES[name], shape=(4, 5, 3)), tmp_path)


def test_getitem_dynamic_dim(tmp_path):
    model = _model(lambda x: x[:, 1:-1, 0], shape=(None, 3))
    check_model(model, tmp_path)
