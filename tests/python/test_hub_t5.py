"""Keras-Hub T5Seq2SeqLM, and its T5TransformerLayer on its own: tiny real
keras-hub models with random weights (norm scales and the relative
attention bias included), saved (save_to_preset, or .keras for a layer),
converted with the CLI, run in ai-edge-litert and our runtime, and compared
with keras-hub.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT). The relative position
bias is gathered from the saved table, so it is compared exactly.
"""
import json

import keras
import numpy as np
import pytest

import keras2litert
from harness import assert_builtin_only, run_cli
from hub_common import (
    cli_error as _cli_error,
    keras_out as _keras,
    randomize,
    run_signature as _litert,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

from keras_hub.src.models.t5.t5_multi_head_attention import (  # noqa: E402
    T5MultiHeadAttention,
)
from keras_hub.src.models.t5.t5_transformer_layer import (  # noqa: E402
    T5TransformerLayer,
)
from keras_hub.src.utils.keras_utils import gelu_approximate  # noqa: E402

# keras-hub's attention layers warn that they drop the Keras mask of
# their inputs; they never read one.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Layer '.*' \\(of type T5MultiHeadAttention\\) was passed an "
    "input with a mask")

VOCAB = 40
INPUTS = ["decoder_padding_mask", "decoder_token_ids", "encoder_padding_mask",
          "encoder_token_ids"]


def _randomize(model, seed=0):
    """Random weights everywhere, the norm scales and the relative bias
    too."""
    randomize(model, seed, matrix_scale=0.3)


def _t5(gated=True, tied=True, heads=2, activation="relu", key_value_dim=None):
    backbone = keras_hub.models.T5Backbone(
        vocabulary_size=VOCAB, num_layers=2, num_heads=heads, hidden_dim=16,
        intermediate_dim=24, key_value_dim=key_value_dim, dropout=0.1,
        activation=activation, use_gated_activation=gated,
        layer_norm_epsilon=1e-5, tie_embedding_weights=tied)
    return keras_hub.models.T5Seq2SeqLM(backbone=backbone, preprocessor=None)


TASKS = {
    "gated_tied": lambda: _t5(),
    "ungated_untied": lambda: _t5(gated=False, tied=False, heads=4),
    # T5 1.1 / Flan-T5 style: gated tanh-approximated GELU, untied head,
    # a head size apart from hidden_dim / num_heads.
    "gelu_untied_kv_dim": lambda: _t5(tied=False,
                                      activation=gelu_approximate,
                                      key_value_dim=6),
}


def _inputs(enc_len, dec_len, batch=2, enc_valid=None, dec_valid=None,
            seed=1):
    rng = np.random.default_rng(seed)
    x = {
        "encoder_token_ids":
            rng.integers(0, VOCAB, (batch, enc_len)).astype("int32"),
        "encoder_padding_mask": np.ones((batch, enc_len), "int32"),
        "decoder_token_ids":
            rng.integers(0, VOCAB, (batch, dec_len)).astype("int32"),
        "decoder_padding_mask": np.ones((batch, dec_len), "int32"),
    }
    if enc_valid is not None:
        x["encoder_padding_mask"][:, enc_valid:] = 0
    if dec_valid is not None:
        x["decoder_padding_mask"][:, dec_valid:] = 0
    return x


def _convert_preset(task, tmp_path, seed=0):
    _randomize(task, seed)
    folder = tmp_path / "preset"
    task.save_to_preset(str(folder))
    out = tmp_path / "m.tflite"
    run_cli("convert", folder, "-o", out, check=True)
    assert_builtin_only(out)
    return out


@pytest.mark.parametrize("kind", sorted(TASKS))
def test_preset_matches_keras_hub(tmp_path, kind):
    """The preset's file gives keras-hub's logits in ai-edge-litert and our
    runtime."""
    task = TASKS[kind]()
    out = _convert_preset(task, tmp_path)
    feeds = _inputs(7, 5)
    want = _keras(task, feeds)
    assert want.shape == (2, 5, VOCAB)
    got = _litert(out, feeds)
    assert list(got) == ["logits"]
    np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
    model = keras2litert.LiteRTModel(out)
    np.testing.assert_allclose(model.predict(feeds)["logits"], want,
                               **HUB_TEXT)
    sig = model.get_signature_list()["serving_default"]
    assert sorted(sig["inputs"]) == INPUTS
    assert sig["outputs"] == ["logits"]


def test_padding_masks_the_tails(tmp_path):
    """Encoder and decoder padding: the logits match keras-hub everywhere,
    and the valid decoder positions do not depend on the masked tokens."""
    task = TASKS["gated_tied"]()
    out = _convert_preset(task, tmp_path, seed=4)
    feeds = _inputs(9, 6, enc_valid=6, dec_valid=4, seed=5)
    feeds["encoder_padding_mask"][1, 3:] = 0  # rows of different lengths
    want = _keras(task, feeds)
    got = _litert(out, feeds)["logits"]
    np.testing.assert_allclose(got, want, **HUB_TEXT)
    np.testing.assert_allclose(
        keras2litert.LiteRTModel(out).predict(feeds)["logits"], want,
        **HUB_TEXT)
    # Without the masks, the answer differs: they are applied.
    unmasked = dict(feeds, encoder_padding_mask=np.ones((2, 9), "int32"),
                    decoder_padding_mask=np.ones((2, 6), "int32"))
    assert np.abs(_litert(out, unmasked)["logits"][:, :4] -
                  got[:, :4]).max() > 1e-3
    other = {k: v.copy() for k, v in feeds.items()}
    other["encoder_token_ids"][:, 6:] = 0
    other["encoder_token_ids"][1, 3:] = 0
    other["decoder_token_ids"][:, 4:] = 0
    np.testing.assert_allclose(_litert(out, other)["logits"][:, :4],
                               got[:, :4], **HUB_TEXT)


def test_one_file_runs_at_several_lengths(tmp_path):
    """Dynamic batch, encoder and decoder lengths: one file at (5, 3),
    (12, 9) and (3, 11)."""
    task = TASKS["ungated_untied"]()
    out = _convert_preset(task, tmp_path, seed=3)
    model = keras2litert.LiteRTModel(out)
    for batch, enc_len, dec_len in ((1, 5, 3), (3, 12, 9), (2, 3, 11)):
        feeds = _inputs(enc_len, dec_len, batch=batch, seed=enc_len)
        want = _keras(task, feeds)
        np.testing.assert_allclose(_litert(out, feeds)["logits"], want,
                                   **HUB_TEXT)
        np.testing.assert_allclose(model.predict(feeds)["logits"], want,
                                   **HUB_TEXT)


def test_live_task_gives_the_preset_file(tmp_path):
    task = TASKS["gated_tied"]()
    from_preset = _convert_preset(task, tmp_path, seed=6)
    from_live = tmp_path / "live.tflite"
    keras2litert.export(task, from_live, verbose=False)
    assert from_preset.read_bytes() == from_live.read_bytes()


# ---- the layer on its own (.keras files) --------------------------------


def _layer(is_decoder, name="t5_layer"):
    return T5TransformerLayer(
        is_decoder=is_decoder, hidden_dim=16, intermediate_dim=24,
        key_value_dim=8, dropout=0.0, activation="relu",
        layer_norm_epsilon=1e-6, num_heads=2, use_gated_activation=True,
        use_relative_attention_bias=True, name=name)


def _convert_keras(model, tmp_path):
    path = tmp_path / "layer.keras"
    model.save(path)
    out = tmp_path / "layer.tflite"
    run_cli("convert", path, "-o", out, check=True)
    assert_builtin_only(out)
    return out


def _run(out, feeds, want):
    """Runs the file in ai-edge-litert and our runtime; returns each one's
    outputs in the order of `want` (matched by shape, all distinct)."""
    shapes = [w.shape for w in want]
    assert len(set(shapes)) == len(shapes)
    results = []
    for got in (_litert(out, feeds),
                keras2litert.LiteRTModel(out).predict(feeds)):
        by_shape = {np.shape(v): np.asarray(v) for v in got.values()}
        assert set(by_shape) == set(shapes)
        results.append([by_shape[s] for s in shapes])
    return results


@pytest.mark.parametrize("is_decoder", [False, True])
def test_relative_position_buckets_at_long_distances(tmp_path, is_decoder):
    """The first layer's position_bias at length 301 covers every relative
    position in [-300, 300]: with bucket b of head h holding b + 100 h, it
    shows each position's bucket, which must be keras-hub's
    _relative_position_bucket (bidirectional in the encoder, causal in the
    decoder), rounding edges (16, 32, 64, 128) and saturation included."""
    layer = _layer(is_decoder)
    x = keras.Input((None, 16), name="x")
    y, bias = layer(x, use_causal_mask=is_decoder)
    model = keras.Model(x, [y, bias])
    _randomize(model, seed=8)
    table = np.arange(32, dtype="float32")[:, None] + 100 * np.arange(2)
    layer.self_attention.relative_attention_bias.assign(table)
    out = _convert_keras(model, tmp_path)

    length = 301
    h = np.random.default_rng(9).normal(size=(1, length, 16)).astype("float32")
    want_y, want_bias = [keras.ops.convert_to_numpy(t) for t in model(h)]
    (got_y, got_bias), (mine_y, mine_bias) = _run(out, {"x": h},
                                                  [want_y, want_bias])
    assert got_bias.shape == (1, 2, length, length)

    rel = np.arange(length)[None, :] - np.arange(length)[:, None]
    buckets = keras.ops.convert_to_numpy(
        T5MultiHeadAttention._relative_position_bucket(
            keras.ops.convert_to_tensor(rel.astype("int32")),
            bidirectional=not is_decoder))
    assert set(np.unique(rel)) == set(range(-300, 301))
    visible = rel <= 0 if is_decoder else np.ones_like(rel, bool)
    for head in range(2):
        np.testing.assert_array_equal(got_bias[0, head][visible],
                                      (buckets + 100 * head)[visible])
    np.testing.assert_array_equal(got_bias, want_bias)
    np.testing.assert_array_equal(mine_bias, want_bias)
    np.testing.assert_allclose(got_y, want_y, **HUB_TEXT)
    np.testing.assert_allclose(mine_y, want_y, **HUB_TEXT)


def test_layer_alone_with_padding_and_cross_attention(tmp_path):
    """A decoder layer given the masks and encoder states, and a later layer
    given its position_bias: both outputs of each match keras-hub."""
    first = _layer(True, "first")
    second = T5TransformerLayer(
        is_decoder=True, hidden_dim=16, intermediate_dim=24, key_value_dim=8,
        dropout=0.0, activation="gelu", layer_norm_epsilon=1e-6, num_heads=2,
        use_gated_activation=False, name="second")
    x = keras.Input((None, 16), name="x")
    enc = keras.Input((None, 16), name="enc")
    mask = keras.Input((1, None), dtype="int32", name="mask")
    enc_mask = keras.Input((1, None), dtype="int32", name="enc_mask")
    kw = dict(attention_mask=mask, encoder_hidden_states=enc,
              encoder_attention_mask=enc_mask, use_causal_mask=True)
    y, bias = first(x, **kw)
    z, bias2 = second(y, position_bias=bias, **kw)
    model = keras.Model([x, enc, mask, enc_mask], [z, bias2])
    _randomize(model, seed=10)
    out = _convert_keras(model, tmp_path)
    rng = np.random.default_rng(11)
    feeds = {"x": rng.normal(size=(2, 6, 16)).astype("float32"),
             "enc": rng.normal(size=(2, 8, 16)).astype("float32"),
             "mask": np.ones((2, 1, 6), "int32"),
             "enc_mask": np.ones((2, 1, 8), "int32")}
    feeds["mask"][1, 0, 4:] = 0
    feeds["enc_mask"][0, 0, 5:] = 0
    want = [keras.ops.convert_to_numpy(t)
            for t in model([feeds[k] for k in ("x", "enc", "mask",
                                                 "enc_mask")])]
    for got in _run(out, feeds, want):
        np.testing.assert_allclose(got[0], want[0], **HUB_TEXT)
        np.testing.assert_allclose(got[1], want[1], **HUB_TEXT)


def test_encoder_layer_ignores_encoder_arguments(tmp_path):
    """An encoder layer has no cross-attention: like keras-hub, the file
    ignores encoder states and an encoder mask passed to it, and applies
    its own attention_mask."""
    layer = _layer(False, "enc_layer")
    x = keras.Input((None, 16), name="x")
    enc = keras.Input((None, 16), name="enc")
    mask = keras.Input((1, None), dtype="int32", name="mask")
    y, bias = layer(x, attention_mask=mask, encoder_hidden_states=enc,
                    encoder_attention_mask=mask)
    model = keras.Model([x, enc, mask], [y, bias])
    _randomize(model, seed=12)
    out = _convert_keras(model, tmp_path)
    rng = np.random.default_rng(13)
    feeds = {"x": rng.normal(size=(2, 7, 16)).astype("float32"),
             "enc": rng.normal(size=(2, 3, 16)).astype("float32"),
             "mask": np.ones((2, 1, 7), "int32")}
    feeds["mask"][0, 0, 5:] = 0
    want = [keras.ops.convert_to_numpy(t)
            for t in model([feeds["x"], feeds["enc"], feeds["mask"]])]
    for got in _run(out, feeds, want):
        np.testing.assert_allclose(got[0], want[0], **HUB_TEXT)
        np.testing.assert_allclose(got[1], want[1], **HUB_TEXT)


# ---- rejections ---------------------------------------------------------


def _edited_preset(task, tmp_path, **changes):
    folder = tmp_path / "preset"
    task.save_to_preset(str(folder))
    cfg = json.loads((folder / "config.json").read_text())
    cfg["config"].update(changes)
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def test_rejects_unknown_hyperparameter(tmp_path):
    folder = _edited_preset(TASKS["gated_tied"](), tmp_path,
                            relative_attention_num_buckets=64)
    err = _cli_error(folder, tmp_path)
    assert "T5Backbone" in err and "'relative_attention_num_buckets'" in err


def test_rejects_malformed_backbone_config(tmp_path):
    folder = _edited_preset(TASKS["gated_tied"](), tmp_path,
                            use_gated_activation="yes")
    err = _cli_error(folder, tmp_path)
    assert "T5Backbone: the hyperparameter 'use_gated_activation' is " \
           "\"yes\", not a boolean" in err
    folder = _edited_preset(TASKS["gated_tied"](), tmp_path / "h", num_heads=3)
    err = _cli_error(folder, tmp_path)
    assert "T5Backbone" in err and "hidden_dim" in err and "num_heads" in err


def test_rejects_key_value_caches(tmp_path):
    layer = _layer(True, "cached")
    x = keras.Input((5, 16))
    enc = keras.Input((5, 16))
    cache = keras.Input((2, 5, 2, 8))
    cross = keras.Input((2, 5, 2, 8))
    outs = layer(x, encoder_hidden_states=enc, self_attention_cache=cache,
                 self_attention_cache_update_index=0,
                 cross_attention_cache=cross,
                 cross_attention_cache_update_index=0, use_causal_mask=True)
    model = keras.Model([x, enc, cache, cross], outs[0])
    path = tmp_path / "cached.keras"
    model.save(path)
    err = _cli_error(path, tmp_path)
    assert "layer 'cached'" in err and "self_attention_cache" in err
    assert "without a cache" in err


def _edited_keras(model, tmp_path, edit):
    """The model saved as .keras with its config.json changed by `edit`
    (a malformed file: Keras would not write it)."""
    import zipfile
    path = tmp_path / "saved.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(files["config.json"])
    edit({l["name"]: l for l in cfg["config"]["layers"]})
    files["config.json"] = json.dumps(cfg).encode()
    edited = tmp_path / "edited.keras"
    with zipfile.ZipFile(edited, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    return edited


def _set(layer, key, value):
    def edit(layers):
        layers[layer]["config"][key] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set("blk", "hidden_dim", 12),
     "it takes [batch, sequence, 12] (hidden_dim)"),
    (_set("blk", "num_heads", 0), "num_heads is 0, not a positive size"),
    (_set("blk", "dtype", {"module": "keras",
                           "class_name": "QuantizedDTypePolicy",
                           "config": {"name": "int8_from_float32"}}),
     "it is quantized"),
    (_set("mask", "batch_shape", [None, None]),
     "T5 attention takes a [batch, 1 or target, source] mask"),
    (_set("enc", "batch_shape", [None, None, 8]),
     "its encoder_hidden_states have shape"),
])
def test_rejects_malformed_layer_files(tmp_path, edit, message):
    layer = _layer(True, "blk")
    x = keras.Input((None, 16), name="x")
    enc = keras.Input((None, 16), name="enc")
    mask = keras.Input((1, None), dtype="int32", name="mask")
    y, _ = layer(x, attention_mask=mask, encoder_hidden_states=enc,
                 use_causal_mask=True)
    model = keras.Model([x, enc, mask], y)
    err = _cli_error(_edited_keras(model, tmp_path, edit), tmp_path)
    assert "layer 'blk'" in err and message in err, err
