"""Keras-Hub layers and keras.layers.ReversibleEmbedding, compared with
Keras: Functional models built from the real layers, random weights, int32
token ids and int32 padding masks that mask the tail (one sample fully)."""
import json
import zipfile

import keras
import keras_hub
import numpy as np
import pytest

from harness import check_model, op_names, run_cli, run_litert
from keras_hub.src.utils.keras_utils import gelu_approximate
from tolerances import FP32

L = keras.layers
H = keras_hub.layers

VOCAB, HIDDEN = 23, 8


def _randomize(model, seed=0, scale=0.5):
    """Non-trivial weights everywhere, so a wrong formula cannot pass."""
    rng = np.random.default_rng(seed)
    model.set_weights([(scale * rng.standard_normal(w.shape)).astype(w.dtype)
                       for w in model.get_weights()])


def _lengths(batch, t, rng):
    """Valid lengths per sample: sample 0 full, sample 1 empty, the rest
    random (so padding masks mask the tail, and one sample entirely)."""
    n = rng.integers(1, t + 1, size=batch)
    n[0] = t
    if batch > 1:
        n[1] = 0
    return n


def _sequence_feeds(ids=(), hidden=(), pads=(), attention=(), t_fixed=None,
                    lengths=(7, 5)):
    """feeds_fn for check_model. Sequence length: `t_fixed`, else 7 for the
    first batch and 5 for the second (dynamic-length models see both).
    `ids` get token ids (0 past each sample's length), `hidden` float
    features, `pads` int32 padding masks, `attention` int32 [B, T, T]
    masks."""
    calls = []

    def make(batch):
        t = t_fixed or lengths[len(calls) % len(lengths)]
        calls.append(batch)
        rng = np.random.default_rng(100 + batch)
        n = _lengths(batch, t, rng)
        keep = (np.arange(t)[None, :] < n[:, None]).astype("int32")
        out = {}
        for name in ids:
            out[name] = (rng.integers(1, VOCAB, (batch, t)) * keep).astype(
                "int32")
        for name in hidden:
            out[name] = rng.standard_normal((batch, t, HIDDEN)).astype(
                "float32")
        for name in pads:
            out[name] = keep
        for name in attention:
            out[name] = (rng.random((batch, t, t)) > 0.3).astype("int32")
        return out
    return make


# ---------------------------------------------------------------------------
# ReversibleEmbedding

@pytest.mark.parametrize("tie,cap,seq", [
    (True, None, None),
    (False, None, None),
    (True, 2.0, 6),
    (False, 0.5, None),
], ids=["tied", "untied", "tied_soft_cap_fixed", "untied_soft_cap"])
def test_reversible_embedding(tmp_path, tie, cap, seq):
    """Node 0 looks tokens up, node 1 (reverse=True) projects back to
    logits with the same (or the separate reverse) weights."""
    ids = keras.Input((seq,), dtype="int32", name="token_ids")
    emb = L.ReversibleEmbedding(VOCAB, HIDDEN, tie_weights=tie,
                                logit_soft_cap=cap, reverse_dtype="float32",
                                name="token_embedding")
    h = L.Dense(HIDDEN, activation="tanh", name="mix")(emb(ids))
    logits = emb(h, reverse=True)
    model = keras.Model(ids, logits)
    _randomize(model)
    check_model(model, tmp_path, formats=("keras", "h5"), batches=(2, 3),
                feeds_fn=_sequence_feeds(ids=["token_ids"], t_fixed=seq))


def test_reversible_embedding_tied_table_written_once(tmp_path):
    """Keras-Hub's subclass converts too; both calls share one table."""
    vocab = 1000
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    emb = keras_hub.layers.ReversibleEmbedding(vocab, HIDDEN,
                                               name="token_embedding")
    model = keras.Model(ids, emb(emb(ids), reverse=True))
    _randomize(model)
    out = check_model(model, tmp_path, batches=(2,),
                      feeds_fn=_sequence_feeds(ids=["token_ids"]))["keras"]
    assert sorted(op_names(out)) == ["FULLY_CONNECTED", "GATHER"]
    table = vocab * HIDDEN * 4
    assert table < out.stat().st_size < 2 * table


# ---------------------------------------------------------------------------
# PositionEmbedding and TokenAndPositionEmbedding

@pytest.mark.parametrize("seq,start", [
    (None, 0), (6, 0), (None, 3), (7, 3)],
    ids=["dynamic", "fixed", "dynamic_start", "fixed_start_clamped"])
def test_position_embedding(tmp_path, seq, start):
    """The table's rows from start_index, broadcast over the batch; on JAX
    ops.slice clamps the start so the rows fit (7 rows from 3 of 8 start at
    1)."""
    ids = keras.Input((seq,), dtype="int32", name="token_ids")
    tokens = L.Embedding(VOCAB, HIDDEN, name="token_embedding")(ids)
    pe = H.PositionEmbedding(sequence_length=8, name="position_embedding")
    positions = pe(tokens, start_index=start) if start else pe(tokens)
    summed = L.Add(name="embeddings_add")([tokens, positions])
    model = keras.Model(ids, [positions, summed])
    _randomize(model)
    check_model(model, tmp_path, formats=("keras", "h5"), batches=(2, 3),
                feeds_fn=_sequence_feeds(ids=["token_ids"], t_fixed=seq))


@pytest.mark.parametrize("tie,seq", [(True, None), (False, 6)],
                         ids=["tied_dynamic", "untied_fixed"])
def test_token_and_position_embedding(tmp_path, tie, seq):
    ids = keras.Input((seq,), dtype="int32", name="token_ids")
    tpe = H.TokenAndPositionEmbedding(VOCAB, 8, HIDDEN, tie_weights=tie,
                                      name="embeddings")
    model = keras.Model(ids, tpe(ids))
    _randomize(model)
    check_model(model, tmp_path, formats=("keras", "h5"), batches=(2, 3),
                feeds_fn=_sequence_feeds(ids=["token_ids"], t_fixed=seq))


# ---------------------------------------------------------------------------
# TransformerEncoder

def _encoder_model(seq, masks, return_scores=False, **kw):
    x = keras.Input((seq, HIDDEN), name="x")
    inputs, call = [x], {}
    if "padding" in masks:
        pm = keras.Input((seq,), dtype="int32", name="padding_mask")
        inputs.append(pm)
        call["padding_mask"] = pm
    if "attention" in masks:
        am = keras.Input((seq, seq), dtype="int32", name="attention_mask")
        inputs.append(am)
        call["attention_mask"] = am
    if return_scores:
        call["return_attention_scores"] = True
    enc = H.TransformerEncoder(intermediate_dim=16, num_heads=2, name="enc",
                               **kw)
    model = keras.Model(inputs, enc(x, **call))
    _randomize(model)
    return model


@pytest.mark.parametrize("normalize_first,activation,dropout,seq,masks", [
    (False, "gelu", 0.1, None, ("padding",)),
    (True, "relu", 0.0, 6, ("padding",)),
    (False, gelu_approximate, 0.0, None, ("padding", "attention")),
    (True, "gelu", 0.1, 6, ("attention",)),
    (True, gelu_approximate, 0.1, None, ("padding", "attention")),
    (False, "relu", 0.0, None, ()),
], ids=["post_norm_dropout_dynamic", "pre_norm_fixed", "both_masks_fused",
        "attention_mask_softmax", "both_masks_softmax", "no_mask"])
def test_transformer_encoder(tmp_path, normalize_first, activation, dropout,
                             seq, masks):
    """dropout > 0 makes keras attention take the Softmax layer path (a fully
    masked row gives zeros), dropout 0 the fused one (the mean of values)."""
    model = _encoder_model(seq, masks, normalize_first=normalize_first,
                           activation=activation, dropout=dropout,
                           layer_norm_epsilon=1e-3)
    feeds = _sequence_feeds(
        hidden=["x"], t_fixed=seq,
        pads=["padding_mask"] if "padding" in masks else [],
        attention=["attention_mask"] if "attention" in masks else [])
    check_model(model, tmp_path, formats=("keras", "h5"), batches=(2, 3),
                feeds_fn=feeds)


def test_transformer_encoder_returns_attention_scores(tmp_path):
    model = _encoder_model(6, ("padding",), return_scores=True)
    check_model(model, tmp_path, batches=(2, 3),
                feeds_fn=_sequence_feeds(hidden=["x"], pads=["padding_mask"],
                                         t_fixed=6))


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoders_under_a_keras_mask(tmp_path, normalize_first):
    """Embedding(mask_zero=True) feeds a stack of encoders, with no padding
    mask: keras-hub takes the Keras mask as the padding mask, attention also
    masks padded queries, and each encoder passes the mask on."""
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = L.Embedding(VOCAB, HIDDEN, mask_zero=True, name="emb")(ids)
    for i in range(2):
        x = H.TransformerEncoder(16, 2, normalize_first=normalize_first,
                                 name=f"enc_{i}")(x)
    model = keras.Model(ids, x)
    _randomize(model)
    check_model(model, tmp_path, batches=(2, 3),
                feeds_fn=_sequence_feeds(ids=["token_ids"]))


# ---------------------------------------------------------------------------
# TransformerDecoder (decoder-only)

def _decoder_model(seq, masks, use_causal_mask=None, **kw):
    x = keras.Input((seq, HIDDEN), name="x")
    inputs, call = [x], {}
    if "padding" in masks:
        pm = keras.Input((seq,), dtype="int32", name="padding_mask")
        inputs.append(pm)
        call["decoder_padding_mask"] = pm
    if "attention" in masks:
        am = keras.Input((seq, seq), dtype="int32", name="attention_mask")
        inputs.append(am)
        call["decoder_attention_mask"] = am
    if use_causal_mask is not None:
        call["use_causal_mask"] = use_causal_mask
    dec = H.TransformerDecoder(intermediate_dim=16, num_heads=2, name="dec",
                               **kw)
    model = keras.Model(inputs, dec(x, **call))
    _randomize(model)
    return model


@pytest.mark.parametrize("normalize_first,dropout,seq,masks,causal", [
    (True, 0.1, None, ("padding",), None),
    (False, 0.0, 6, ("padding",), None),
    (True, 0.0, None, (), None),
    (False, 0.1, 6, (), True),
    (False, 0.1, None, ("padding", "attention"), None),
    (True, 0.0, 6, ("padding", "attention"), None),
    (True, 0.0, None, ("padding",), False),
], ids=["gpt2_like_dynamic", "post_norm_fixed", "causal_only_fused",
        "causal_only_softmax", "both_masks_softmax", "both_masks_fused",
        "not_causal"])
def test_transformer_decoder(tmp_path, normalize_first, dropout, seq, masks,
                             causal):
    """The causal mask merged with the padding (and attention) masks as
    keras-hub does; sample 1 is all padding, so its first row is fully
    masked."""
    model = _decoder_model(seq, masks, use_causal_mask=causal,
                           normalize_first=normalize_first, dropout=dropout,
                           activation=gelu_approximate)
    feeds = _sequence_feeds(
        hidden=["x"], t_fixed=seq,
        pads=["padding_mask"] if "padding" in masks else [],
        attention=["attention_mask"] if "attention" in masks else [])
    check_model(model, tmp_path, formats=("keras", "h5"), batches=(2, 3),
                feeds_fn=feeds)


def test_decoder_under_a_keras_mask(tmp_path):
    """The decoder takes the Keras mask as its padding mask only."""
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = L.Embedding(VOCAB, HIDDEN, mask_zero=True, name="emb")(ids)
    x = H.TransformerDecoder(16, 2, name="dec")(x)
    model = keras.Model(ids, x)
    _randomize(model)
    check_model(model, tmp_path, batches=(2, 3),
                feeds_fn=_sequence_feeds(ids=["token_ids"]))


@pytest.mark.parametrize("normalize_first,dropout,seq,enc_masks", [
    (False, 0.1, None, ("padding",)),
    (True, 0.0, 6, ("padding",)),
    (False, 0.0, None, ()),
    (True, 0.1, 6, ("padding", "attention")),
    (False, 0.0, None, ("keras",)),
], ids=["bart_like_dynamic", "pre_norm_fixed", "no_encoder_mask",
        "both_encoder_masks", "encoder_keras_mask"])
def test_transformer_decoder_cross_attention(tmp_path, normalize_first,
                                             dropout, seq, enc_masks):
    """BART-style blocks: causal self-attention over the decoder's padding
    mask, then cross-attention over the encoder sequence under its padding
    (or Keras) and attention masks. The encoder has its own length (4 or
    9), so a mask on the wrong axis cannot pass."""
    src = 4 if seq else None
    x = keras.Input((seq, HIDDEN), name="x")
    pm = keras.Input((seq,), dtype="int32", name="padding_mask")
    inputs, call = [x, pm], {"decoder_padding_mask": pm}
    if "keras" in enc_masks:
        enc_ids = keras.Input((src,), dtype="int32", name="enc_ids")
        enc = L.Embedding(VOCAB, HIDDEN, mask_zero=True, name="emb")(enc_ids)
        inputs.append(enc_ids)
    else:
        enc = keras.Input((src, HIDDEN), name="enc")
        inputs.append(enc)
    if "padding" in enc_masks:
        epm = keras.Input((src,), dtype="int32", name="enc_padding_mask")
        inputs.append(epm)
        call["encoder_padding_mask"] = epm
    if "attention" in enc_masks:
        eam = keras.Input((seq, src), dtype="int32", name="enc_attention")
        inputs.append(eam)
        call["encoder_attention_mask"] = eam
    dec = H.TransformerDecoder(intermediate_dim=16, num_heads=2, name="dec",
                               normalize_first=normalize_first,
                               dropout=dropout, activation="gelu")
    model = keras.Model(inputs, dec(x, enc, **call))
    _randomize(model)

    def feeds(batch):
        rng = np.random.default_rng(200 + batch)
        t = seq or 7
        s = src or 9
        n = _lengths(batch, t, rng)
        m = _lengths(batch, s, rng)
        m[1] = s  # keep one key per row: sample 1's decoder is all padding
        keep = (np.arange(t)[None, :] < n[:, None]).astype("int32")
        ekeep = (np.arange(s)[None, :] < m[:, None]).astype("int32")
        out = {"x": rng.standard_normal((batch, t, HIDDEN)).astype("float32"),
               "padding_mask": keep}
        if "keras" in enc_masks:
            out["enc_ids"] = (rng.integers(1, VOCAB, (batch, s)) *
                              ekeep).astype("int32")
        else:
            out["enc"] = rng.standard_normal((batch, s, HIDDEN)).astype(
                "float32")
        if "padding" in enc_masks:
            out["enc_padding_mask"] = ekeep
        if "attention" in enc_masks:
            a = rng.integers(0, 2, (batch, t, s)).astype("int32")
            a[:, :, 0] = 1
            out["enc_attention"] = a
        return out

    check_model(model, tmp_path, formats=("keras", "h5"), batches=(2, 3),
                feeds_fn=feeds)


# ---------------------------------------------------------------------------
# DeepLabV3's SpatialPyramidPooling

@pytest.mark.parametrize("rates,channels,activation", [
    ([2], 4, "relu"), ([1, 2, 3], 5, "gelu"), ([], 3, "relu")],
    ids=["one_rate", "three_rates_gelu", "no_dilated_branch"])
def test_spatial_pyramid_pooling(tmp_path, rates, channels, activation):
    """Each branch's BatchNormalization gets random statistics; predict()
    is the oracle (called directly, the layer normalizes with batch
    statistics)."""
    from keras_hub.src.models.deeplab_v3.deeplab_v3_layers import (
        SpatialPyramidPooling,
    )
    x = keras.Input((8, 6, HIDDEN), name="x")
    model = keras.Model(x, SpatialPyramidPooling(
        dilation_rates=rates, num_channels=channels,
        activation=activation)(x))
    rng = np.random.default_rng(3)
    for w in model.weights:
        if "moving_variance" in w.path or "gamma" in w.path:
            w.assign(rng.uniform(0.5, 1.5, w.shape).astype("float32"))
        elif "beta" in w.path or "moving_mean" in w.path:
            w.assign(rng.normal(0, 0.3, w.shape).astype("float32"))
    check_model(model, tmp_path, batches=(2, 3))


def test_spatial_pyramid_pooling_needs_a_fixed_size(tmp_path):
    from keras_hub.src.models.deeplab_v3.deeplab_v3_layers import (
        SpatialPyramidPooling,
    )
    x = keras.Input((None, None, HIDDEN), name="x")
    model = keras.Model(x, SpatialPyramidPooling(dilation_rates=[2],
                                                 num_channels=4,
                                                 name="aspp")(x))
    _refused(model, tmp_path, "'aspp' (SpatialPyramidPooling)",
             "known height, width and channels", "Export at a fixed image "
             "size")


# ---------------------------------------------------------------------------
# Real backbones

def _functional(backbone):
    """The backbone's graph as a plain keras.Model on the same layers (and
    so the same weights); Keras-Hub's backbone classes rebuild themselves
    from hyperparameters, so their own files hold no graph."""
    return keras.Model(backbone.input, backbone.output,
                       name=backbone.name + "_functional")


@pytest.mark.parametrize("arch", ["gpt2", "bert"])
def test_backbone_graph_matches_the_backbone(tmp_path, arch):
    kw = dict(vocabulary_size=VOCAB, num_layers=2, num_heads=2,
              hidden_dim=HIDDEN, intermediate_dim=16, max_sequence_length=12)
    if arch == "gpt2":
        backbone = keras_hub.models.GPT2Backbone(**kw)
    else:
        backbone = keras_hub.models.BertBackbone(**kw)
    _randomize(backbone, scale=0.3)
    model = _functional(backbone)
    src = tmp_path / f"{arch}.keras"
    model.save(src)
    out = tmp_path / f"{arch}.tflite"
    run_cli("convert", src, "-o", out, check=True)
    for batch, t in ((2, 9), (3, 12)):
        feeds = _sequence_feeds(ids=["token_ids"], pads=["padding_mask"],
                                t_fixed=t)(batch)
        if arch == "bert":
            rng = np.random.default_rng(t)
            feeds["segment_ids"] = rng.integers(0, 2, (batch, t)).astype(
                "int32")
        want = backbone(feeds)
        if not isinstance(want, dict):
            want = {"layer_norm": want}
        got = run_litert(out, feeds)
        assert set(got) == set(want), (sorted(got), sorted(want))
        for name, w in want.items():
            np.testing.assert_allclose(got[name], np.asarray(w), **FP32,
                                       err_msg=f"{arch} {name} batch {batch}")


# ---------------------------------------------------------------------------
# Rejections: exit code 2, the layer named, why and how to fix it

def _refused(model, tmp_path, *fragments):
    src = tmp_path / "m.keras"
    model.save(src)
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", src, "-o", out)
    assert proc.returncode == 2, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr
    assert not out.exists()
    return proc.stderr


def _unzipped(model, tmp_path):
    """The model saved as a .keras and unzipped: (folder, its config)."""
    src = tmp_path / "m.keras"
    model.save(src)
    folder = tmp_path / "m_dir"
    with zipfile.ZipFile(src) as z:
        z.extractall(folder)
    return folder, json.loads((folder / "config.json").read_text())


def _convert_fails(folder, tmp_path, *fragments):
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", folder, "-o", out)
    assert proc.returncode == 2, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr
    assert not out.exists()


def _layer_config(config, name):
    for layer in config["config"]["layers"]:
        if layer["name"] == name:
            return layer
    raise KeyError(name)


def test_decoder_built_with_cross_attention_called_without_it(tmp_path):
    """A config that says cross-attention, a call that gives no encoder
    sequence: refused, not lowered without the cross-attention weights."""
    x = keras.Input((5, HIDDEN), name="x")
    model = keras.Model(x, H.TransformerDecoder(16, 2, name="dec")(x))
    folder, config = _unzipped(model, tmp_path)
    _layer_config(config, "dec")["config"]["encoder_sequence_shape"] = [
        None, 4, HIDDEN]
    (folder / "config.json").write_text(json.dumps(config))
    _convert_fails(folder, tmp_path, "'dec' (TransformerDecoder)",
                   "built with cross-attention",
                   "called without encoder_sequence")


def test_decoder_called_with_encoder_but_built_without(tmp_path):
    x = keras.Input((5, HIDDEN), name="x")
    enc = keras.Input((4, HIDDEN), name="encoder_sequence")
    model = keras.Model([x, enc], H.TransformerDecoder(16, 2, name="dec")(
        x, enc))
    folder, config = _unzipped(model, tmp_path)
    _layer_config(config, "dec")["config"]["encoder_sequence_shape"] = None
    (folder / "config.json").write_text(json.dumps(config))
    _convert_fails(folder, tmp_path, "'dec' (TransformerDecoder)",
                   "called with encoder_sequence but was built without "
                   "cross-attention")


def test_decoder_with_cache_refused(tmp_path):
    x = keras.Input((1, HIDDEN), name="x")
    cache = keras.Input((2, 6, 2, 4), name="cache")
    dec = H.TransformerDecoder(16, 2, name="dec")
    out = dec(x, self_attention_cache=cache,
              self_attention_cache_update_index=0)
    # Symbolically Keras gives the decoder one output here.
    if isinstance(out, (list, tuple)):
        out = out[0]
    model = keras.Model([x, cache], out)
    _refused(model, tmp_path, "'dec' (TransformerDecoder)",
             "self_attention_cache", "cache is not supported",
             "Export the model without a cache")


def test_encoder_activation_without_lowering_refused(tmp_path):
    x = keras.Input((5, HIDDEN), name="x")
    enc = H.TransformerEncoder(16, 2, activation="celu", name="enc")
    model = keras.Model(x, enc(x))
    _refused(model, tmp_path,
             "'enc/feedforward_intermediate_dense' (Dense)",
             "activation 'celu' has no builtin lowering",
             "Supported activations")


def test_position_embedding_positions_refused(tmp_path):
    x = keras.Input((5, HIDDEN), name="x")
    pos = keras.Input((5,), dtype="int32", name="positions")
    pe = H.PositionEmbedding(8, name="pe")
    model = keras.Model([x, pos], pe(x, positions=pos))
    _refused(model, tmp_path, "'pe' (PositionEmbedding)",
             "positions tensor", "Call it without positions")


def test_position_embedding_longer_than_table_refused(tmp_path):
    x = keras.Input((10, HIDDEN), name="x")
    pe = H.PositionEmbedding(8, name="pe")
    model = keras.Model(x, pe(x))
    _refused(model, tmp_path, "'pe' (PositionEmbedding)",
             "10 positions but its sequence_length is 8",
             "at most 8 positions")


def test_reverse_dtype_refused(tmp_path):
    ids = keras.Input((5,), dtype="int32", name="ids")
    emb = L.ReversibleEmbedding(VOCAB, HIDDEN, reverse_dtype="bfloat16",
                                name="emb")
    model = keras.Model(ids, emb(emb(ids), reverse=True))
    _refused(model, tmp_path, "'emb' (ReversibleEmbedding)",
             "reverse_dtype='bfloat16'", "reverse_dtype=None or 'float32'")


def test_quantized_reversible_embedding_refused(tmp_path):
    ids = keras.Input((5,), dtype="int32", name="ids")
    emb = L.ReversibleEmbedding(VOCAB, HIDDEN, name="emb")
    model = keras.Model(ids, emb(emb(ids), reverse=True))
    model.quantize("int8")
    _refused(model, tmp_path, "'emb' (ReversibleEmbedding)", "quantized",
             "saved before quantize()")


@keras.saving.register_keras_serializable(package="k2l_test")
class TransformerEncoder(L.Layer):
    """A user's own layer that shares Keras-Hub's class name."""

    def call(self, x):
        return x * 2.0


def test_own_class_named_like_a_hub_layer_is_not_taken_for_it(tmp_path):
    x = keras.Input((5, HIDDEN), name="x")
    model = keras.Model(x, TransformerEncoder(name="mine")(x))
    _refused(model, tmp_path, "cannot be converted",
             "'mine' (TransformerEncoder): a custom class registered as "
             "'k2l_test>TransformerEncoder'")
