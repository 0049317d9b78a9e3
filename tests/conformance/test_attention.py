"""EinsumDense and the attention layers, compared with Keras."""
import keras
import numpy as np
import pytest

from harness import check_model, op_names

L = keras.layers
ops = keras.ops


def _randomize(layer, seed=0, scale=0.5):
    """Non-trivial weights (biases included) so a wrong formula cannot pass."""
    rng = np.random.default_rng(seed)
    layer.set_weights([(scale * rng.standard_normal(w.shape)).astype("float32")
                       for w in layer.get_weights()])


def _feeds(specs, seed_base=0):
    """feeds_fn for check_model: `specs` maps input names to (shape, dtype),
    dtype "float" for data, else a mask dtype. Masks keep ~70% of positions,
    and the first mask row of the first sample is fully masked."""
    def make(batch):
        rng = np.random.default_rng(seed_base + batch)
        out = {}
        for name, (shape, dtype) in specs.items():
            full = (batch, *shape)
            if dtype == "float":
                out[name] = rng.standard_normal(full).astype("float32")
                continue
            m = rng.random(full) > 0.3
            m[(0,) * (m.ndim - 1)] = False
            out[name] = m.astype(dtype)
        return out
    return make


# ---------------------------------------------------------------------------
# EinsumDense

@pytest.mark.parametrize("equation,in_shape,out_shape,bias_axes,activation", [
    ("ab,bc->ac", (6,), (4,), "c", None),
    ("abc,cd->abd", (5, 6), (5, 4), "d", "relu"),
    ("abc,cde->abde", (5, 6), (5, 2, 3), "de", None),
    ("abcd,cde->abe", (5, 2, 3), (5, 4), "e", "gelu"),
    ("...b,bc->...c", (3, 5, 6), (4,), "c", None),
    ("ab...,bc->ac...", (6, 5), (4,), "c", None),
    ("abc,bd->acd", (5, 6), (6, 3), "d", None),
    ("abc,bcd->abd", (5, 6), (5, 3), "bd", None),
    ("abc,cd->ad", (5, 6), (3,), "d", None),
    ("abc,d->abcd", (5, 6), (5, 6, 3), "d", None),
    ("abc,c->ab", (5, 6), (5,), None, "tanh"),
    ("abc,cde->abde", (5, 6), (5, 2, 3), "d", None),
    ("abc,cd->abd", (5, 6), (5, 3), "bd", None),
    ("abcd,cde->abe", (5, 2, 3), (5, 4), None, None),
], ids=["dense", "seq_dense", "mha_proj", "mha_out", "left_ellipsis",
        "right_ellipsis", "contract_middle", "shared_axis", "sum_out",
        "outer", "kernel_vector", "partial_bias", "bias_on_input_axis",
        "no_bias"])
def test_einsum_dense(tmp_path, equation, in_shape, out_shape, bias_axes,
                      activation):
    layer = L.EinsumDense(equation, out_shape, bias_axes=bias_axes,
                          activation=activation)
    x = keras.Input(in_shape, name="x")
    model = keras.Model(x, layer(x))
    _randomize(layer)
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_einsum_dense_plain_matmul_is_one_fully_connected(tmp_path):
    layer = L.EinsumDense("abc,cd->abd", (5, 4), bias_axes="d")
    x = keras.Input((5, 6), name="x")
    model = keras.Model(x, layer(x))
    _randomize(layer)
    assert op_names(check_model(model, tmp_path)["keras"]) == ["FULLY_CONNECTED"]


def test_einsum_dense_with_dynamic_length(tmp_path):
    # A single contracted axis needs no reshape, so the length may vary.
    layer = L.EinsumDense("...b,bc->...c", (4,), bias_axes="c")
    x = keras.Input((None, 6), name="x")
    model = keras.Model(x, layer(x))
    _randomize(layer)
    check_model(model, tmp_path, formats=("keras", "h5"))


def test_einsum_dense_lora_merged_by_keras_save(tmp_path):
    """A .keras file stores the kernel with LoRA merged in."""
    layer = L.EinsumDense("abc,cd->abd", (5, 4), bias_axes="d", lora_rank=2)
    x = keras.Input((5, 6), name="x")
    model = keras.Model(x, layer(x))
    rng = np.random.default_rng(0)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32"))
    check_model(model, tmp_path)


# ---------------------------------------------------------------------------
# MultiHeadAttention

def _mha_model(num_heads=2, key_dim=4, q_shape=(5, 8), v_shape=None,
               k_shape=None, mask_shape=None, mask_dtype="bool", call=None,
               **kw):
    """query (and value, key, attention_mask) Inputs into one MHA."""
    q = keras.Input(q_shape, name="q")
    inputs = [q]
    args = [q]
    if v_shape is not None:
        v = keras.Input(v_shape, name="v")
        inputs.append(v)
        args.append(v)
    else:
        args.append(q)
    if k_shape is not None:
        k = keras.Input(k_shape, name="k")
        inputs.append(k)
        args.append(k)
    call = dict(call or {})
    if mask_shape is not None:
        m = keras.Input(mask_shape, name="m", dtype=mask_dtype)
        inputs.append(m)
        call["attention_mask"] = m
    mha = L.MultiHeadAttention(num_heads, key_dim, **kw)
    out = mha(*args, **call)
    model = keras.Model(inputs, out)
    _randomize(mha)
    return model


@pytest.mark.parametrize("kw,call", [
    ({}, {}),
    ({}, {"return_attention_scores": True}),
    ({}, {"use_causal_mask": True}),
    ({}, {"use_causal_mask": True, "return_attention_scores": True}),
    ({"use_bias": False}, {}),
    ({"dropout": 0.2}, {}),
    ({"use_gate": True}, {}),
    ({"sliding_window": 2}, {}),
    ({"num_heads": 1, "key_dim": 8}, {}),
], ids=["plain", "scores", "causal", "causal_scores", "no_bias", "dropout",
        "gate", "sliding_window", "one_head"])
def test_mha_self_attention(tmp_path, kw, call):
    kw = {"num_heads": 2, "key_dim": 4, **kw}
    model = _mha_model(call=call, **kw)
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("kw,call,with_key", [
    ({}, {}, False),
    ({}, {}, True),
    ({"output_shape": 6}, {}, True),
    ({"output_shape": (2, 3)}, {}, False),
    ({"use_bias": False, "output_shape": 3}, {"return_attention_scores": True},
     True),
    # Keras' fused attention needs value_dim == key_dim; with the scores
    # returned it takes the explicit path, which allows any value_dim.
    ({"value_dim": 2}, {"return_attention_scores": True}, True),
    ({}, {"use_causal_mask": True}, True),
], ids=["cross", "cross_key", "output_shape", "output_shape_2d",
        "no_bias_scores", "value_dim", "causal_cross"])
def test_mha_cross_attention(tmp_path, kw, call, with_key):
    model = _mha_model(num_heads=3, key_dim=4, q_shape=(5, 8), v_shape=(6, 7),
                       k_shape=(6, 5) if with_key else None, call=call, **kw)
    check_model(model, tmp_path, formats=("keras", "h5"))


@pytest.mark.parametrize("mask_dtype,kw,call", [
    ("bool", {}, {}),
    ("bool", {}, {"return_attention_scores": True}),
    ("float32", {}, {}),
    ("int32", {}, {}),
    ("bool", {}, {"use_causal_mask": True}),
    ("bool", {}, {"use_causal_mask": True, "return_attention_scores": True}),
    ("bool", {"dropout": 0.1}, {}),
    ("bool", {"sliding_window": 3}, {"use_causal_mask": True}),
], ids=["bool", "bool_scores", "float", "int", "causal", "causal_scores",
        "dropout", "causal_window"])
def test_mha_attention_mask(tmp_path, mask_dtype, kw, call):
    """Masks with a fully masked row: Keras' fused attention averages the
    values there, its explicit path (scores returned, dropout) gives zeros."""
    model = _mha_model(q_shape=(5, 8), v_shape=(6, 8), mask_shape=(5, 6),
                       mask_dtype=mask_dtype, call=call, **kw)
    feeds = _feeds({"q": ((5, 8), "float"), "v": ((6, 8), "float"),
                    "m": ((5, 6), mask_dtype)})
    check_model(model, tmp_path, formats=("keras", "h5"), feeds_fn=feeds)


def test_mha_broadcast_masks(tmp_path):
    """A [B, 1, S] padding mask, and value_mask / key_mask / query_mask
    passed by keyword (Keras ignores an explicit query_mask)."""
    q = keras.Input((5, 8), name="q")
    v = keras.Input((6, 8), name="v")
    pad = keras.Input((1, 6), name="pad", dtype="bool")
    vm = keras.Input((6,), name="vm", dtype="bool")
    km = keras.Input((6,), name="km", dtype="float32")
    qm = keras.Input((5,), name="qm", dtype="bool")
    mha = L.MultiHeadAttention(2, 4)
    out = mha(q, v, attention_mask=pad, value_mask=vm, key_mask=km,
              query_mask=qm)
    model = keras.Model([q, v, pad, vm, km, qm], out)
    _randomize(mha)
    feeds = _feeds({"q": ((5, 8), "float"), "v": ((6, 8), "float"),
                    "pad": ((1, 6), "bool"), "vm": ((6,), "bool"),
                    "km": ((6,), "float32"), "qm": ((5,), "bool")})
    check_model(model, tmp_path, formats=("keras", "h5"), feeds_fn=feeds)


def test_mha_over_two_axes(tmp_path):
    """Image-like inputs: attention over both spatial axes (the default)."""
    q = keras.Input((3, 4, 8), name="q")
    m = keras.Input((3, 4, 3, 4), name="m", dtype="bool")
    mha = L.MultiHeadAttention(2, 3)
    out = mha(q, q, attention_mask=m, return_attention_scores=True)
    model = keras.Model([q, m], out)
    _randomize(mha)
    feeds = _feeds({"q": ((3, 4, 8), "float"), "m": ((3, 4, 3, 4), "bool")})
    check_model(model, tmp_path, formats=("keras", "h5"), feeds_fn=feeds)


# ---------------------------------------------------------------------------
# Attention and AdditiveAttention

def _attention_model(layer, with_key=False, masks="", call=None):
    q = keras.Input((5, 8), name="q")
    v = keras.Input((6, 8), name="v")
    inputs, args = [q, v], [q, v]
    if with_key:
        k = keras.Input((6, 8), name="k")
        inputs.append(k)
        args.append(k)
    call = dict(call or {})
    if masks:
        qm = keras.Input((5,), name="qm", dtype="bool") if "q" in masks else None
        vm = keras.Input((6,), name="vm", dtype="bool") if "v" in masks else None
        inputs += [m for m in (qm, vm) if m is not None]
        call["mask"] = [qm, vm]
    model = keras.Model(inputs, layer(args, **call))
    # Positive scales keep the scores in a range where softmax is not flat.
    rng = np.random.default_rng(0)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                       for w in layer.get_weights()])
    return model


def _attention_feeds(masks):
    specs = {"q": ((5, 8), "float"), "v": ((6, 8), "float"),
             "k": ((6, 8), "float")}
    if "q" in masks:
        specs["qm"] = ((5,), "bool")
    if "v" in masks:
        specs["vm"] = ((6,), "bool")
    return _feeds(specs)


@pytest.mark.parametrize("kw,with_key,masks,call", [
    ({}, False, "", {}),
    ({"use_scale": True}, True, "", {}),
    ({"score_mode": "concat"}, False, "", {}),
    ({"score_mode": "concat", "use_scale": True}, True, "",
     {"return_attention_scores": True}),
    ({"dropout": 0.3}, False, "", {"use_causal_mask": True,
                                   "return_attention_scores": True}),
    ({}, False, "qv", {"return_attention_scores": True}),
    ({"use_scale": True}, False, "v", {"use_causal_mask": True}),
    ({}, True, "q", {}),
], ids=["dot", "scale_key", "concat", "concat_scale_scores", "causal_scores",
        "masks_scores", "value_mask_causal", "query_mask"])
def test_attention(tmp_path, kw, with_key, masks, call):
    model = _attention_model(L.Attention(**kw), with_key, masks, call)
    feeds = _attention_feeds(masks)
    names = {t._keras_history[0].name for t in model.inputs}
    check_model(model, tmp_path, formats=("keras", "h5"),
                feeds_fn=lambda b: {k: v for k, v in feeds(b).items()
                                    if k in names})


@pytest.mark.parametrize("kw,with_key,masks,call", [
    ({}, False, "", {}),
    ({"use_scale": False}, True, "", {}),
    ({}, False, "qv", {"use_causal_mask": True,
                       "return_attention_scores": True}),
], ids=["default", "no_scale_key", "masks_causal_scores"])
def test_additive_attention(tmp_path, kw, with_key, masks, call):
    model = _attention_model(L.AdditiveAttention(**kw), with_key, masks, call)
    feeds = _attention_feeds(masks)
    names = {t._keras_history[0].name for t in model.inputs}
    check_model(model, tmp_path, formats=("keras", "h5"),
                feeds_fn=lambda b: {k: v for k, v in feeds(b).items()
                                    if k in names})


def test_attention_with_dynamic_lengths(tmp_path):
    q = keras.Input((None, 8), name="q")
    v = keras.Input((None, 8), name="v")
    layer = L.Attention(use_scale=True)
    model = keras.Model([q, v], layer([q, v], return_attention_scores=True))
    layer.set_weights([np.array(0.7, "float32")])
    check_model(model, tmp_path, formats=("keras", "h5"))


# ---------------------------------------------------------------------------
# Transformer blocks

SEQ, DIM, VOCAB = 6, 16, 20


def _token_feeds(pairs, seed_base=0):
    """Token ids with 0 to 2 trailing padding tokens per sample, and the
    matching padding masks; `pairs` are (ids input, mask input or None)."""
    def make(batch):
        rng = np.random.default_rng(seed_base + batch)
        out = {}
        for ids_name, mask_name in pairs:
            ids = rng.integers(1, VOCAB, size=(batch, SEQ)).astype("int32")
            for b in range(batch):
                ids[b, SEQ - (b % 3):] = 0
            out[ids_name] = ids
            if mask_name:
                out[mask_name] = ids > 0
        return out
    return make


def _ffn(x, name):
    h = L.Dense(2 * DIM, activation="relu", name=f"{name}_ffn_in")(x)
    h = L.Dense(DIM, name=f"{name}_ffn_out")(h)
    return L.LayerNormalization(epsilon=1e-6, name=f"{name}_ln2")(L.Add()([x, h]))


def _encoder(x, attention_mask, name="enc"):
    a = L.MultiHeadAttention(4, DIM // 4, name=f"{name}_mha")(
        x, x, attention_mask=attention_mask)
    x = L.LayerNormalization(epsilon=1e-6, name=f"{name}_ln1")(L.Add()([x, a]))
    return _ffn(x, name)


def _tokens_and_mask(prefix):
    """Token ids and their [B, S] padding mask, as model inputs; the mask
    reshaped to the [B, 1, S] attention mask of every query."""
    ids = keras.Input((SEQ,), name=f"{prefix}_ids", dtype="int32")
    pad = keras.Input((SEQ,), name=f"{prefix}_padding_mask", dtype="bool")
    x = L.Embedding(VOCAB, DIM, name=f"{prefix}_embedding")(ids)
    return ids, pad, x, L.Reshape((1, SEQ), name=f"{prefix}_mask")(pad)


def _randomize_all(model):
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (L.MultiHeadAttention, L.Dense)):
            _randomize(layer, seed=i, scale=0.3)


def test_transformer_encoder_block(tmp_path):
    ids, pad, x, mask = _tokens_and_mask("enc")
    model = keras.Model([ids, pad], _encoder(x, mask))
    _randomize_all(model)
    check_model(model, tmp_path, formats=("keras", "h5"),
                feeds_fn=_token_feeds([("enc_ids", "enc_padding_mask")]))


def test_transformer_encoder_mask_from_token_ids(tmp_path):
    """The padding mask computed in the model with keras.ops, and residuals
    written as `x + a` (keras.ops calls, so .keras only)."""
    ids = keras.Input((SEQ,), name="ids", dtype="int32")
    x = L.Embedding(VOCAB, DIM)(ids)
    mask = ops.expand_dims(ops.greater(ids, 0), 1)
    a = L.MultiHeadAttention(2, DIM // 2)(x, x, attention_mask=mask)
    y = L.LayerNormalization()(x + a)
    model = keras.Model(ids, y)
    _randomize_all(model)
    check_model(model, tmp_path, feeds_fn=_token_feeds([("ids", None)]))


def test_transformer_decoder_block(tmp_path):
    src, src_pad, memory, src_mask = _tokens_and_mask("source")
    memory = _encoder(memory, src_mask)
    tgt = keras.Input((SEQ,), name="target_ids", dtype="int32")
    y = L.Embedding(VOCAB, DIM, name="target_embedding")(tgt)
    a = L.MultiHeadAttention(4, DIM // 4, name="self_mha")(
        y, y, use_causal_mask=True)
    y = L.LayerNormalization(epsilon=1e-6, name="dec_ln1")(L.Add()([y, a]))
    c = L.MultiHeadAttention(4, DIM // 4, name="cross_mha")(
        y, memory, attention_mask=src_mask)
    y = L.LayerNormalization(epsilon=1e-6, name="dec_ln_cross")(
        L.Add()([y, c]))
    y = _ffn(y, "dec")
    logits = L.Dense(VOCAB, name="logits")(y)
    model = keras.Model([src, src_pad, tgt], logits)
    _randomize_all(model)
    check_model(model, tmp_path, formats=("keras", "h5"),
                feeds_fn=_token_feeds([("source_ids", "source_padding_mask"),
                                       ("target_ids", None)]))


def _random_weights(model, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "gamma" in w.path:
            w.assign(np.ones(w.shape, "float32"))
        elif "beta" in w.path:
            w.assign(np.zeros(w.shape, "float32"))
        else:
            w.assign((rng.standard_normal(w.shape) * scale).astype("float32"))
    return model


def test_mha_dynamic_length_with_float_mask(tmp_path):
    """Query and mask lengths known only at run time, run at two lengths."""
    q = keras.Input((None, 6), name="query")
    m = keras.Input((None, None), name="mask")  # float: > 0.5 keeps
    out = keras.layers.MultiHeadAttention(2, 3)(q, q, attention_mask=m)
    model = _random_weights(keras.Model([q, m], out))

    def feeds(batch):
        rng = np.random.default_rng(batch)
        t = 3 if batch == 2 else 7
        return {"query": rng.standard_normal((batch, t, 6)).astype("float32"),
                "mask": (rng.random((batch, t, t)) > 0.4).astype("float32")}
    check_model(model, tmp_path, feeds_fn=feeds)


def test_mha_causal_dynamic_length(tmp_path):
    """A causal block whose length is known only at run time: the causal
    mask is built with RANGE. Run at two lengths."""
    x = keras.Input((None, 8), name="x")
    a = keras.layers.MultiHeadAttention(2, 4)(x, x, use_causal_mask=True)
    y = keras.layers.LayerNormalization()(keras.layers.Add()([x, a]))
    model = _random_weights(keras.Model(x, y))

    def feeds(batch):
        t = 3 if batch == 2 else 9
        rng = np.random.default_rng(batch)
        return {"x": rng.standard_normal((batch, t, 8)).astype("float32")}
    check_model(model, tmp_path, feeds_fn=feeds)


def test_einsum_dense_two_unknown_dims_pass_through(tmp_path):
    """Batch and sequence both unknown: the head split reads its target
    shape at run time."""
    x = keras.Input((None, 6), name="x")
    y = keras.layers.EinsumDense("abc,cde->abde", (None, 2, 3),
                                 bias_axes="de")(x)
    model = _random_weights(keras.Model(x, y))

    def feeds(batch):
        t = 2 if batch == 2 else 5
        rng = np.random.default_rng(batch)
        return {"x": rng.standard_normal((batch, t, 6)).astype("float32")}
    check_model(model, tmp_path, feeds_fn=feeds)


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("scores", [False, True])
def test_mha_applies_implicit_embedding_masks(tmp_path, cross, scores):
    """Keras applies the query's and value's implicit masks (from
    Embedding(mask_zero=True)) without recording them in the file; the
    converter replays them. Padded queries make fully masked rows, which
    Keras's two code paths treat differently."""
    q_ids = keras.Input((6,), dtype="int32", name="q_ids")
    q = keras.layers.Embedding(20, 8, mask_zero=True)(q_ids)
    inputs, v = [q_ids], q
    if cross:
        v_ids = keras.Input((5,), dtype="int32", name="v_ids")
        v = keras.layers.Embedding(20, 8, mask_zero=True)(v_ids)
        inputs.append(v_ids)
    out = keras.layers.MultiHeadAttention(2, 4)(
        q, v, return_attention_scores=scores)
    model = _random_weights(keras.Model(inputs, list(out) if scores else out))

    def feeds(batch):
        rng = np.random.default_rng(batch)
        f = {}
        for name, t in [("q_ids", 6), ("v_ids", 5)][: 1 + cross]:
            ids = rng.integers(1, 20, (batch, t)).astype("int32")
            ids[0, t - 2:] = 0  # padding
            f[name] = ids
        return f
    check_model(model, tmp_path, feeds_fn=feeds)
