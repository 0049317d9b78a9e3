"""The cases of Keras's own LiteRT export tests (keras/src/export/litert_test.py),
ported to keras2litert.export with live models.

Each case builds the model in memory on the backend KERAS_BACKEND names,
exports it, and compares Keras with both ai-edge-litert and our runtime
(keras2litert.LiteRTModel) at fp32 tolerance. Keras's own file checks at
1e-4 and only on TensorFlow; here every case runs on JAX and NumPy at 1e-5.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
_CONFORMANCE = str(Path(__file__).resolve().parents[1] / "conformance")
if _CONFORMANCE not in sys.path:  # the conftest adds it; harmless if it did
    sys.path.insert(0, _CONFORMANCE)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402
from keras import layers  # noqa: E402

import keras2litert  # noqa: E402
from harness import assert_builtin_only  # noqa: E402
from tolerances import FP32  # noqa: E402

BACKEND = keras.backend.backend()


@pytest.fixture(autouse=True)
def _fresh_names():
    """Auto-named layers ("add", "dense", "input_layer") start over in each
    test, so the signature names the tests expect do not depend on order."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield


# -- models (get_model of the Keras file) -------------------------------------


def _stack():
    return [
        layers.Dense(10, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(1, activation="sigmoid"),
    ]


def _set_bn_stats(model, rng):
    """Gives the BatchNormalization non-trivial gamma, beta and moving stats."""
    bn = next(l for l in model.layers if isinstance(l, layers.BatchNormalization))
    bn.set_weights([
        rng.uniform(0.5, 1.5, 10).astype("float32"),   # gamma
        rng.normal(0.0, 0.5, 10).astype("float32"),    # beta
        rng.normal(0.0, 0.5, 10).astype("float32"),    # moving_mean
        rng.uniform(0.5, 2.0, 10).astype("float32"),   # moving_variance
    ])


def _get_model(kind, rng):
    if kind == "sequential":
        model = keras.Sequential(_stack())
        model.build((None, 10))
    elif kind == "functional":
        inp = out = layers.Input((10,))
        for layer in _stack():
            out = layer(out)
        model = keras.Model(inp, out)
    elif kind == "multi_output":
        inp = layers.Input((10,))
        shared = layers.Dense(20, activation="relu")(inp)
        o1 = layers.Dense(1, activation="sigmoid", name="output1")(shared)
        o2 = layers.Dense(3, activation="softmax", name="output2")(shared)
        return keras.Model(inp, [o1, o2])
    elif kind == "lstm":
        inp = layers.Input((4, 10))
        x = layers.Bidirectional(
            layers.LSTM(10, kernel_initializer="he_normal", return_sequences=True),
            merge_mode="sum")(inp)
        out = layers.Bidirectional(
            layers.LSTM(10, kernel_initializer="he_normal", return_sequences=True),
            merge_mode="concat")(x)
        return keras.Model(inp, out)
    else:
        raise ValueError(kind)
    _set_bn_stats(model, rng)
    return model


def _add_model(struct):
    if struct == "dict":
        x, y = layers.Input((10,), name="x"), layers.Input((10,), name="y")
        return keras.Model(inputs={"x": x, "y": y}, outputs=layers.Add()([x, y]))
    i1 = layers.Input((10,), name="input_1")
    i2 = layers.Input((10,), name="input_2")
    return keras.Model(inputs=[i1, i2], outputs=layers.Add()([i1, i2]))


# -- helpers ------------------------------------------------------------------


def _normal(rng, *shape):
    return rng.standard_normal(shape).astype("float32")


def _export(model, tmp_path, **kwargs):
    kwargs.setdefault("verbose", False)
    path = Path(tmp_path) / "m.tflite"
    report = keras2litert.export(model, path, **kwargs)
    assert path.is_file() and report.file_bytes == path.stat().st_size
    assert_builtin_only(path)
    return path


def _as_list(outs):
    return [np.asarray(o) for o in outs] if isinstance(outs, (list, tuple)) else [np.asarray(outs)]


def _keras(model, x):
    """Keras's outputs, as a list by position (model.predict)."""
    return _as_list(model.predict(x, verbose=0))


def _keras_call(model, x):
    """Keras's outputs through model(x), as a list by position."""
    return _as_list(keras.tree.map_structure(keras.ops.convert_to_numpy, model(x)))


def _close(got, want, what=""):
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != Keras {want.shape}"
    np.testing.assert_allclose(got, want, **FP32, err_msg=what)


def _close_all(got, want, what=""):
    assert len(got) == len(want), f"{what}: {len(got)} outputs != Keras {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        _close(g, w, f"{what} output {k}")


def _run_litert(path, feeds):
    """ai-edge-litert by tensor: `feeds` is a list by position or a dict by
    input name; each input is resized to its feed's shape first."""
    interp = Interpreter(model_path=str(path))
    details = interp.get_input_details()
    if isinstance(feeds, dict):
        assert sorted(d["name"] for d in details) == sorted(feeds)
        values = [feeds[d["name"]] for d in details]
    else:
        values = list(feeds)
    assert len(values) == len(details)
    for d, v in zip(details, values):
        interp.resize_tensor_input(d["index"], v.shape)
    interp.allocate_tensors()
    for d, v in zip(details, values):
        interp.set_tensor(d["index"], v)
    interp.invoke()
    return [interp.get_tensor(d["index"]) for d in interp.get_output_details()]


def _check_both(path, x, want):
    """Both runtimes on `x` (array, list by position or dict by name) against
    Keras's outputs `want` (a list by position)."""
    feeds = x if isinstance(x, dict) else _as_list(x)
    _close_all(_run_litert(path, feeds), want, "ai-edge-litert")
    ours = keras2litert.LiteRTModel(path).predict(x)
    if isinstance(x, dict):
        assert isinstance(ours, dict)
        ours = list(ours.values())
    _close_all(_as_list(ours), want, "LiteRTModel")


def _check_signatures(path, inputs, outputs, feeds, want):
    """Both runtimes list exactly these signature names, and their signature
    runners on `feeds` give `want` (a dict by output name)."""
    expected = {"serving_default": {"inputs": inputs, "outputs": outputs}}
    interp = Interpreter(model_path=str(path))
    ours = keras2litert.LiteRTModel(path)
    for label, rt in (("ai-edge-litert", interp), ("LiteRTModel", ours)):
        sigs = rt.get_signature_list()
        assert {k: {"inputs": sorted(v["inputs"]), "outputs": sorted(v["outputs"])}
                for k, v in sigs.items()} == {
            "serving_default": {"inputs": sorted(inputs), "outputs": sorted(outputs)}
        }, (label, sigs, expected)
        got = rt.get_signature_runner("serving_default")(**feeds)
        assert isinstance(got, dict) and sorted(got) == sorted(want), (label, sorted(got))
        for name, w in want.items():
            _close(got[name], w, f"{label} signature output {name}")


# -- ExportLitertInterpreterTest ----------------------------------------------


@pytest.mark.parametrize("model_type", ["sequential", "functional"])
def test_standard_model_export(tmp_path, model_type):
    """Ports test_standard_model_export (Dense -> BatchNorm -> Dense)."""
    rng = np.random.default_rng(0)
    model = _get_model(model_type, rng)
    _export(model, tmp_path)
    for batch in (1, 3):
        x = _normal(rng, batch, 10)
        want = _keras(model, x)
        _close_all(_keras_call(model, x), want, "model(x) vs predict")
        _check_both(tmp_path / "m.tflite", x, want)


def test_standard_model_export_batchnorm_matters(tmp_path):
    """Ports test_standard_model_export: the BatchNorm stats reach the file."""
    rng = np.random.default_rng(0)
    model = _get_model("functional", rng)
    x = _normal(rng, 4, 10)
    want = _keras(model, x)
    bn = model.layers[2]
    trained = bn.get_weights()
    bn.set_weights([np.ones(10, "float32"), np.zeros(10, "float32"),
                    np.zeros(10, "float32"), np.ones(10, "float32")])
    plain = _keras(model, x)
    bn.set_weights(trained)
    assert np.abs(plain[0] - want[0]).max() > 1e-3
    _check_both(_export(model, tmp_path), x, want)


def test_standard_model_export_lstm(tmp_path):
    """Ports test_standard_model_export with the "lstm" model (Bidirectional LSTMs)."""
    rng = np.random.default_rng(0)
    model = _get_model("lstm", rng)
    path = _export(model, tmp_path)
    x = _normal(rng, 3, 4, 10)
    _check_both(path, x, _keras(model, x))


@pytest.mark.parametrize("struct_type", ["tuple", "array", "dict"])
def test_model_with_input_structure(tmp_path, struct_type):
    """Ports test_model_with_input_structure (tuple, list and dict inputs to Add)."""
    rng = np.random.default_rng(0)
    model = _add_model(struct_type)
    base = _normal(rng, 2, 10)
    names = ["x", "y"] if struct_type == "dict" else ["input_1", "input_2"]
    if struct_type == "tuple":
        ref = (base, base * 2)
    elif struct_type == "array":
        ref = [base, base * 2]
    else:
        ref = {"x": base, "y": base * 2}
    want = _keras_call(model, ref)
    _close(want[0], base * 3, "Keras Add")
    path = _export(model, tmp_path)
    _check_both(path, ref, want)
    feeds = dict(zip(names, (base, base * 2)))
    _check_signatures(path, names, ["add"], feeds, {"add": want[0]})


def test_model_with_multiple_inputs(tmp_path):
    """Ports test_model_with_multiple_inputs (batch 1, then resized to batch 2)."""
    rng = np.random.default_rng(0)
    x_in, y_in = layers.Input((10,), name="x"), layers.Input((10,), name="y")
    model = keras.Model([x_in, y_in], layers.Add()([x_in, y_in]))
    path = _export(model, tmp_path)
    x1, y1 = _normal(rng, 1, 10), _normal(rng, 1, 10)
    x2, y2 = np.concatenate([x1, x1]), np.concatenate([y1, y1])
    want1, want2 = _keras(model, [x1, y1]), _keras(model, [x2, y2])

    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    details = interp.get_input_details()
    assert [list(d["shape"]) for d in details] == [[1, 10], [1, 10]]
    for xs, want in (((x1, y1), want1), ((x2, y2), want2)):
        for d, v in zip(details, xs):
            interp.resize_tensor_input(d["index"], v.shape)
        interp.allocate_tensors()
        for d, v in zip(details, xs):
            interp.set_tensor(d["index"], v)
        interp.invoke()
        _close(interp.get_tensor(interp.get_output_details()[0]["index"]),
               want[0], "ai-edge-litert")

    ours = keras2litert.LiteRTModel(path)
    _close(ours.predict([x1, y1]), want1[0], "LiteRTModel batch 1")
    ours.resize_input(0, (2, 10))
    ours.resize_input("y", (2, 10))
    assert [list(d["shape"]) for d in ours.input_details] == [[2, 10], [2, 10]]
    _close(ours.predict([x2, y2]), want2[0], "LiteRTModel resized")
    # predict resizes by itself, back to batch 1 and up to batch 2
    fresh = keras2litert.LiteRTModel(path)
    _close(fresh.predict([x1, y1]), want1[0], "LiteRTModel batch 1")
    _close(fresh.predict((x2, y2)), want2[0], "LiteRTModel batch 2")


def test_export_with_custom_input_signature(tmp_path):
    """Ports test_export_with_custom_input_signature (dynamic batch)."""
    rng = np.random.default_rng(0)
    model = _get_model("sequential", rng)
    path = _export(model, tmp_path,
                   input_signature=[keras.InputSpec(shape=(None, 10), dtype="float32")])
    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    for details in (interp.get_input_details(),
                    keras2litert.LiteRTModel(path).input_details):
        assert len(details) == 1
        assert tuple(details[0]["shape"][1:]) == (10,)
        assert details[0]["shape_signature"][0] == -1
        assert details[0]["dtype"] == np.float32
    x = _normal(rng, 5, 10)
    _check_both(path, x, _keras(model, x))


def test_export_with_fixed_batch_input_signature(tmp_path):
    """Ports test_export_with_custom_input_signature with a fixed batch of 1."""
    rng = np.random.default_rng(0)
    model = _get_model("sequential", rng)
    path = _export(model, tmp_path, input_signature=[keras.InputSpec(shape=(1, 10))])
    interp = Interpreter(model_path=str(path))
    ours = keras2litert.LiteRTModel(path)
    for details in (interp.get_input_details(), ours.input_details):
        assert list(details[0]["shape_signature"]) == [1, 10]
        assert list(details[0]["shape"]) == [1, 10]
    x = _normal(rng, 1, 10)
    _check_both(path, x, _keras(model, x))


def test_multi_output_model_export(tmp_path):
    """Ports test_multi_output_model_export (outputs by position and by name)."""
    rng = np.random.default_rng(0)
    model = _get_model("multi_output", rng)
    path = _export(model, tmp_path)
    x = _normal(rng, 3, 10)
    want = _keras(model, x)
    assert [w.shape for w in want] == [(3, 1), (3, 3)]
    _check_both(path, x, want)
    _check_signatures(path, ["input_layer"], ["output1", "output2"],
                      {"input_layer": x}, {"output1": want[0], "output2": want[1]})


def test_export_with_verbose(tmp_path, capfd):
    """Ports test_export_with_verbose (summary on stdout, progress bar on stderr)."""
    rng = np.random.default_rng(0)
    model = _get_model("sequential", rng)
    report = keras2litert.export(model, tmp_path / "m.tflite", verbose=True)
    out, err = capfd.readouterr()
    assert out == report.summary == str(report)
    for part in ("wrote", "signature 'serving_default'", "builtin only"):
        assert part in out, (part, out)
    assert any("%" in line and "lower" in line for line in err.split("\r")), err
    interp = Interpreter(model_path=str(tmp_path / "m.tflite"))
    assert len(interp.get_input_details()) == 1
    x = _normal(rng, 2, 10)
    _check_both(tmp_path / "m.tflite", x, _keras(model, x))


def test_export_not_verbose(tmp_path, capfd):
    """Ports test_export_with_verbose: verbose=False prints nothing."""
    model = _get_model("sequential", np.random.default_rng(0))
    report = keras2litert.export(model, tmp_path / "m.tflite", verbose=False)
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out, err)
    assert "wrote" in report.summary


# -- SignatureDef tests -------------------------------------------------------


def test_signature_def_with_named_model(tmp_path):
    """Ports test_signature_def_with_named_model (feature_input -> prediction_output)."""
    rng = np.random.default_rng(0)
    inp = layers.Input((10,), name="feature_input")
    x = layers.Dense(32, activation="relu", name="encoder")(inp)
    x = layers.Dense(16, activation="relu", name="bottleneck")(x)
    out = layers.Dense(1, activation="sigmoid", name="prediction_output")(x)
    model = keras.Model(inp, out, name="named_model")
    path = _export(model, tmp_path)
    x = _normal(rng, 2, 10)
    want = _keras(model, x)
    _check_signatures(path, ["feature_input"], ["prediction_output"],
                      {"feature_input": x}, {"prediction_output": want[0]})


def test_signature_def_with_functional_model(tmp_path):
    """Ports test_signature_def_with_functional_model (input_layer -> output_layer)."""
    rng = np.random.default_rng(0)
    inp = layers.Input((10,), name="input_layer")
    x = layers.Dense(32, activation="relu", name="hidden_layer")(inp)
    out = layers.Dense(1, activation="sigmoid", name="output_layer")(x)
    model = keras.Model(inp, out, name="functional_model")
    path = _export(model, tmp_path)
    x = _normal(rng, 2, 10)
    want = _keras(model, x)
    _check_signatures(path, ["input_layer"], ["output_layer"],
                      {"input_layer": x}, {"output_layer": want[0]})


def test_signature_def_with_multi_input_model(tmp_path):
    """Ports test_signature_def_with_multi_input_model (input_1, input_2 of shapes 10 and 5)."""
    rng = np.random.default_rng(0)
    i1, i2 = layers.Input((10,), name="input_1"), layers.Input((5,), name="input_2")
    concat = layers.Concatenate(name="concat_layer")([i1, i2])
    out = layers.Dense(1, activation="sigmoid", name="output")(concat)
    model = keras.Model([i1, i2], out, name="multi_input_model")
    path = _export(model, tmp_path)
    a, b = _normal(rng, 2, 10), _normal(rng, 2, 5)
    want = _keras(model, [a, b])
    _check_signatures(path, ["input_1", "input_2"], ["output"],
                      {"input_1": a, "input_2": b}, {"output": want[0]})
    _check_both(path, [a, b], want)


def test_signature_def_with_multi_output_model(tmp_path):
    """Ports test_signature_def_with_multi_output_model (output_1, output_2 by name)."""
    rng = np.random.default_rng(0)
    inp = layers.Input((10,), name="input_layer")
    x = layers.Dense(32, activation="relu", name="shared_layer")(inp)
    o1 = layers.Dense(1, activation="sigmoid", name="output_1")(x)
    o2 = layers.Dense(2, activation="softmax", name="output_2")(x)
    model = keras.Model(inp, [o1, o2], name="multi_output_model")
    path = _export(model, tmp_path)
    x = _normal(rng, 2, 10)
    want = _keras(model, x)
    _check_signatures(path, ["input_layer"], ["output_1", "output_2"],
                      {"input_layer": x}, {"output_1": want[0], "output_2": want[1]})
    _check_both(path, x, want)


# -- dict inputs --------------------------------------------------------------


def test_dict_input_native(tmp_path):
    """Ports test_dict_input_native (dict of two inputs to Add, fed by name)."""
    rng = np.random.default_rng(0)
    model = _add_model("dict")
    path = _export(model, tmp_path)
    assert len(Interpreter(model_path=str(path)).get_input_details()) == 2
    feeds = {"x": _normal(rng, 1, 10), "y": _normal(rng, 1, 10)}
    want = _keras_call(model, feeds)
    _check_both(path, feeds, want)
    assert list(keras2litert.LiteRTModel(path).predict(feeds)) == ["add"]


def test_dict_input_signature_inference(tmp_path):
    """Ports test_dict_input_signature_inference (shapes (5,) and (3,))."""
    rng = np.random.default_rng(0)
    a, b = layers.Input((5,), name="feature_a"), layers.Input((3,), name="feature_b")
    out = layers.Dense(1)(layers.Concatenate()([a, b]))
    model = keras.Model(inputs={"feature_a": a, "feature_b": b}, outputs=out)
    path = _export(model, tmp_path)
    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    for details in (interp.get_input_details(),
                    keras2litert.LiteRTModel(path).input_details):
        assert len(details) == 2
        shapes = {d["name"]: tuple(d["shape"][1:]) for d in details}
        assert shapes == {"feature_a": (5,), "feature_b": (3,)}
        assert all(d["shape_signature"][0] == -1 for d in details)
    feeds = {"feature_a": _normal(rng, 2, 5), "feature_b": _normal(rng, 2, 3)}
    want = _keras(model, feeds)
    _check_both(path, feeds, want)
    _check_signatures(path, ["feature_a", "feature_b"], ["dense"], feeds,
                      {"dense": want[0]})


def test_dict_input_with_custom_signature(tmp_path):
    """Ports test_dict_input_with_custom_signature (dict of InputSpecs, Multiply)."""
    rng = np.random.default_rng(0)
    ix, iy = layers.Input((10,), name="input_x"), layers.Input((10,), name="input_y")
    model = keras.Model(inputs={"input_x": ix, "input_y": iy},
                        outputs=layers.Multiply()([ix, iy]))
    signature = {
        "input_x": keras.InputSpec(shape=(None, 10), dtype="float32", name="input_x"),
        "input_y": keras.InputSpec(shape=(None, 10), dtype="float32", name="input_y"),
    }
    path = _export(model, tmp_path, input_signature=signature)
    feeds = {"input_x": _normal(rng, 1, 10), "input_y": _normal(rng, 1, 10)}
    want = _keras_call(model, feeds)
    _close(want[0], feeds["input_x"] * feeds["input_y"], "Keras Multiply")
    _check_both(path, feeds, want)
    _check_signatures(path, ["input_x", "input_y"], ["multiply"], feeds,
                      {"multiply": want[0]})


def test_dict_input_numerical_accuracy(tmp_path):
    """Ports test_dict_input_numerical_accuracy (tokens/mask, 1e-5)."""
    rng = np.random.default_rng(0)
    tokens, mask = layers.Input((20,), name="tokens"), layers.Input((20,), name="mask")
    x1 = layers.Dense(16, activation="relu")(tokens)
    x2 = layers.Dense(16, activation="relu")(mask)
    out = layers.Dense(1, activation="sigmoid")(layers.Multiply()([x1, x2]))
    model = keras.Model(inputs={"tokens": tokens, "mask": mask}, outputs=out)
    path = _export(model, tmp_path)
    for batch in (1, 8):
        feeds = {"tokens": _normal(rng, batch, 20), "mask": _normal(rng, batch, 20)}
        _check_both(path, feeds, _keras_call(model, feeds))


def test_dict_input_preserves_variable_sharing(tmp_path):
    """Ports test_dict_input_preserves_variable_sharing (one Dense on two inputs)."""
    rng = np.random.default_rng(0)
    shared = layers.Dense(8, activation="relu")
    a, b = layers.Input((10,), name="branch_a"), layers.Input((10,), name="branch_b")
    out = layers.Add()([shared(a), shared(b)])
    model = keras.Model(inputs={"branch_a": a, "branch_b": b}, outputs=out)
    # Keras trains briefly for meaningful weights; set them directly so the
    # case also runs on the NumPy backend.
    shared.set_weights([_normal(rng, 10, 8), _normal(rng, 8)])
    assert len(model.weights) == 2
    path = _export(model, tmp_path)
    feeds = {"branch_a": _normal(rng, 3, 10), "branch_b": _normal(rng, 3, 10)}
    want = _keras_call(model, feeds)
    # the same kernel on both inputs: swapping them gives the same sum
    swapped = {"branch_a": feeds["branch_b"], "branch_b": feeds["branch_a"]}
    _close(_keras_call(model, swapped)[0], want[0], "Keras swapped")
    _check_both(path, feeds, want)
    _check_both(path, swapped, want)


def test_dict_input_multi_output_model(tmp_path):
    """Ports test_dict_input_multi_output_model (output_a (5,), output_b (3,))."""
    rng = np.random.default_rng(0)
    f1, f2 = layers.Input((10,), name="feature_1"), layers.Input((10,), name="feature_2")
    o1 = layers.Dense(5, name="output_a")(f1)
    o2 = layers.Dense(3, name="output_b")(f2)
    model = keras.Model(inputs={"feature_1": f1, "feature_2": f2}, outputs=[o1, o2])
    path = _export(model, tmp_path)
    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    assert len(interp.get_input_details()) == 2
    for details in (interp.get_output_details(),
                    keras2litert.LiteRTModel(path).output_details):
        assert [tuple(d["shape"][1:]) for d in details] == [(5,), (3,)]
    feeds = {"feature_1": _normal(rng, 2, 10), "feature_2": _normal(rng, 2, 10)}
    want = _keras(model, feeds)
    _check_both(path, feeds, want)
    _check_signatures(path, ["feature_1", "feature_2"], ["output_a", "output_b"],
                      feeds, {"output_a": want[0], "output_b": want[1]})


# -- a trained model ----------------------------------------------------------


def test_trained_model_export(tmp_path):
    """Ports the fit of test_dict_input_preserves_variable_sharing: export after training."""
    if BACKEND == "numpy":
        pytest.skip("the NumPy backend cannot train")
    rng = np.random.default_rng(0)
    model = _get_model("functional", rng)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x_test = _normal(rng, 8, 10)
    before_w = [w.copy() for w in model.get_weights()]
    before = _keras(model, x_test)
    model.fit(_normal(rng, 64, 10), rng.uniform(size=(64, 1)).astype("float32"),
              epochs=1, batch_size=16, verbose=0)
    after_w = model.get_weights()
    assert any(np.abs(a - b).max() > 1e-4 for a, b in zip(after_w, before_w))
    want = _keras(model, x_test)
    path = _export(model, tmp_path)
    _check_both(path, x_test, want)
    untrained = keras.models.clone_model(model)
    untrained.set_weights(before_w)
    _close_all(_keras(untrained, x_test), before, "untrained clone")
    got = keras2litert.LiteRTModel(path).predict(x_test)
    assert np.abs(got - before[0]).max() > 1e-3, "the export kept the untrained weights"
