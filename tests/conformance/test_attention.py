"""EinsumDense and attention layers, against Keras predict."""
import keras
import numpy as np
import pytest

from harness import check_model


def _randomize(model, seed=0, scale=0.4):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign((rng.standard_normal(w.shape) * scale).astype("float32"))
    return model


EINSUM = {
    # name: (input shape, equation, output_shape, bias_axes)
    "dense_2d": ((5,), "ab,bc->ac", 4, "c"),
    "dense_3d": ((3, 5), "abc,cd->abd", (3, 4), "d"),
    "mha_projection": ((3, 6), "abc,cde->abde", (3, 2, 4), "de"),
    "mha_output": ((3, 2, 4), "abcd,cde->abe", (3, 5), "e"),
    "ellipsis": ((2, 3, 5), "...b,bc->...c", 4, "c"),
    "reordered_output": ((3, 6), "abc,cde->aebd", (4, 3, 2), None),
    "kernel_contract_last": ((3, 6), "abc,dc->abd", (3, 4), "d"),
    "contract_middle": ((4, 3, 2), "abcd,bde->ace", (3, 5), None),
    "bias_on_middle_axis": ((3, 6), "abc,cde->abde", (3, 2, 4), "d"),
}


@pytest.mark.parametrize("name", EINSUM)
def test_einsum_dense(tmp_path, name):
    shape, eq, out_shape, bias = EINSUM[name]
    x = keras.Input(shape, name="x")
    y = keras.layers.EinsumDense(eq, output_shape=out_shape, bias_axes=bias,
                                 activation="gelu")(x)
    check_model(_randomize(keras.Model(x, y)), tmp_path,
                formats=("keras", "h5"))


def test_einsum_dense_dynamic_sequence(tmp_path):
    x = keras.Input((None, 6), name="x")
    y = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3),
                                 bias_axes="de")(x)
    z = keras.layers.EinsumDense("abcd,cde->abe", output_shape=(None, 4),
                                 bias_axes="e")(y)
    check_model(_randomize(keras.Model(x, z)), tmp_path)
