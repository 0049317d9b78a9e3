"""The Python API beyond Keras' own cases: path and live exports give the
same bytes, LiteRTModel's inspection and running, verify, install, the
package without Keras, the console command, and every rejection path."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import keras2litert
from harness import assert_builtin_only
from tolerances import FP32

REPO = Path(__file__).resolve().parents[2]
BACKEND = keras.backend.backend()


def _dense_model(name="tiny"):
    x = keras.Input((6,), name="features")
    h = keras.layers.Dense(5, activation="relu", name="hidden")(x)
    y = keras.layers.Dense(2, name="score")(h)
    return keras.Model(x, y, name=name)


def _models():
    """Models whose live and path exports must be byte-identical."""
    seq = keras.Sequential(
        [keras.Input((8, 8, 3), name="image"),
         keras.layers.Conv2D(4, 3, activation="relu"),
         keras.layers.BatchNormalization(),
         keras.layers.GlobalAveragePooling2D(),
         keras.layers.Dense(3, activation="softmax")], name="cnn")
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    cat = keras.layers.Concatenate()([a, b])
    multi = keras.Model({"a": a, "b": b},
                        [keras.layers.Dense(2, name="left")(cat),
                         keras.layers.Dense(1, name="right")(cat)],
                        name="multi")
    t = keras.Input((5, 4), name="tokens")
    rnn = keras.Model(t, keras.layers.LSTM(3)(t), name="rnn")
    return {"sequential_cnn": seq, "dict_multi_io": multi,
            "lstm": rnn, "dense": _dense_model()}


@pytest.mark.parametrize("kind", ["sequential_cnn", "dict_multi_io", "lstm",
                                  "dense"])
def test_live_and_path_exports_are_byte_identical(tmp_path, kind):
    """The same model exported from memory and from model.save() gives the
    same file."""
    model = _models()[kind]
    live = tmp_path / "live.tflite"
    keras2litert.export(model, live, verbose=False)
    model.save(tmp_path / "m.keras")
    from_path = tmp_path / "path.tflite"
    keras2litert.export(tmp_path / "m.keras", from_path, verbose=False)
    assert live.read_bytes() == from_path.read_bytes()
    assert_builtin_only(live)


def test_export_report_fields(tmp_path):
    """export returns what it wrote: ports, ops and sizes; str is the
    summary."""
    r = keras2litert.export(_dense_model(), tmp_path / "m.tflite",
                            verbose=False)
    assert r.inputs == [("features", "float32[?, 6]")]
    assert r.outputs == [("score", "float32[?, 2]")]
    assert r.op_counts == {"FULLY_CONNECTED": 2}
    assert r.file_bytes == (tmp_path / "m.tflite").stat().st_size
    assert "builtin only" in str(r) and str(r) == r.summary
    assert [s for s, _ in r.stage_ms] == ["read", "lower", "optimize", "write"]


def test_dump_ir_callable(tmp_path):
    """dump_ir receives the IR after lowering and after every pass."""
    seen = []
    keras2litert.export(_dense_model(), tmp_path / "m.tflite", verbose=False,
                        dump_ir=lambda name, text: seen.append((name, text)))
    assert seen[0][0] == "lower" and "FullyConnected(" in seen[0][1]
    assert len(seen) > 3


# ---- LiteRTModel --------------------------------------------------------


@pytest.fixture
def dense_file(tmp_path):
    model = _dense_model()
    path = tmp_path / "m.tflite"
    keras2litert.export(model, path, verbose=False)
    return model, path


def test_litert_model_details_like_tf_lite(dense_file):
    """input_details and output_details carry tf.lite.Interpreter's keys."""
    _, path = dense_file
    m = keras2litert.LiteRTModel(path)
    (d,) = m.input_details
    assert d["name"] == "features" and d["dtype"] is np.float32
    assert list(d["shape"]) == [1, 6] and list(d["shape_signature"]) == [-1, 6]
    assert d["quantization"] == (0.0, 0)
    assert set(d["quantization_parameters"]) == {
        "scales", "zero_points", "quantized_dimension"}
    assert m.get_signature_list() == {
        "serving_default": {"inputs": ["features"], "outputs": ["score"]}}
    runner = m.get_signature_runner()
    assert list(runner.get_input_details()) == ["features"]
    assert list(runner.get_output_details()) == ["score"]
    assert "features[-1, 6]" in repr(m)


def test_litert_model_predict_forms_and_resize(dense_file):
    """predict by array, list and dict; resize_input; float64 is cast."""
    model, path = dense_file
    m = keras2litert.LiteRTModel(path, num_threads=2)
    x = np.random.default_rng(0).standard_normal((3, 6))  # float64
    want = keras.ops.convert_to_numpy(model(x.astype("float32")))
    np.testing.assert_allclose(m.predict(x), want, **FP32)
    np.testing.assert_allclose(m.predict([x]), want, **FP32)
    np.testing.assert_allclose(m.predict({"features": x})["score"], want,
                               **FP32)
    m.resize_input("features", [5, 6])
    assert list(m.input_details[0]["shape"]) == [5, 6]
    m.resize_input(0, [2, 6])
    np.testing.assert_allclose(m.predict(x[:2]), want[:2], **FP32)


def test_litert_model_from_bytes_and_save(dense_file, tmp_path):
    """A model loads from bytes, and save writes the same bytes back."""
    _, path = dense_file
    data = path.read_bytes()
    m = keras2litert.LiteRTModel(data)
    assert m.to_bytes() == data
    m.save(tmp_path / "copy.tflite")
    assert (tmp_path / "copy.tflite").read_bytes() == data


def test_litert_model_rejections(dense_file, tmp_path):
    """Bad files and bad calls are ValueErrors that say what is wrong."""
    _, path = dense_file
    with pytest.raises(ValueError, match="does not exist|cannot"):
        keras2litert.LiteRTModel(tmp_path / "missing.tflite")
    with pytest.raises(ValueError, match="LiteRT|flatbuffer|identifier"):
        keras2litert.LiteRTModel(b"not a model at all, just some bytes....")
    with pytest.raises(ValueError, match="takes the path of a .tflite"):
        keras2litert.LiteRTModel(42)
    with pytest.raises(ValueError, match="num_threads"):
        keras2litert.LiteRTModel(path, num_threads=0)
    m = keras2litert.LiteRTModel(path)
    with pytest.raises(ValueError, match="no signature 'nope'.*serving_default"):
        m.get_signature_runner("nope")
    with pytest.raises(ValueError, match="features"):
        m.predict(np.zeros((2, 7), np.float32))  # wrong inner dimension
    with pytest.raises(ValueError, match="2"):
        m.predict([np.zeros((1, 6), np.float32)] * 2)  # one input too many
    with pytest.raises(ValueError, match="complex64.*float32|float32.*complex64"):
        m.predict(np.zeros((1, 6), np.complex64))  # never cast across kinds
    with pytest.raises(ValueError, match="dtype <U1 cannot be passed"):
        m.predict(np.full((1, 6), "a"))
    with pytest.raises(ValueError, match="bogus"):
        m.predict({"bogus": np.zeros((1, 6), np.float32)})
    with pytest.raises(ValueError):
        m.resize_input(0, [2, 9])  # outside the shape signature


# ---- verify -------------------------------------------------------------


def test_verify_passes_on_a_faithful_file(dense_file):
    """verify reports per-output errors on both runtimes."""
    model, path = dense_file
    report = keras2litert.verify(model, path, n=3)
    assert report.passed and bool(report)
    runtimes = {c.runtime for c in report.checks}
    assert runtimes == {"keras2litert", "ai-edge-litert"}
    for c in report.checks:
        assert c.output == "score" and c.shape == (3, 2)
        assert c.max_abs_error <= 1e-5
    assert "PASS" in str(report)


def test_verify_fails_on_another_models_file(dense_file, tmp_path):
    """A file converted from different weights fails verify."""
    model, _ = dense_file
    other = _dense_model("other")
    other_path = tmp_path / "other.tflite"
    keras2litert.export(other, other_path, verbose=False)
    x = np.random.default_rng(1).standard_normal((4, 6)).astype("float32")
    report = keras2litert.verify(model, other_path, inputs=x)
    assert not report.passed
    assert "FAIL" in str(report)
    assert all(c.max_abs_error > 1e-3 for c in report.checks)


def test_verify_from_model_path_and_dict_inputs(tmp_path):
    """verify takes the .keras path and inputs by name."""
    model = _models()["dict_multi_io"]
    model.save(tmp_path / "m.keras")
    keras2litert.export(tmp_path / "m.keras", tmp_path / "m.tflite",
                        verbose=False)
    rng = np.random.default_rng(2)
    inputs = {"a": rng.standard_normal((2, 4)), "b": rng.standard_normal((2, 3))}
    report = keras2litert.verify(tmp_path / "m.keras", tmp_path / "m.tflite",
                                 inputs=inputs)
    assert report.passed, str(report)
    assert {c.output for c in report.checks} == {"left", "right"}


# ---- install ------------------------------------------------------------


def test_install_routes_model_export(tmp_path):
    """After install(), model.export(format="litert") is ours; other formats
    are Keras' own; uninstall() restores Keras."""
    model = _dense_model()
    original = keras.Model.export
    keras2litert.install()
    try:
        keras2litert.install()  # idempotent
        model.export(tmp_path / "via_keras.tflite", format="litert",
                     verbose=False)
        keras2litert.export(model, tmp_path / "direct.tflite", verbose=False)
        assert ((tmp_path / "via_keras.tflite").read_bytes()
                == (tmp_path / "direct.tflite").read_bytes())
        with pytest.raises(ValueError):
            model.export(tmp_path / "x", format="no_such_format")
    finally:
        keras2litert.uninstall()
    assert keras.Model.export is original


# ---- rejections ---------------------------------------------------------


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="my_subclass")
        self.dense = keras.layers.Dense(2)

    def call(self, x):
        return self.dense(x) * 2.0


def _assert_rejected(tmp_path, model, fragment, **kw):
    out = tmp_path / "out.tflite"
    with pytest.raises(ValueError, match=fragment):
        keras2litert.export(model, out, verbose=False, **kw)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".keras"]


def test_rejects_subclassed_model(tmp_path):
    """A subclassed model's call() is Python code: a clear error."""
    model = _Subclassed()
    model(np.zeros((1, 3), np.float32))
    _assert_rejected(tmp_path, model,
                     r"'my_subclass' \(_Subclassed\) is a subclassed model.*"
                     r"Functional API")


def test_rejects_non_tflite_output_path(tmp_path):
    """The output must end in .tflite."""
    out = tmp_path / "model.txt"
    with pytest.raises(ValueError, match=r"does not end in \.tflite"):
        keras2litert.export(_dense_model(), out, verbose=False)
    assert not out.exists()


def test_rejects_unsupported_layer(tmp_path):
    """A layer with no builtin lowering is named with its class."""
    x = keras.Input((3,), dtype="int32", name="ids")
    y = keras.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot",
                                      name="encode")(x)
    model = keras.Model(x, keras.layers.Dense(2)(y))
    _assert_rejected(tmp_path, model,
                     r"cannot be converted to LiteRT builtin ops:\n"
                     r"  - 'encode' \(CategoryEncoding\)")


def test_rejects_lambda(tmp_path):
    """A Lambda layer stores Python code: refused, never run."""
    x = keras.Input((3,))
    y = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    _assert_rejected(tmp_path, keras.Model(x, y),
                     r"executable layers: 'double' \(Lambda\)")


def test_rejects_wrong_input_signature_count(tmp_path):
    """One InputSpec per input, or a clear error."""
    spec = keras.InputSpec(shape=(None, 6))
    _assert_rejected(tmp_path, _dense_model(),
                     "input_signature has 2 entries but the model has 1 "
                     "input \\('features'\\)",
                     input_signature=[spec, spec])


@pytest.mark.parametrize("signature, fragment", [
    ([keras.InputSpec(shape=(None, 7))],
     "gives dimension 1 as 7 but the model fixes it to 6"),
    ([keras.InputSpec(shape=(None, None))],
     "gives dimension 1 as None but the model fixes it to 6"),
    ([keras.InputSpec(shape=(None, 6, 1))], "has rank 3"),
    ([keras.InputSpec(shape=(None, 6), dtype="int32")],
     "gives dtype int32 but the model's Input is float32"),
    ({"nope": keras.InputSpec(shape=(None, 6))},
     "names 'nope', which is not an input of the model"),
    ([(None, 6)], r"input_signature\[0\] is the shape \(None, 6\), not an "
                  r"input spec. Wrap it: keras.InputSpec\(shape=\(None, 6\)\)"),
    ([keras.InputSpec(shape=(None, 6)), "x"],
     r"input_signature\[1\] is a str, not an input spec"),
])
def test_rejects_bad_input_signature(tmp_path, signature, fragment):
    """A signature that contradicts the model names the input and the
    dimension."""
    _assert_rejected(tmp_path, _dense_model(), fragment,
                     input_signature=signature)


def test_input_signature_fixes_a_batch(tmp_path):
    """A fixed batch in the signature is kept; the rest still matches."""
    model = _dense_model()
    out = tmp_path / "m.tflite"
    keras2litert.export(model, out, verbose=False,
                        input_signature=keras.InputSpec(shape=(2, 6)))
    m = keras2litert.LiteRTModel(out)
    assert list(m.input_details[0]["shape_signature"]) == [2, 6]
    x = np.ones((2, 6), np.float32)
    np.testing.assert_allclose(m.predict(x), model.predict(x, verbose=0),
                               **FP32)


@pytest.mark.parametrize("options, fragment", [
    ({"optimizations": ["DEFAULT"]},
     "optimizations=.*post-training quantization.*does not implement yet"),
    ({"representative_dataset": lambda: iter([])}, "not implement yet"),
    ({"allow_custom_ops": True}, "only ever emits LiteRT builtin ops"),
    ({"frobnicate": 1}, "unknown option 'frobnicate'"),
    ({"dump_ir": 3}, "dump_ir must be True or a callable"),
])
def test_rejects_options(tmp_path, options, fragment):
    """Converter options we do not have are refused, never ignored."""
    _assert_rejected(tmp_path, _dense_model(), fragment, **options)


def test_rejects_non_models(tmp_path):
    """A layer, or something else entirely, is not a model."""
    _assert_rejected(tmp_path, keras.layers.Dense(2, name="d"),
                     "got the layer 'd' \\(Dense\\). Wrap it in a model")
    _assert_rejected(tmp_path, object(), "takes a keras.Model or a path")
    with pytest.raises(ValueError, match="filepath must be a str"):
        keras2litert.export(_dense_model(), 42, verbose=False)


def test_rejects_missing_source_path(tmp_path):
    """A path that does not exist is named."""
    with pytest.raises(ValueError, match="does not exist"):
        keras2litert.export(tmp_path / "none.keras", tmp_path / "o.tflite",
                            verbose=False)


# ---- the package itself -------------------------------------------------


def test_package_works_without_keras(dense_file, tmp_path):
    """Importing the package, exporting a file and running a model need no
    Keras."""
    model, path = dense_file
    model.save(tmp_path / "m.keras")
    code = textwrap.dedent(f"""
        import sys
        sys.modules["keras"] = None  # any import of keras now fails
        import numpy as np
        import keras2litert
        keras2litert.export({str(tmp_path / 'm.keras')!r},
                            {str(tmp_path / 'nk.tflite')!r}, verbose=False)
        m = keras2litert.LiteRTModel({str(tmp_path / 'nk.tflite')!r})
        print(m.predict(np.ones((1, 6), np.float32)).shape)
        try:
            keras2litert.export(object(), {str(tmp_path / 'x.tflite')!r})
        except ValueError as e:
            print("error:", e)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "(1, 2)" in proc.stdout
    assert "exporting a live model needs Keras 3" in proc.stdout
    assert (tmp_path / "nk.tflite").read_bytes() == path.read_bytes()


def test_console_command_is_installed(dense_file, tmp_path):
    """pip installs the `keras2litert` command beside the interpreter."""
    model, path = dense_file
    model.save(tmp_path / "m.keras")
    cli = Path(sys.executable).parent / "keras2litert"
    proc = subprocess.run([str(cli), "convert", str(tmp_path / "m.keras"),
                           "-o", str(tmp_path / "cli.tflite")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "signature 'serving_default'" in proc.stdout
    assert (tmp_path / "cli.tflite").read_bytes() == path.read_bytes()


def _readme_python_blocks():
    text = (REPO / "README.md").read_text()
    start = text.index("## Python")
    section = text[start:text.index("\n## ", start + 1)]
    blocks = section.split("```python\n")[1:]
    return [b.split("```")[0] for b in blocks]


def test_readme_quick_start_runs_as_written(tmp_path):
    """The README's Python quick-start, executed verbatim."""
    blocks = _readme_python_blocks()
    assert blocks, "README has no ```python block under '## Python'"
    env = dict(os.environ, KERAS_BACKEND=BACKEND)
    proc = subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout
    assert (tmp_path / "model.tflite").exists()


def test_rejects_keras_hub_models_that_are_not_tasks(tmp_path):
    """A Keras-Hub model that is not a task (a backbone) has no task head
    or signature to export: the error says to wrap it in its task."""
    x = keras.Input((3,))
    cls = type("FakeBackbone", (keras.Model,), {"__module__": "keras_hub.models"})
    model = cls(x, keras.layers.Dense(2)(x))
    _assert_rejected(tmp_path, model,
                     "FakeBackbone is a Keras-Hub model but not a task")


def test_sequence_length_is_for_hub_tasks(tmp_path):
    """sequence_length on a plain Keras model points to input_signature."""
    _assert_rejected(tmp_path, _dense_model(),
                     "sequence_length applies to Keras-Hub tasks",
                     sequence_length=16)
    _assert_rejected(tmp_path, _dense_model(),
                     "sequence_length must be a positive int",
                     sequence_length=0)


def test_rejects_unbuilt_sequential(tmp_path):
    """A Sequential never built has no input shape to export."""
    model = keras.Sequential([keras.layers.Dense(2)], name="unbuilt")
    with pytest.warns(UserWarning):
        _assert_rejected(tmp_path, model,
                         "Sequential model 'unbuilt' was never built")
