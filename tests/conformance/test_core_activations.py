"""Core and activation layers, one model each, compared with Keras."""
import keras
import numpy as np
import pytest

from harness import check_model

ACTIVATIONS = ["relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax",
               "log_softmax", "gelu", "silu", "swish", "hard_silu", "elu",
               "selu", "leaky_relu", "softplus", "softsign", "exponential",
               "mish", "linear", "log_sigmoid", "tanh_shrink", "hard_tanh"]


def _dense_model(**kw):
    return keras.Sequential([keras.Input((6,), name="x"),
                             keras.layers.Dense(5, **kw)])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_function(tmp_path, activation):
    check_model(_dense_model(activation=activation), tmp_path)


def test_gelu_approximate(tmp_path):
    x = keras.Input((6,), name="x")
    y = keras.layers.Activation(keras.activations.gelu)(x)
    check_model(keras.Model(x, y), tmp_path)


@pytest.mark.parametrize("kw", [
    {}, {"max_value": 6.0}, {"max_value": 2.5}, {"negative_slope": 0.1},
    {"threshold": 0.5}, {"negative_slope": 0.2, "max_value": 3.0, "threshold": 0.5},
])
def test_relu_layer(tmp_path, kw):
    model = keras.Sequential([keras.Input((3, 4), name="x"), keras.layers.ReLU(**kw)])
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("layer", [
    lambda: keras.layers.LeakyReLU(negative_slope=0.15),
    lambda: keras.layers.ELU(alpha=1.0),
    lambda: keras.layers.ELU(alpha=0.5),
    lambda: keras.layers.Softmax(),
    lambda: keras.layers.Softmax(axis=1),
    lambda: keras.layers.Activation("swish"),
], ids=["leaky", "elu", "elu_alpha", "softmax", "softmax_axis1", "activation"])
def test_activation_layers(tmp_path, layer):
    model = keras.Sequential([keras.Input((3, 4), name="x"), layer()])
    check_model(model, tmp_path)


@pytest.mark.parametrize("shared_axes", [None, [1, 2]])
def test_prelu(tmp_path, shared_axes):
    model = keras.Sequential([keras.Input((4, 4, 3), name="x"),
                              keras.layers.PReLU(shared_axes=shared_axes)])
    layer = model.layers[-1]
    rng = np.random.default_rng(3)
    layer.set_weights([rng.uniform(0.1, 0.5, w.shape) for w in layer.get_weights()])
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_rank3(tmp_path, use_bias):
    model = keras.Sequential([keras.Input((5, 6), name="seq"),
                              keras.layers.Dense(3, use_bias=use_bias,
                                                 activation="relu")])
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_embedding(tmp_path, dtype):
    ids = keras.Input((7,), dtype=dtype, name="ids")
    model = keras.Model(ids, keras.layers.Embedding(50, 4, name="emb")(ids))
    rng = np.random.default_rng(0)

    def feeds(batch):
        return {"ids": rng.integers(0, 50, size=(batch, 7)).astype(dtype)}

    check_model(model, tmp_path, feeds_fn=feeds, formats=("keras", "h5"))


@pytest.mark.parametrize("layer", [
    lambda: keras.layers.Identity(), lambda: keras.layers.Dropout(0.5),
    lambda: keras.layers.SpatialDropout1D(0.5),
    lambda: keras.layers.GaussianNoise(1.0),
    lambda: keras.layers.GaussianDropout(0.3),
    lambda: keras.layers.AlphaDropout(0.3),
    lambda: keras.layers.ActivityRegularization(l1=0.1),
], ids=["identity", "dropout", "spatial1d", "gnoise", "gdropout", "alpha",
        "actreg"])
def test_inference_noops(tmp_path, layer):
    x = keras.Input((4, 6), name="x")
    y = keras.layers.Dense(3, name="out")(layer()(x))
    check_model(keras.Model(x, y), tmp_path)


@pytest.mark.parametrize("layer,shape", [
    (lambda: keras.layers.SpatialDropout2D(0.5), (4, 4, 3)),
    (lambda: keras.layers.SpatialDropout3D(0.5), (2, 4, 4, 3)),
], ids=["spatial2d", "spatial3d"])
def test_spatial_dropout_nd(tmp_path, layer, shape):
    x = keras.Input(shape, name="x")
    y = keras.layers.Dense(2, name="out")(layer()(x))
    check_model(keras.Model(x, y), tmp_path)
