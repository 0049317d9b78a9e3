"""Whole models: real Keras graphs converted by the CLI and run in LiteRT."""
import keras
import numpy as np
import pytest

from harness import check_model


def _applications_case(ctor, size):
    # weights=None: random init from the fixed seed; a small input keeps the
    # suite fast while exercising every layer of the architecture.
    return ctor(weights=None, input_shape=(size, size, 3), classes=10)


@pytest.mark.parametrize("name,ctor,size", [
    ("mobilenet_v2", keras.applications.MobileNetV2, 64),
    ("resnet50", keras.applications.ResNet50, 64),
    ("efficientnet_b0", keras.applications.EfficientNetB0, 64),
    ("densenet121", keras.applications.DenseNet121, 64),
])
def test_keras_applications(tmp_path, name, ctor, size):
    model = _applications_case(ctor, size)
    check_model(model, tmp_path, name=name, batches=(2, 4))


def test_multi_input_multi_output(tmp_path):
    image = keras.Input((16, 16, 3), name="image")
    meta = keras.Input((5,), name="meta")
    x = keras.layers.Conv2D(8, 3, activation="relu")(image)
    x = keras.layers.GlobalAveragePooling2D()(x)
    m = keras.layers.Dense(8, activation="tanh")(meta)
    h = keras.layers.Concatenate()([x, m])
    score = keras.layers.Dense(1, activation="sigmoid", name="score")(h)
    klass = keras.layers.Dense(4, activation="softmax", name="klass")(h)
    model = keras.Model([image, meta], [score, klass])
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_dict_inputs_and_outputs(tmp_path):
    a = keras.Input((6,), name="alpha")
    b = keras.Input((6,), name="beta")
    s = keras.layers.Add()([keras.layers.Dense(4)(a), keras.layers.Dense(4)(b)])
    model = keras.Model({"alpha": a, "beta": b},
                        {"sum": s, "prod": keras.layers.Multiply()([s, s])})
    check_model(model, tmp_path)


def test_nested_models(tmp_path):
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, keras.layers.Dense(8, activation="relu")(inner_in),
                        name="inner")
    seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)], name="head")
    x = keras.Input((8,), name="x")
    y = seq(inner(inner(x)))  # the nested Functional is also called twice
    model = keras.Model(x, y)
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_shared_layer(tmp_path):
    a = keras.Input((5,), name="left")
    b = keras.Input((5,), name="right")
    shared = keras.layers.Dense(7, activation="relu", name="tower")
    d = keras.layers.Subtract(name="diff")([shared(a), shared(b)])
    model = keras.Model([a, b], keras.layers.Dense(1, name="same")(d))
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_conv1d_text_model(tmp_path):
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(100, 16)(tokens)
    x = keras.layers.Conv1D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Conv1D(32, 3, padding="causal", dilation_rate=2,
                            activation="relu")(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    model = keras.Model(tokens, keras.layers.Dense(2, activation="softmax",
                                                   name="sentiment")(x))
    rng = np.random.default_rng(0)

    def feeds(batch):
        return {"tokens": rng.integers(0, 100, size=(batch, 12)).astype("int32")}

    check_model(model, tmp_path, feeds_fn=feeds)


def test_small_unet(tmp_path):
    inp = keras.Input((32, 32, 3), name="image")
    c1 = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    p1 = keras.layers.MaxPooling2D()(c1)
    c2 = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(p1)
    p2 = keras.layers.MaxPooling2D()(c2)
    b = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(p2)
    u2 = keras.layers.Conv2DTranspose(16, 2, strides=2, padding="same")(b)
    c3 = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(
        keras.layers.Concatenate()([u2, c2]))
    u1 = keras.layers.Conv2DTranspose(8, 2, strides=2, padding="same")(c3)
    c4 = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(
        keras.layers.Concatenate()([u1, c1]))
    out = keras.layers.Conv2D(1, 1, activation="sigmoid", name="mask")(c4)
    check_model(keras.Model(inp, out), tmp_path)


def test_legacy_h5_sequential(tmp_path):
    model = keras.Sequential([
        keras.Input((10,), name="x"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile("adam", "categorical_crossentropy")
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(32, 10)), np.eye(4)[rng.integers(0, 4, 32)],
              epochs=1, verbose=0)
    check_model(model, tmp_path, formats=("h5",))


def test_bundled_example(tmp_path):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    import make_small_cnn
    check_model(make_small_cnn.build(), tmp_path, formats=("keras", "h5"))


def test_3d_cnn(tmp_path):
    """Whole model: a small 3D CNN over video-like clips."""
    x = keras.Input((6, 16, 16, 2), name="clip")
    h = keras.layers.Conv3D(8, 3, padding="same", activation="relu")(x)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.MaxPooling3D(2)(h)
    h = keras.layers.Conv3D(12, (1, 3, 3), strides=(1, 2, 2), activation="relu")(h)
    h = keras.layers.AveragePooling3D((1, 2, 2), padding="same")(h)
    h = keras.layers.Conv3DTranspose(4, 2, strides=2)(h)
    h = keras.layers.GlobalAveragePooling3D()(h)
    y = keras.layers.Dense(5, activation="softmax", name="action")(h)
    model = keras.Model(x, y)
    rng = np.random.default_rng(3)
    for w in model.weights:
        v = rng.standard_normal(w.shape) * 0.3
        if "variance" in w.path:
            v = np.abs(v) + 0.5  # a variance is positive
        w.assign(v.astype("float32"))
    out = model.predict(rng.standard_normal((2, 6, 16, 16, 2)), verbose=0)
    assert np.isfinite(out).all()
    check_model(model, tmp_path, formats=("keras", "h5"))
