"""Keras-Hub Gemma 1, Gemma 2 and Gemma 3 (text only): tiny real keras-hub
CausalLM tasks with random weights, saved with save_to_preset, converted
from the preset folder with the CLI, run in ai-edge-litert and our runtime,
and compared with keras-hub's own logits; and the decoder blocks on their
own, in Functional models saved as .keras.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT), the Keras-Hub text
bar; the reason is stated there.
"""
import json
import zipfile

import keras
import numpy as np
import pytest

import keras2litert
from harness import assert_builtin_only, run_cli
from hub_common import (
    randomize,
    run_signature as _litert,
    keras_out as _keras_logits,
    cli_error as _cli_error,
    save_preset as _saved,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

from keras_hub.src.models.gemma.gemma_decoder_block import (  # noqa: E402
    GemmaDecoderBlock)
from keras_hub.src.models.gemma.rms_normalization import (  # noqa: E402
    RMSNormalization)
from keras_hub.src.models.gemma3.gemma3_decoder_block import (  # noqa: E402
    Gemma3DecoderBlock)


def _cli_has(layer_class):
    """Whether the CLI's layer table marks the class converted."""
    for row in run_cli("layers", check=True).stdout.splitlines():
        cells = [c.strip() for c in row.split("|")]
        if (len(cells) > 2 and cells[1].strip("`").endswith(layer_class)
                and cells[2] in ("supported", "partial")):
            return True
    return False


# The tasks' logits come from keras-hub's ReversibleEmbedding (reverse=True,
# with the final soft cap), whose converter is another family's.
needs_reversible_embedding = pytest.mark.skipif(
    not _cli_has("ReversibleEmbedding"),
    reason="this build has no ReversibleEmbedding converter")


def _randomize(model, seed=0):
    randomize(model, seed, matrix_scale=0.3)


def _both(path, feeds):
    """The outputs of ai-edge-litert and of our runtime."""
    a = _litert(path, feeds)
    b = keras2litert.LiteRTModel(path).predict(feeds)
    return a, b


def _max_err(got, want):
    return float(np.max(np.abs(np.asarray(got) - np.asarray(want))))


# ---- tasks -------------------------------------------------------------


def _gemma1():
    # Multi-query attention (one key/value head), no soft caps, no window.
    backbone = keras_hub.models.GemmaBackbone(
        vocabulary_size=61, num_layers=2, num_query_heads=4,
        num_key_value_heads=1, hidden_dim=16, intermediate_dim=64,
        head_dim=8)
    return keras_hub.models.GemmaCausalLM(backbone=backbone,
                                          preprocessor=None)


def _gemma2(**overrides):
    # Gemma 2: post norms, both soft caps, a sliding window of 4 on the even
    # layers (sequences are longer than 4, so the window matters), grouped
    # queries (4 query heads on 2 key/value heads), and
    # query_head_dim_normalize=False, which keras-hub's blocks ignore.
    cfg = dict(vocabulary_size=67, num_layers=3, num_query_heads=4,
               num_key_value_heads=2, hidden_dim=24, intermediate_dim=48,
               head_dim=8, query_head_dim_normalize=False,
               use_post_ffw_norm=True, use_post_attention_norm=True,
               final_logit_soft_cap=3.0, attention_logit_soft_cap=2.0,
               use_sliding_window_attention=True, sliding_window_size=4)
    cfg.update(overrides)
    backbone = keras_hub.models.GemmaBackbone(**cfg)
    return keras_hub.models.GemmaCausalLM(backbone=backbone,
                                          preprocessor=None)


def _gemma3(**overrides):
    # Gemma 3 text only: query/key norms, six layers (five local with a
    # sliding window of 4 and rope wavelength 1e4, one global with 1e6 and
    # its own rope scaling), post norms, both soft caps.
    cfg = dict(vocabulary_size=71, image_size=16, num_layers=6,
               num_query_heads=4, num_key_value_heads=2, hidden_dim=16,
               intermediate_dim=24, head_dim=8, use_query_key_norm=True,
               use_post_ffw_norm=True, use_post_attention_norm=True,
               final_logit_soft_cap=5.0, attention_logit_soft_cap=4.0,
               use_sliding_window_attention=True, sliding_window_size=4,
               local_rope_scaling_factor=1.0, global_rope_scaling_factor=8.0,
               vision_encoder=None)
    cfg.update(overrides)
    backbone = keras_hub.models.Gemma3Backbone(**cfg)
    return keras_hub.models.Gemma3CausalLM(backbone=backbone,
                                           preprocessor=None)


TASKS = {"gemma1": _gemma1, "gemma2": _gemma2, "gemma3": _gemma3}


def _inputs(task, length, batch=2, pad_from=None, seed=1):
    rng = np.random.default_rng(seed)
    vocab = task.backbone.vocabulary_size
    x = {"token_ids": rng.integers(0, vocab, (batch, length)).astype("int32"),
         "padding_mask": np.ones((batch, length), "int32")}
    if pad_from is not None:
        x["padding_mask"][:, pad_from:] = 0
    return x


def _convert_preset(task, tmp_path, *args):
    preset = tmp_path / "preset"
    task.save_to_preset(str(preset))
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", preset, "-o", out, *args, check=True)
    assert_builtin_only(out)
    return out, proc


@needs_reversible_embedding
@pytest.mark.parametrize("kind", sorted(TASKS))
def test_task_matches_keras_hub(tmp_path, kind):
    """Logits of the converted preset match keras-hub's, in both runtimes,
    with the tail of one row padded."""
    task = TASKS[kind]()
    _randomize(task)
    out, proc = _convert_preset(task, tmp_path)
    assert "sequence_length dynamic" in proc.stdout
    feeds = _inputs(task, 10)
    feeds["padding_mask"][1, 7:] = 0
    want = _keras_logits(task, feeds)
    got, mine = _both(out, feeds)
    assert list(got) == ["logits"]
    np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
    np.testing.assert_allclose(mine["logits"], want, **HUB_TEXT)
    print(kind, "max abs error", _max_err(got["logits"], want),
          _max_err(mine["logits"], want))


@needs_reversible_embedding
@pytest.mark.parametrize("kind", sorted(TASKS))
def test_one_file_runs_at_two_lengths(tmp_path, kind):
    """A dynamic sequence length: one file, lengths 3 and 13 (shorter and
    longer than the window)."""
    task = TASKS[kind]()
    _randomize(task, seed=3)
    out, _ = _convert_preset(task, tmp_path)
    for length in (3, 13):
        feeds = _inputs(task, length, batch=1, seed=length)
        want = _keras_logits(task, feeds)
        got, mine = _both(out, feeds)
        np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
        np.testing.assert_allclose(mine["logits"], want, **HUB_TEXT)


@needs_reversible_embedding
@pytest.mark.parametrize("kind", sorted(TASKS))
def test_fixed_sequence_length(tmp_path, kind):
    """--sequence-length fixes the length: constant rotary tables and
    masks, the same logits."""
    task = TASKS[kind]()
    _randomize(task, seed=5)
    out, proc = _convert_preset(task, tmp_path, "--sequence-length", "9")
    assert "sequence_length 9 (the sequence_length argument)" in proc.stdout
    shape = keras2litert.LiteRTModel(out).input_details[0]["shape_signature"]
    assert list(shape) == [-1, 9]
    feeds = _inputs(task, 9, pad_from=6, seed=6)
    want = _keras_logits(task, feeds)
    got, mine = _both(out, feeds)
    np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
    np.testing.assert_allclose(mine["logits"], want, **HUB_TEXT)


@needs_reversible_embedding
def test_padding_masks_the_tail(tmp_path):
    """With the tail masked, the valid positions do not depend on what the
    masked tokens are."""
    task = _gemma2()
    _randomize(task, seed=4)
    out, _ = _convert_preset(task, tmp_path)
    feeds = _inputs(task, 9, batch=2, pad_from=5, seed=5)
    want = _keras_logits(task, feeds)
    got = _litert(out, feeds)["logits"]
    np.testing.assert_allclose(got[:, :5], want[:, :5], **HUB_TEXT)
    other = dict(feeds, token_ids=feeds["token_ids"].copy())
    other["token_ids"][:, 5:] = 0
    np.testing.assert_allclose(_litert(out, other)["logits"][:, :5],
                               got[:, :5], **HUB_TEXT)


@needs_reversible_embedding
def test_long_positions(tmp_path):
    """Positions past the first block of the rotary tables (512): the
    angle-addition tables agree with keras-hub at length 600."""
    task = _gemma3(num_layers=1, vocabulary_size=31)
    _randomize(task, seed=8)
    out, _ = _convert_preset(task, tmp_path)
    feeds = _inputs(task, 600, batch=1, seed=9)
    want = _keras_logits(task, feeds)
    got, mine = _both(out, feeds)
    # Keras computes cos/sin of float32(p * f): at positions near 600 the
    # argument itself is only known to ~4e-5, hence 1e-3 here.
    np.testing.assert_allclose(got["logits"], want, atol=1e-3, rtol=1e-3)
    np.testing.assert_allclose(mine["logits"], want, atol=1e-3, rtol=1e-3)


# ---- the layers on their own --------------------------------------------


def _block_model(block, hidden):
    x = keras.Input((None, hidden), name="x")
    pm = keras.Input((None,), dtype="int32", name="padding_mask")
    y = block(x, padding_mask=pm)
    y = RMSNormalization(epsilon=1e-5, name="norm")(y)
    return keras.Model({"x": x, "padding_mask": pm}, y)


BLOCKS = {
    "gemma": lambda: GemmaDecoderBlock(
        hidden_dim=16, intermediate_dim=32, head_dim=4, num_query_heads=4,
        num_key_value_heads=4, name="block"),
    "gemma2": lambda: GemmaDecoderBlock(
        hidden_dim=16, intermediate_dim=32, head_dim=8, num_query_heads=4,
        num_key_value_heads=2, use_post_ffw_norm=True,
        use_post_attention_norm=True, logit_soft_cap=1.5,
        use_sliding_window_attention=True, sliding_window_size=3,
        layer_norm_epsilon=1e-5, name="block"),
    "gemma3": lambda: Gemma3DecoderBlock(
        hidden_dim=16, intermediate_dim=24, head_dim=8, num_query_heads=2,
        num_key_value_heads=1, use_query_key_norm=True,
        use_post_ffw_norm=True, use_post_attention_norm=True,
        gate_dim_reduction=1, logit_soft_cap=2.5,
        use_sliding_window_attention=True, sliding_window_size=4,
        rope_wavelength=1_000_000.0, rope_scaling_factor=4.0, name="block"),
}


@pytest.mark.parametrize("kind", sorted(BLOCKS))
def test_decoder_block_layer(tmp_path, kind):
    """The block alone in a .keras file: every position matches, including
    rows whose keys are all padded (left padding: keras-hub gives those
    zeros)."""
    model = _block_model(BLOCKS[kind](), 16)
    _randomize(model, seed=11)
    path = tmp_path / "m.keras"
    model.save(path)
    out = tmp_path / "m.tflite"
    run_cli("convert", path, "-o", out, check=True)
    assert_builtin_only(out)
    rng = np.random.default_rng(12)
    for length in (2, 9):
        feeds = {"x": rng.normal(size=(2, length, 16)).astype("float32"),
                 "padding_mask": np.ones((2, length), "int32")}
        feeds["padding_mask"][0, :1] = 0
        feeds["padding_mask"][1, length - 1:] = 0
        want = keras.ops.convert_to_numpy(model(feeds))
        got, mine = _both(out, feeds)
        (g,), (m,) = got.values(), mine.values()
        np.testing.assert_allclose(g, want, **HUB_TEXT)
        np.testing.assert_allclose(m, want, **HUB_TEXT)


def test_keras_rms_normalization_is_still_keras(tmp_path):
    """keras.layers.RMSNormalization (scale, not 1 + scale) is not taken for
    keras-hub's."""
    x = keras.Input((5,), name="x")
    model = keras.Model({"x": x},
                        keras.layers.RMSNormalization(epsilon=1e-3)(x))
    _randomize(model, seed=2)
    path = tmp_path / "m.keras"
    model.save(path)
    out = tmp_path / "m.tflite"
    run_cli("convert", path, "-o", out, check=True)
    feeds = np.random.default_rng(3).normal(size=(2, 5)).astype("float32")
    (got,) = _litert(out, {"x": feeds}).values()
    np.testing.assert_allclose(got,
                               keras.ops.convert_to_numpy(model({"x": feeds})),
                               atol=1e-5, rtol=1e-5)


# ---- rejections ---------------------------------------------------------


def _edit_config(preset, **changes):
    cfg = json.loads((preset / "config.json").read_text())
    cfg["config"].update(changes)
    (preset / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("key,value,fragment", [
    ("vision_encoder", {"class_name": "Gemma3VisionEncoder", "config": {}},
     "hyperparameter 'vision_encoder' is set: keras2litert exports Gemma 3 "
     "text only"),
    ("is_embedding_model", True,
     "hyperparameter 'is_embedding_model' is true"),
    ("use_bidirectional_attention", True,
     "hyperparameter 'use_bidirectional_attention' is true: bidirectional "
     "attention is not supported"),
    ("sliding_window_size", 0,
     "hyperparameter 'sliding_window_size' is 0: a sliding window needs at "
     "least one token"),
    ("global_rope_scaling_factor", -1.0,
     "hyperparameter 'global_rope_scaling_factor' is -1.0: it must be "
     "positive"),
    ("final_logit_soft_cap", 0.0,
     "hyperparameter 'final_logit_soft_cap' is 0.0; a soft cap must be "
     "positive"),
])
def test_gemma3_rejects(tmp_path, key, value, fragment):
    preset = _saved(_gemma3(num_layers=1), tmp_path)
    _edit_config(preset, **{key: value})
    err = _cli_error(preset, tmp_path)
    assert "Gemma3Backbone: the " + fragment in err, err


@pytest.mark.parametrize("key,value,fragment", [
    ("sliding_window_size", 0,
     "GemmaBackbone: the hyperparameter 'sliding_window_size' is 0; a sliding "
     "window needs at least one token"),
    ("attention_logit_soft_cap", "big",
     "GemmaBackbone: the hyperparameter 'attention_logit_soft_cap' is \"big\", "
     "not a number or null"),
    ("use_post_ffw_norm", "yes",
     "GemmaBackbone: the hyperparameter 'use_post_ffw_norm' is \"yes\", not a "
     "boolean"),
    # Refused by the block's converter, after the whole graph is known to
    # be convertible.
    pytest.param("num_key_value_heads", 3,
                 "layer 'decoder_block_0' (GemmaDecoderBlock): "
                 "num_query_heads=4 is not a multiple of "
                 "num_key_value_heads=3", marks=needs_reversible_embedding),
    pytest.param("head_dim", 7,
                 "layer 'decoder_block_0' (GemmaDecoderBlock): head_dim=7 is "
                 "odd", marks=needs_reversible_embedding),
    pytest.param("intermediate_dim", 40,
                 "layer 'decoder_block_0' (GemmaDecoderBlock): its gating_ffw "
                 "kernel has shape", marks=needs_reversible_embedding),
])
def test_gemma_rejects(tmp_path, key, value, fragment):
    preset = _saved(_gemma2(num_layers=1), tmp_path)
    _edit_config(preset, **{key: value})
    err = _cli_error(preset, tmp_path)
    assert fragment in err, err


def _rewrite_keras(path, edit):
    """Rewrites a .keras file's config.json through `edit`."""
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(files["config.json"])
    edit(cfg)
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)


def _block_layer(cfg):
    return next(layer for layer in cfg["config"]["layers"]
                if layer["config"]["name"] == "block")


def test_gemma3_block_rejects_bidirectional(tmp_path):
    model = _block_model(BLOCKS["gemma3"](), 16)
    path = tmp_path / "m.keras"
    model.save(path)
    _rewrite_keras(path, lambda c: _block_layer(c)["config"].update(
        use_bidirectional_attention=True))
    err = _cli_error(path, tmp_path)
    assert ("layer 'block' (Gemma3DecoderBlock): "
            "use_bidirectional_attention=True") in err, err


def test_gemma3_block_rejects_vision_mask(tmp_path):
    x = keras.Input((None, 16), name="x")
    pm = keras.Input((None,), dtype="int32", name="padding_mask")
    vm = keras.Input((None,), dtype="int32", name="vision_mask")
    y = BLOCKS["gemma3"]()(x, padding_mask=pm, vision_mask=vm)
    model = keras.Model({"x": x, "padding_mask": pm, "vision_mask": vm}, y)
    path = tmp_path / "m.keras"
    model.save(path)
    err = _cli_error(path, tmp_path)
    assert ("layer 'block' (Gemma3DecoderBlock): it is called with a "
            "vision_mask") in err, err
