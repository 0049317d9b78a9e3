"""Builds the bundled example model (examples/small_cnn.keras) with real Keras.

A small image classifier with the layers most models start with: Conv2D,
BatchNormalization, ReLU, pooling, Dense and softmax. Weights are seeded
random values, and the BatchNormalization statistics are made non-trivial so
that folding them is actually exercised.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402


def build():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6",
                                     name="dw2")(x)
    x = keras.layers.Conv2D(32, 1, activation="relu", name="pw2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probs")(x)
    model = keras.Model(inputs, outputs, name="small_cnn")
    rng = np.random.default_rng(7)
    bn = model.get_layer("bn1")
    gamma, beta, mean, var = bn.get_weights()
    bn.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(size=beta.shape),
                    rng.normal(size=mean.shape), rng.uniform(0.5, 2.0, var.shape)])
    return model


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "small_cnn.keras")
    build().save(out)
    print(f"wrote {out}")
