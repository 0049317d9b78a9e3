"""Rejection paths: each asserts the exit code, a message fragment, and that
no output file is left behind."""
import zipfile

import keras
import numpy as np
import pytest

from harness import run_cli


def _convert_fails(src, out, fragment, code=2):
    proc = run_cli("convert", src, "-o", out)
    assert proc.returncode == code, proc.stderr
    assert fragment in proc.stderr, proc.stderr
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())
    return proc.stderr


def _save(model, path):
    model.save(path)
    return path


def test_several_unsupported_layers_listed_together(tmp_path):
    x = keras.Input((4, 5, 6), name="x")
    y = keras.layers.ConvLSTM1D(3, 2, name="lstm_a")(x)
    z = keras.layers.Dense(4)(keras.layers.ConvLSTM1D(2, 3, name="lstm_b")(x))
    model = keras.Model(x, [y, z])
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "cannot be converted")
    assert "'lstm_a' (ConvLSTM1D)" in err and "'lstm_b' (ConvLSTM1D)" in err
    assert "not yet lowered (a convolutional recurrent cell)" in err


def test_unread_tensor_keyword_argument(tmp_path):
    # Softmax takes a mask tensor by keyword; dropping it would be wrong.
    x = keras.Input((4,), name="x")
    m = keras.Input((4,), name="m", dtype="bool")
    y = keras.layers.Softmax(name="sm")(x, mask=m)
    model = keras.Model([x, m], y)
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'sm' (Softmax)")
    assert "'mask' argument" in err


def test_lambda_refused_as_code(tmp_path):
    x = keras.Input((3,), name="x")
    model = keras.Model(x, keras.layers.Lambda(lambda t: t * 2, name="double")(x))
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'double' (Lambda)")
    assert "untrusted" in err


def test_corrupt_zip(tmp_path):
    src = tmp_path / "bad.keras"
    src.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 20)
    _convert_fails(src, tmp_path / "o.tflite", "bad.keras")


def test_truncated_hdf5(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    full = _save(model, tmp_path / "m.h5").read_bytes()
    src = tmp_path / "cut.h5"
    src.write_bytes(full[: len(full) // 3])
    _convert_fails(src, tmp_path / "o.tflite", "cut.h5")


def test_missing_config_json(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    good = _save(model, tmp_path / "m.keras")
    src = tmp_path / "noconfig.keras"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(src, "w") as zout:
        for item in zin.infolist():
            if item.filename != "config.json":
                zout.writestr(item, zin.read(item.filename))
    _convert_fails(src, tmp_path / "o.tflite", "config.json")


def _rewrite_weights(src, dst, edit):
    """Copies a .keras zip, applying `edit(h5py.File)` to its weights."""
    import h5py
    import io
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "model.weights.h5":
                buf = io.BytesIO(data)
                with h5py.File(buf, "r+") as f:
                    edit(f)
                data = buf.getvalue()
            zout.writestr(item, data)


def test_weights_missing_for_a_layer(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="d1"),
                              keras.layers.Dense(2, name="d2")])
    good = _save(model, tmp_path / "m.keras")
    bad = tmp_path / "missing.keras"
    _rewrite_weights(good, bad, lambda f: f["layers/dense_1/vars"].clear())
    err = _convert_fails(bad, tmp_path / "o.tflite", "'d2' (Dense)")
    assert "variables" in err


def test_weight_shape_contradicts_config(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="d1")])
    good = _save(model, tmp_path / "m.keras")
    bad = tmp_path / "shape.keras"

    def edit(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=np.zeros((5, 4), "float32"))

    _rewrite_weights(good, bad, edit)
    err = _convert_fails(bad, tmp_path / "o.tflite", "'d1' (Dense)")
    assert "[5, 4]" in err and "[3, 4]" in err


def test_channels_first_without_lowering(tmp_path):
    model = keras.Sequential([keras.Input((3, 8, 8)),
                              keras.layers.Conv2D(4, 3, data_format="channels_first",
                                                  name="cf")])
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'cf' (Conv2D)")
    assert "channels_last" in err  # the fix it suggests


def test_output_in_missing_folder(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    src = _save(model, tmp_path / "m.keras")
    out = tmp_path / "nope" / "o.tflite"
    proc = run_cli("convert", src, "-o", out)
    assert proc.returncode == 2 and "does not exist" in proc.stderr, proc.stderr
    assert not out.parent.exists()


def test_output_not_tflite(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    src = _save(model, tmp_path / "m.keras")
    _convert_fails(src, tmp_path / "o.bin", ".tflite")


def test_missing_source(tmp_path):
    _convert_fails(tmp_path / "nothing.keras", tmp_path / "o.tflite", "nothing.keras")


def test_not_a_model(tmp_path):
    src = tmp_path / "text.keras"
    src.write_text("hello, I am not a model")
    _convert_fails(src, tmp_path / "o.tflite", "text.keras")


def test_inspect_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    proc = run_cli("inspect", bad)
    assert proc.returncode == 2 and "not a valid LiteRT model" in proc.stderr


@pytest.mark.parametrize("config", [
    '["not", "a", "model"]',
    '{"class_name": "Functional", "config": {"layers": ["oops"], "input_layers": 5}}',
    '{"class_name": "Functional", "config": {"layers": [{"class_name": "Dense", '
    '"name": "d", "config": {"units": "many"}, "inbound_nodes": [{"args": 3}]}], '
    '"input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}',
    '{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", '
    '"config": {"batch_shape": "wide"}}, {"class_name": "Dense", "config": 7}]}}',
    '{"class_name": "Sequential", "config": {"layers": 12}}',
    '{"class_name": "Functional", "config": {"layers": [], "input_layers": [], '
    '"output_layers": [["ghost", 0, 0]]}}',
    "{not json",
], ids=["array", "strings", "bad_nodes", "bad_input", "layers_int", "ghost_output",
        "not_json"])
def test_malformed_configs_are_errors_not_crashes(tmp_path, config):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    folder = tmp_path / "broken"
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        z.extractall(folder)
    (folder / "config.json").write_text(config)
    out = tmp_path / "o.tflite"
    proc = run_cli("convert", folder, "-o", out)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("error: ") and "broken" in proc.stderr
    assert not out.exists()


def test_center_crop_larger_than_input(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 3)),
                              keras.layers.CenterCrop(6, 6, name="crop")])
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'crop' (CenterCrop)")
    assert "smaller than the crop" in err and "Resizing" in err


@pytest.mark.parametrize("layer,fragment", [
    (lambda: keras.layers.Conv2DTranspose(2, 3, dilation_rate=2, name="up"),
     "dilation_rate"),
    (lambda: keras.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1, name="up"),
     "output_padding"),
], ids=["dilation", "output_padding"])
def test_transposed_conv_options_without_lowering(tmp_path, layer, fragment):
    model = keras.Sequential([keras.Input((5, 5, 3)), layer()])
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'up' (Conv2DTranspose)")
    assert fragment in err


def test_stateful_rnn_refused(tmp_path):
    x = keras.Input(batch_shape=(2, 5, 3), name="x")
    model = keras.Model(x, keras.layers.LSTM(4, stateful=True, name="st")(x))
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'st' (LSTM): it is stateful")
    assert "initial_state" in err and "return_state=True" in err


@keras.saving.register_keras_serializable(package="k2l_test")
class _MinimalCell(keras.layers.Layer):
    def __init__(self, units, **kw):
        super().__init__(**kw)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs, states):
        h = keras.ops.matmul(inputs, self.kernel) + states[0]
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_rnn_cell_refused(tmp_path):
    x = keras.Input((5, 3), name="x")
    model = keras.Model(x, keras.layers.RNN(_MinimalCell(4), name="custom")(x))
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'custom' (RNN): its cell is '_MinimalCell'")
    assert "LSTMCell, GRUCell and SimpleRNNCell" in err


def test_mask_into_layer_that_cannot_apply_it(tmp_path):
    # Functional: the mask arrives as the call's `mask` keyword tensor.
    ids = keras.Input((6,), dtype="int32", name="ids")
    e = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    y = keras.layers.GlobalAveragePooling1D(name="gap")(e)
    model = keras.Model(ids, y)
    _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                   "'gap' (GlobalAveragePooling1D): it is called with a "
                   "tensor as its 'mask' argument")


def test_implicit_mask_into_layer_that_cannot_apply_it(tmp_path):
    # Sequential: no mask in the file; the replayed mask reaches the pooling.
    model = keras.Sequential([
        keras.Input((6,), dtype="int32"),
        keras.layers.Embedding(10, 4, mask_zero=True),
        keras.layers.GlobalAveragePooling1D(name="gap"),
    ])
    _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                   "'gap' (GlobalAveragePooling1D): receives a Keras mask")


@pytest.mark.parametrize("equation,fragment", [
    ("abc,cd->bad", "does not keep the batch axis"),
    ("abb,bc->ac", "repeats the letter 'b'"),
], ids=["moves_batch", "diagonal"])
def test_einsum_equation_without_lowering(tmp_path, equation, fragment):
    x = keras.Input((4, 4), name="x")
    layer = keras.layers.EinsumDense(equation, (None, 5, 3) if "bad" in equation
                                     else (3,), name="ein")
    model = keras.Model(x, layer(x))
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'ein' (EinsumDense)")
    assert f"'{equation}'" in err and fragment in err


def test_einsum_lora_factors_in_legacy_h5(tmp_path):
    x = keras.Input((5, 6), name="x")
    layer = keras.layers.EinsumDense("abc,cd->abd", (5, 4), bias_axes="d",
                                     lora_rank=2, name="ein")
    model = keras.Model(x, layer(x))
    err = _convert_fails(_save(model, tmp_path / "m.h5"), tmp_path / "o.tflite",
                         "'ein' (EinsumDense)")
    assert "LoRA factors" in err and ".keras" in err


def _mha_4d(**call):
    q = keras.Input((3, 4, 8), name="q")
    inputs = [q]
    for name, shape in call.pop("tensors", {}).items():
        t = keras.Input(shape, name=name, dtype="bool")
        inputs.append(t)
        call[name] = t
    mha = keras.layers.MultiHeadAttention(2, 3, name="mha",
                                          **call.pop("layer", {}))
    return keras.Model(inputs, mha(q, q, **call))


def _mha_3d(shape, mask_shape=None):
    # (Rank 4 when `shape` has three entries: attention over two axes.)
    q = keras.Input(shape, name="q")
    inputs, call = [q], {}
    if mask_shape is not None:
        call["attention_mask"] = keras.Input(mask_shape, name="m", dtype="bool")
        inputs.append(call["attention_mask"])
    mha = keras.layers.MultiHeadAttention(2, 3, name="mha")
    return keras.Model(inputs, mha(q, q, **call))


@pytest.mark.parametrize("build,fragment", [
    (lambda: _mha_4d(layer={"attention_axes": (2,)}), "attention_axes=[2]"),
    (lambda: _mha_4d(use_causal_mask=True), "more than one attention axis"),
    (lambda: _mha_4d(tensors={"value_mask": (3, 4)}), "its value_mask"),
    (lambda: _mha_4d(tensors={"attention_mask": (1, 1, 3, 4)}),
     "only a full mask of shape [?, 3, 4, 3, 4]"),
    (lambda: _mha_3d((None, 4, 8)), "fixed size on every axis except the batch"),
    (lambda: _mha_3d((5, 8), mask_shape=(1, 1, 1, 5, 5)),
     "more axes than the [batch, heads, query, value]"),
], ids=["attention_axes", "causal_two_axes", "value_mask_two_axes",
        "partial_mask_two_axes", "dynamic_length", "mask_rank"])
def test_multi_head_attention_refusals(tmp_path, build, fragment):
    err = _convert_fails(_save(build(), tmp_path / "m.keras"),
                         tmp_path / "o.tflite", "'mha' (MultiHeadAttention)")
    assert fragment in err


@pytest.mark.parametrize("shape,call,fragment", [
    ((None, 8), {"use_causal_mask": True}, "use_causal_mask needs fixed"),
    ((8,), {}, "rank of at least 3"),
], ids=["causal_dynamic_length", "rank2"])
def test_attention_refusals(tmp_path, shape, call, fragment):
    q = keras.Input(shape, name="q")
    model = keras.Model(q, keras.layers.Attention(name="att")([q, q], **call))
    err = _convert_fails(_save(model, tmp_path / "m.keras"), tmp_path / "o.tflite",
                         "'att' (Attention)")
    assert fragment in err
