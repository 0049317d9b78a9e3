"""Recurrent layers, their wrappers and Keras masks, against Keras predict.

Weights are drawn at a scale that keeps the gates away from saturation, so a
wrong gate order or bias split shows up as a large error.
"""
import itertools

import keras
import numpy as np
import pytest

from harness import (assert_builtin_only, check_model, run_cli, run_litert,
                     _keras_outputs)
from tolerances import FP32, RECURRENT_LONG


def _randomize(model, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign((rng.standard_normal(w.shape) * scale).astype("float32"))
    return model


def _seq_model(layer, steps, features=3):
    x = keras.Input((steps, features), name="x")
    out = layer(x)
    return _randomize(keras.Model(x, out))


def _lengths_feeds(model, lengths, seed=0, int_high=None):
    """feeds_fn drawing a different sequence length per batch size."""
    it = itertools.cycle(lengths)
    rng = np.random.default_rng(seed)

    def feeds(batch):
        t = next(it)
        f = {}
        for inp in model.inputs:
            shape = [batch, t] + [d for d in inp.shape[2:]]
            if int_high is not None:
                f[inp._keras_history[0].name] = rng.integers(
                    0, int_high, size=shape).astype(inp.dtype)
            else:
                f[inp._keras_history[0].name] = rng.standard_normal(
                    shape).astype("float32")
        return f
    return feeds


CELLS = {
    "lstm": lambda **kw: keras.layers.LSTM(4, **kw),
    "gru": lambda **kw: keras.layers.GRU(4, **kw),
    "gru_reset_before": lambda **kw: keras.layers.GRU(4, reset_after=False,
                                                      **kw),
    "simple_rnn": lambda **kw: keras.layers.SimpleRNN(4, **kw),
}

MODES = {
    # name: (steps, layer kwargs)
    "fixed_last": (5, {}),
    "fixed_seq_backwards": (5, {"return_sequences": True, "go_backwards": True}),
    "dynamic_seq": (None, {"return_sequences": True}),
    "dynamic_last_backwards": (None, {"go_backwards": True}),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cell", CELLS)
def test_cells(tmp_path, cell, mode):
    steps, kw = MODES[mode]
    model = _seq_model(CELLS[cell](**kw), steps)
    feeds_fn = _lengths_feeds(model, [3, 9]) if steps is None else None
    check_model(model, tmp_path, feeds_fn=feeds_fn)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
def test_h5_weights_and_return_state(tmp_path, cls):
    layer = getattr(keras.layers, cls)(3, return_state=True,
                                        return_sequences=True)
    model = _seq_model(layer, 4)
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_lstm_options(tmp_path):
    layer = keras.layers.LSTM(4, activation="relu",
                              recurrent_activation="hard_sigmoid",
                              unit_forget_bias=False, use_bias=False)
    check_model(_seq_model(layer, 6), tmp_path)


def test_unit_forget_bias_initial_weights(tmp_path):
    # The saved bias carries unit_forget_bias's ones; no randomizing.
    x = keras.Input((4, 3), name="x")
    model = keras.Model(x, keras.layers.LSTM(5, unit_forget_bias=True)(x))
    check_model(model, tmp_path)


@pytest.mark.parametrize("steps", [4, None])
def test_initial_states_as_inputs(tmp_path, steps):
    x = keras.Input((steps, 3), name="x")
    h = keras.Input((4,), name="h")
    c = keras.Input((4,), name="c")
    y, h2, c2 = keras.layers.LSTM(4, return_state=True, return_sequences=True,
                                  name="lstm")(x, initial_state=[h, c])
    g = keras.layers.GRU(4, name="gru")(y, initial_state=h2)
    model = _randomize(keras.Model([x, h, c], [g, c2]))
    check_model(model, tmp_path)


def test_rnn_over_cells(tmp_path):
    x = keras.Input((5, 3), name="x")
    a = keras.layers.RNN(keras.layers.LSTMCell(4), return_sequences=True)(x)
    b = keras.layers.RNN(keras.layers.GRUCell(3), go_backwards=True)(a)
    model = _randomize(keras.Model(x, b))
    check_model(model, tmp_path)


def test_long_fixed_sequence_loops(tmp_path):
    # 80 steps is over the unrolling limit, so this runs in a WHILE loop.
    # Tolerance: 80 recurrent steps accumulate float32 rounding differences
    # between XLA's and LiteRT's matmul/activation kernels.
    model = _seq_model(keras.layers.GRU(4, return_sequences=True), 80)
    check_model(model, tmp_path, tol=RECURRENT_LONG)
    proc = run_cli("convert", tmp_path / "model.keras", "-o",
                   tmp_path / "again.tflite", check=True)
    assert "WHILE loop" in proc.stdout and "over the unrolling limit" in proc.stdout


def test_summary_names_the_lowering(tmp_path):
    fixed = _seq_model(keras.layers.LSTM(4, name="fixed_lstm"), 5)
    fixed.save(tmp_path / "fixed.keras")
    proc = run_cli("convert", tmp_path / "fixed.keras", "-o",
                   tmp_path / "fixed.tflite", check=True)
    assert "'fixed_lstm' (LSTM): unrolled over its 5 steps" in proc.stdout
    dyn = _seq_model(keras.layers.LSTM(4, name="dyn_lstm"), None)
    dyn.save(tmp_path / "dyn.keras")
    proc = run_cli("convert", tmp_path / "dyn.keras", "-o",
                   tmp_path / "dyn.tflite", check=True)
    assert "'dyn_lstm' (LSTM): a WHILE loop" in proc.stdout
    assert "the sequence length is dynamic" in proc.stdout


def test_one_runner_many_lengths_no_state_carried(tmp_path):
    """One interpreter, invoked at several lengths and twice at the same one:
    every call matches Keras, so no state leaks between invocations."""
    from ai_edge_litert.interpreter import Interpreter
    model = _seq_model(keras.layers.LSTM(4, return_sequences=True), None)
    model.save(tmp_path / "m.keras")
    run_cli("convert", tmp_path / "m.keras", "-o", tmp_path / "m.tflite",
            check=True)
    runner = Interpreter(model_path=str(tmp_path / "m.tflite")) \
        .get_signature_runner("serving_default")
    rng = np.random.default_rng(1)
    for t in [6, 2, 6, 11]:
        x = rng.standard_normal((2, t, 3)).astype("float32")
        got = runner(x=x)
        want = _keras_outputs(model, model.predict(x, verbose=0))
        for k, v in want.items():
            np.testing.assert_allclose(got[k], v, **FP32)


@pytest.mark.parametrize("merge", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(tmp_path, merge):
    x = keras.Input((5, 3), name="x")
    out = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True),
                                     merge_mode=merge)(x)
    model = _randomize(keras.Model(x, out))
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_bidirectional_states_dynamic(tmp_path):
    x = keras.Input((None, 3), name="x")
    outs = keras.layers.Bidirectional(keras.layers.GRU(4, return_state=True),
                                      name="bi")(x)
    model = _randomize(keras.Model(x, outs))
    check_model(model, tmp_path, feeds_fn=_lengths_feeds(model, [4, 7]))


def test_bidirectional_custom_backward_layer(tmp_path):
    x = keras.Input((5, 3), name="x")
    fw = keras.layers.LSTM(4, return_sequences=True)
    bw = keras.layers.GRU(3, return_sequences=True, go_backwards=True)
    out = keras.layers.Bidirectional(fw, backward_layer=bw)(x)
    model = _randomize(keras.Model(x, out))
    check_model(model, tmp_path)


@pytest.mark.parametrize("steps", [6, None])
def test_masking_then_rnns(tmp_path, steps):
    x = keras.Input((steps, 3), name="x")
    m = keras.layers.Masking(mask_value=0.0)(x)
    a = keras.layers.LSTM(4, return_sequences=True)(m)
    b = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True))(a)
    c = keras.layers.SimpleRNN(2, go_backwards=True)(b)
    model = _randomize(keras.Model(x, [b, c]))

    def feeds(batch, t=6 if steps else None):
        t = t or (4 if batch == 2 else 8)
        rng = np.random.default_rng(batch)
        v = rng.standard_normal((batch, t, 3)).astype("float32")
        v[0, 1:3] = 0.0   # masked steps in the middle
        v[1, -2:] = 0.0   # and at the end
        v[-1, 0] = 0.0    # and at the start
        return {"x": v}
    check_model(model, tmp_path, feeds_fn=feeds)


def test_masking_unrolled_with_initial_state(tmp_path):
    # unroll=True changes what a masked step outputs (the previous output,
    # zeros before the first), which differs from the state when an initial
    # state is given.
    x = keras.Input((5, 3), name="x")
    h = keras.Input((4,), name="h")
    m = keras.layers.Masking()(x)
    y = keras.layers.SimpleRNN(4, unroll=True, return_sequences=True)(
        m, initial_state=h)
    model = _randomize(keras.Model([x, h], y))

    def feeds(batch):
        rng = np.random.default_rng(batch)
        v = rng.standard_normal((batch, 5, 3)).astype("float32")
        v[:, 0] = 0.0
        return {"x": v, "h": rng.standard_normal((batch, 4)).astype("float32")}
    check_model(model, tmp_path, feeds_fn=feeds)


def test_embedding_mask_zero_gru(tmp_path):
    ids = keras.Input((None,), name="ids", dtype="int32")
    e = keras.layers.Embedding(20, 5, mask_zero=True)(ids)
    y = keras.layers.GRU(4)(keras.layers.Dropout(0.2)(e))
    model = _randomize(keras.Model(ids, y))

    def feeds(batch):
        rng = np.random.default_rng(batch)
        v = rng.integers(1, 20, size=(batch, 6)).astype("int32")
        v[0, 4:] = 0  # padding
        return {"ids": v}
    check_model(model, tmp_path, feeds_fn=feeds)


@pytest.mark.parametrize("steps", [4, None])
def test_time_distributed(tmp_path, steps):
    x = keras.Input((steps, 6, 6, 2), name="x")
    c = keras.layers.TimeDistributed(keras.layers.Conv2D(3, 3, activation="relu"))(x)
    f = keras.layers.TimeDistributed(keras.layers.Flatten())(c)
    d = keras.layers.TimeDistributed(keras.layers.Dense(5))(f)
    y = keras.layers.LSTM(3)(d)
    model = _randomize(keras.Model(x, [d, y]))
    feeds_fn = _lengths_feeds(model, [3, 5]) if steps is None else None
    check_model(model, tmp_path, feeds_fn=feeds_fn, formats=("keras", "h5"))


def test_lstm_sentiment_model_two_lengths(tmp_path):
    """Whole model: a 2-layer LSTM sentiment classifier over an Embedding,
    with a dynamic sequence length, run at two lengths."""
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    e = keras.layers.Embedding(100, 8)(ids)
    h = keras.layers.LSTM(16, return_sequences=True)(e)
    h = keras.layers.LSTM(8)(h)
    p = keras.layers.Dense(1, activation="sigmoid", name="positive")(h)
    model = _randomize(keras.Model(ids, p), scale=0.3)
    out = check_model(model, tmp_path,
                      feeds_fn=_lengths_feeds(model, [12, 30], int_high=100))
    assert_builtin_only(out["keras"])


def test_bidirectional_gru_tagger(tmp_path):
    """Whole model: a Bidirectional GRU tagger with return_sequences."""
    ids = keras.Input((None,), dtype="int32", name="tokens")
    e = keras.layers.Embedding(50, 8, mask_zero=True)(ids)
    h = keras.layers.Bidirectional(keras.layers.GRU(8, return_sequences=True))(e)
    tags = keras.layers.TimeDistributed(
        keras.layers.Dense(5, activation="softmax"), name="tags")(h)
    model = _randomize(keras.Model(ids, tags), scale=0.3)

    def feeds(batch):
        rng = np.random.default_rng(batch)
        t = 7 if batch == 2 else 10
        v = rng.integers(1, 50, size=(batch, t)).astype("int32")
        v[0, t - 3:] = 0
        return {"tokens": v}
    check_model(model, tmp_path, feeds_fn=feeds)


def test_sequential_mask_is_replayed(tmp_path):
    # A Sequential model records no mask in its config: the converter
    # replays Embedding(mask_zero=True)'s mask into the LSTM.
    model = keras.Sequential([
        keras.Input((6,), dtype="int32", name="ids"),
        keras.layers.Embedding(30, 4, mask_zero=True),
        keras.layers.Dropout(0.1),
        keras.layers.LSTM(3, return_sequences=True),
        keras.layers.GRU(2),
    ])
    _randomize(model)

    def feeds(batch):
        rng = np.random.default_rng(batch)
        v = rng.integers(1, 30, size=(batch, 6)).astype("int32")
        v[0, 3:] = 0
        v[1, :2] = 0
        return {"ids": v}
    check_model(model, tmp_path, feeds_fn=feeds, formats=("keras", "h5"))


def test_why_not_the_builtin_sequence_lstm(tmp_path):
    """The design decision behind our recurrent lowering, checked against
    the real runtime: UNIDIRECTIONAL_SEQUENCE_LSTM keeps its state in
    variable tensors that persist between invocations, so calling it twice
    on the same input gives two answers. A non-stateful Keras LSTM must not
    do that, so we lower cells to plain builtins instead."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(0)
    m = s.ModelT()
    m.version = 3
    m.buffers = [s.BufferT()]
    sg = s.SubGraphT()
    sg.tensors = []

    def tensor(name, shape, data=None, variable=False):
        t = s.TensorT()
        t.name, t.shape, t.type = name, list(shape), s.TensorType.FLOAT32
        t.buffer, t.isVariable = 0, variable
        if data is not None:
            b = s.BufferT()
            b.data = np.frombuffer(data.astype(np.float32).tobytes(), np.uint8)
            m.buffers.append(b)
            t.buffer = len(m.buffers) - 1
        sg.tensors.append(t)
        return len(sg.tensors) - 1

    x = tensor("x", [1, 3, 2])
    ins = [x]
    ins += [tensor(f"wi{g}", [2, 2], rng.standard_normal((2, 2))) for g in range(4)]
    ins += [tensor(f"wr{g}", [2, 2], rng.standard_normal((2, 2))) for g in range(4)]
    ins += [-1, -1, -1]
    ins += [tensor(f"b{g}", [2], rng.standard_normal(2)) for g in range(4)]
    ins += [-1, -1, tensor("h", [1, 2], variable=True),
            tensor("c", [1, 2], variable=True), -1, -1, -1, -1]
    y = tensor("y", [1, 3, 2])
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, ins, [y]
    op.builtinOptionsType = s.BuiltinOptions.UnidirectionalSequenceLSTMOptions
    op.builtinOptions = s.UnidirectionalSequenceLSTMOptionsT()
    op.builtinOptions.fusedActivationFunction = s.ActivationFunctionType.TANH
    sg.operators, sg.inputs, sg.outputs = [op], [x], [y]
    m.subgraphs = [sg]
    code = s.OperatorCodeT()
    code.builtinCode = s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    code.deprecatedBuiltinCode, code.version = 44, 1
    m.operatorCodes = [code]
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), b"TFL3")
    path = tmp_path / "seq_lstm.tflite"
    path.write_bytes(b.Output())

    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    xv = rng.standard_normal((1, 3, 2)).astype(np.float32)
    outs = []
    for _ in range(2):
        interp.set_tensor(interp.get_input_details()[0]["index"], xv)
        interp.invoke()
        outs.append(interp.get_tensor(interp.get_output_details()[0]["index"]))
    assert not np.allclose(outs[0], outs[1]), (
        "the builtin sequence LSTM no longer carries state between "
        "invocations; revisit the recurrent lowering in recurrent.cc")
