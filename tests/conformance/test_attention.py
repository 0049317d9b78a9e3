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


def _mha_model(q_shape=(4, 6), v_shape=None, *, key=False, mask=False,
               causal=False, scores=False, **kw):
    q = keras.Input(q_shape, name="query")
    inputs = [q]
    v = q
    if v_shape is not None:
        v = keras.Input(v_shape, name="value")
        inputs.append(v)
    call = {}
    if key:
        k = keras.Input(v_shape or q_shape, name="key")
        inputs.append(k)
        call["key"] = k
    if mask:
        m = keras.Input((q_shape[0], (v_shape or q_shape)[0]), name="mask",
                        dtype="bool")
        inputs.append(m)
        call["attention_mask"] = m
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, **kw)
    out = layer(q, v, use_causal_mask=causal, return_attention_scores=scores,
                **call)
    outs = list(out) if scores else [out]
    return _randomize(keras.Model(inputs, outs))


def _mask_feeds(model, q_len, v_len):
    def feeds(batch):
        rng = np.random.default_rng(batch)
        f = {}
        for t in model.inputs:
            name = t._keras_history[0].name
            if name == "mask":
                m = rng.random((batch, q_len, v_len)) > 0.3
                m[0, 0, :] = False  # a fully masked row
                f[name] = m
            else:
                f[name] = rng.standard_normal(
                    (batch,) + tuple(t.shape[1:])).astype("float32")
        return f
    return feeds


MHA = {
    "self": dict(),
    "cross": dict(v_shape=(5, 4)),
    "cross_with_key": dict(v_shape=(5, 4), key=True),
    "causal": dict(causal=True),
    "scores": dict(v_shape=(5, 4), scores=True),
    "no_bias": dict(use_bias=False),
    # Keras' fused path cannot take value_dim != key_dim; its scores path can.
    "value_dim": dict(value_dim=4, scores=True),
    "dropout_ignored": dict(dropout=0.3),
    "output_shape": dict(output_shape=7),
}


@pytest.mark.parametrize("name", MHA)
def test_multi_head_attention(tmp_path, name):
    model = _mha_model(**MHA[name])
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scores", [False, True])
def test_multi_head_attention_mask(tmp_path, causal, scores):
    model = _mha_model(v_shape=(4, 6), mask=True, causal=causal, scores=scores)
    check_model(model, tmp_path, feeds_fn=_mask_feeds(model, 4, 4))


def test_multi_head_attention_dynamic_length(tmp_path):
    q = keras.Input((None, 6), name="query")
    m = keras.Input((None, None), name="mask")  # float mask, > 0 keeps
    out = keras.layers.MultiHeadAttention(2, 3)(q, q, attention_mask=m)
    model = _randomize(keras.Model([q, m], out))

    def feeds(batch):
        rng = np.random.default_rng(batch)
        t = 3 if batch == 2 else 7
        return {"query": rng.standard_normal((batch, t, 6)).astype("float32"),
                "mask": (rng.random((batch, t, t)) > 0.4).astype("float32")}
    check_model(model, tmp_path, feeds_fn=feeds)


def _encoder_block(x, mask, dim, heads, ff, causal=False):
    a = keras.layers.MultiHeadAttention(heads, dim // heads)(
        x, x, attention_mask=mask, use_causal_mask=causal)
    x = keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, a]))
    f = keras.layers.Dense(ff, activation="gelu")(x)
    f = keras.layers.Dense(dim)(keras.layers.Dropout(0.1)(f))
    return keras.layers.LayerNormalization(epsilon=1e-6)(keras.layers.Add()([x, f]))


def test_mini_transformer_encoder_with_padding_mask(tmp_path):
    """Whole model: token embeddings, two encoder blocks (MHA + LayerNorm +
    FFN + residuals) with a padding mask built in the graph, mean-pooled."""
    seq, dim = 8, 16
    ids = keras.Input((seq,), dtype="int32", name="token_ids")
    pad = keras.Input((seq,), dtype="int32", name="padding_mask")
    x = keras.layers.Embedding(50, dim)(ids)
    m = keras.ops.cast(pad, "bool")
    att_mask = keras.ops.logical_and(m[:, :, None], m[:, None, :])
    for _ in range(2):
        x = _encoder_block(x, att_mask, dim, 4, 32)
    y = keras.layers.Dense(3, name="logits")(keras.layers.GlobalAveragePooling1D()(x))
    model = _randomize(keras.Model([ids, pad], y), scale=0.2)
    # Only the weights are random; keep LayerNorm scales near one.
    for layer in model.layers:
        if isinstance(layer, keras.layers.LayerNormalization):
            layer.gamma.assign(np.ones(layer.gamma.shape, "float32"))
            layer.beta.assign(np.zeros(layer.beta.shape, "float32"))

    def feeds(batch):
        rng = np.random.default_rng(batch)
        lengths = rng.integers(3, seq + 1, size=batch)
        p = (np.arange(seq)[None, :] < lengths[:, None]).astype("int32")
        return {"token_ids": (rng.integers(1, 50, (batch, seq)) * p).astype("int32"),
                "padding_mask": p}
    check_model(model, tmp_path, feeds_fn=feeds)


def test_decoder_block_with_causal_mask(tmp_path):
    """Whole model: a decoder block with causal self-attention and
    cross-attention over an encoder output."""
    seq, src, dim = 6, 5, 12
    x_in = keras.Input((seq, dim), name="decoder_inputs")
    enc = keras.Input((src, dim), name="encoder_outputs")
    a = keras.layers.MultiHeadAttention(3, 4)(x_in, x_in, use_causal_mask=True)
    x = keras.layers.LayerNormalization()(keras.layers.Add()([x_in, a]))
    c = keras.layers.MultiHeadAttention(3, 4)(x, enc)
    x = keras.layers.LayerNormalization()(keras.layers.Add()([x, c]))
    f = keras.layers.Dense(dim)(keras.layers.Dense(24, activation="relu")(x))
    y = keras.layers.LayerNormalization(name="decoded")(keras.layers.Add()([x, f]))
    model = _randomize(keras.Model([x_in, enc], y), scale=0.3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.LayerNormalization):
            layer.gamma.assign(np.ones(layer.gamma.shape, "float32"))
            layer.beta.assign(np.zeros(layer.beta.shape, "float32"))
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_causal_self_attention_dynamic_length(tmp_path):
    """A decoder-style causal block whose length is known only at run
    time (the causal mask is built with RANGE), run at two lengths."""
    x = keras.Input((None, 8), name="x")
    a = keras.layers.MultiHeadAttention(2, 4)(x, x, use_causal_mask=True)
    y = keras.layers.LayerNormalization()(keras.layers.Add()([x, a]))
    model = _randomize(keras.Model(x, y), scale=0.3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.LayerNormalization):
            layer.gamma.assign(np.ones(layer.gamma.shape, "float32"))
            layer.beta.assign(np.zeros(layer.beta.shape, "float32"))

    def feeds(batch):
        t = 3 if batch == 2 else 9
        rng = np.random.default_rng(batch)
        return {"x": rng.standard_normal((batch, t, 8)).astype("float32")}
    check_model(model, tmp_path, feeds_fn=feeds)
