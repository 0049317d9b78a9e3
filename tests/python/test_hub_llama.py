"""Keras-Hub Llama, Llama 3 and Mistral CausalLM tasks, and their decoder
blocks on their own: tiny real keras-hub models with random weights, saved
(save_to_preset, or .keras for a block), converted with the CLI, run in
ai-edge-litert and our runtime, and compared with keras-hub.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT). The rotary embedding's
sine and cosine are evaluated by a polynomial (our op set has no SIN/COS),
exact to a few float32 ulps, well inside it.
"""
import json

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import keras2litert
from harness import assert_builtin_only, run_cli
from hub_common import (
    randomize as _randomize,
    run_signature as _litert,
    keras_out as _keras,
    cli_error as _cli_error,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

from keras_hub.src.models.llama.llama_decoder import (  # noqa: E402
    LlamaTransformerDecoder,
)
from keras_hub.src.models.mistral.mistral_transformer_decoder import (  # noqa: E402
    MistralTransformerDecoder,
)

BACKEND = keras.backend.backend()


SMALL = dict(vocabulary_size=60, num_layers=2, num_query_heads=4,
             num_key_value_heads=2, hidden_dim=16, intermediate_dim=32)


def _llama3():
    return keras_hub.models.Llama3CausalLM(
        backbone=keras_hub.models.Llama3Backbone(**SMALL), preprocessor=None)


def _llama():
    return keras_hub.models.LlamaCausalLM(
        backbone=keras_hub.models.LlamaBackbone(**SMALL,
                                                rope_max_wavelength=500),
        preprocessor=None)


def _llama31():
    # Llama 3.1's rope scaling, with a pretraining length short enough that
    # the low, medium and high frequency bands all occur at head dim 4... 8.
    return keras_hub.models.Llama3CausalLM(
        backbone=keras_hub.models.Llama3Backbone(
            **dict(SMALL, num_query_heads=2, num_key_value_heads=1),
            rope_max_wavelength=10000,
            rope_frequency_adjustment_factor=8.0, rope_low_freq_factor=1.0,
            rope_high_freq_factor=4.0, rope_pretraining_sequence_length=64),
        preprocessor=None)


def _mistral():
    # A window of 4 so that it matters at the lengths tested (and no row
    # of the padded case is left with no key: keras-hub fills such rows
    # differently on JAX and NumPy).
    return keras_hub.models.MistralCausalLM(
        backbone=keras_hub.models.MistralBackbone(
            **SMALL, sliding_window=4, rope_scaling_factor=2.0,
            layer_norm_epsilon=1e-5),
        preprocessor=None)


def _mistral_head_dim():
    # head_dim set apart from hidden_dim / num_query_heads; no window.
    return keras_hub.models.MistralCausalLM(
        backbone=keras_hub.models.MistralBackbone(
            **SMALL, sliding_window=None, head_dim=6),
        preprocessor=None)


TASKS = {"llama3": _llama3, "llama": _llama, "llama31": _llama31,
         "mistral": _mistral, "mistral_head_dim": _mistral_head_dim}


def _inputs(length, batch=2, pad_from=None, seed=1, vocab=60):
    rng = np.random.default_rng(seed)
    x = {"token_ids": rng.integers(0, vocab, (batch, length)).astype("int32"),
         "padding_mask": np.ones((batch, length), "int32")}
    if pad_from is not None:
        x["padding_mask"][:, pad_from:] = 0
    return x


def _convert_preset(task, tmp_path, seed=0):
    _randomize(task, seed)
    folder = tmp_path / "preset"
    task.save_to_preset(str(folder))
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", folder, "-o", out, check=True)
    assert "sequence_length dynamic" in proc.stdout
    assert_builtin_only(out)
    return out


@pytest.mark.parametrize("kind", sorted(TASKS))
def test_preset_matches_keras_hub(tmp_path, kind):
    """The preset's file gives keras-hub's logits, padded batch included,
    in ai-edge-litert and our runtime."""
    task = TASKS[kind]()
    out = _convert_preset(task, tmp_path)
    feeds = _inputs(10, pad_from=7)
    want = _keras(task, feeds)
    got = _litert(out, feeds)
    assert list(got) == ["logits"]
    np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
    mine = keras2litert.LiteRTModel(out).predict(feeds)
    np.testing.assert_allclose(mine["logits"], want, **HUB_TEXT)
    sig = keras2litert.LiteRTModel(out).get_signature_list()["serving_default"]
    assert set(sig["inputs"]) == {"token_ids", "padding_mask"}


@pytest.mark.parametrize("kind", ["llama3", "mistral"])
def test_one_file_runs_at_two_lengths(tmp_path, kind):
    """No position table: one file at lengths 6 and 21 (past the Mistral
    window)."""
    task = TASKS[kind]()
    out = _convert_preset(task, tmp_path, seed=3)
    model = keras2litert.LiteRTModel(out)
    for length in (6, 21):
        feeds = _inputs(length, batch=1, seed=length)
        want = _keras(task, feeds)
        np.testing.assert_allclose(_litert(out, feeds)["logits"], want,
                                   **HUB_TEXT)
        np.testing.assert_allclose(model.predict(feeds)["logits"], want,
                                   **HUB_TEXT)


def test_padding_masks_the_tail(tmp_path):
    """With the tail masked, the valid positions match and do not depend on
    the masked tokens."""
    task = _llama3()
    out = _convert_preset(task, tmp_path, seed=4)
    feeds = _inputs(9, pad_from=5, seed=5)
    want = _keras(task, feeds)
    got = _litert(out, feeds)["logits"]
    np.testing.assert_allclose(got[:, :5], want[:, :5], **HUB_TEXT)
    other = dict(feeds, token_ids=feeds["token_ids"].copy())
    other["token_ids"][:, 5:] = 0
    np.testing.assert_allclose(_litert(out, other)["logits"][:, :5],
                               got[:, :5], **HUB_TEXT)


def test_llama_position_scaling_factor_is_ignored_like_keras_hub(tmp_path):
    """keras-hub's LlamaRotaryEmbedding replaces the inverse frequencies
    without rope_position_scaling_factor, so the factor changes nothing;
    the file follows keras-hub."""
    task = keras_hub.models.Llama3CausalLM(
        backbone=keras_hub.models.Llama3Backbone(
            **SMALL, rope_position_scaling_factor=4.0),
        preprocessor=None)
    out = _convert_preset(task, tmp_path, seed=7)
    feeds = _inputs(8)
    np.testing.assert_allclose(_litert(out, feeds)["logits"],
                               _keras(task, feeds), **HUB_TEXT)


# ---- decoder blocks on their own (.keras files) --------------------------


def _block_model(block):
    x = keras.Input((None, 16))
    m = keras.Input((None,), dtype="int32")
    y = block(x, decoder_padding_mask=m)
    return keras.Model([x, m], y)


@pytest.mark.parametrize("kind", ["llama", "mistral"])
def test_decoder_block_alone(tmp_path, kind):
    if kind == "llama":
        block = LlamaTransformerDecoder(intermediate_dim=32, num_query_heads=4,
                                        num_key_value_heads=2, name="dec")
    else:
        block = MistralTransformerDecoder(
            intermediate_dim=32, num_query_heads=4, num_key_value_heads=1,
            sliding_window=4, name="dec")
    model = _block_model(block)
    _randomize(model, seed=11)
    if kind == "llama":
        # keras-hub 0.32's LlamaTransformerDecoder.get_config reads an
        # attribute it never sets; give it one so the model can be saved.
        block.rope_scaling_factor = 1.0
    path = tmp_path / "block.keras"
    model.save(path)
    out = tmp_path / "block.tflite"
    run_cli("convert", path, "-o", out, check=True)
    assert_builtin_only(out)
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 11, 16)).astype("float32")
    m = np.ones((2, 11), "int32")
    m[1, 8:] = 0
    want = keras.ops.convert_to_numpy(model([x, m]))
    interp = Interpreter(model_path=str(out))
    runner = interp.get_signature_runner("serving_default")
    names = list(interp.get_signature_list()["serving_default"]["inputs"])
    feeds = dict(zip(names, [x, m]))
    got = list(runner(**feeds).values())[0]
    np.testing.assert_allclose(got, want, **HUB_TEXT)
    mine = list(keras2litert.LiteRTModel(out).predict(feeds).values())[0]
    np.testing.assert_allclose(mine, want, **HUB_TEXT)


# ---- rejections ---------------------------------------------------------


def _edited_preset(task, tmp_path, **changes):
    folder = tmp_path / "preset"
    task.save_to_preset(str(folder))
    cfg = json.loads((folder / "config.json").read_text())
    for k, v in changes.items():
        if v is _DROP:
            del cfg["config"][k]
        else:
            cfg["config"][k] = v
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


_DROP = object()


def test_rejects_unknown_hyperparameter(tmp_path):
    """A rope scaling type (or any argument) keras-hub 0.32 does not have is
    named, not ignored."""
    folder = _edited_preset(_llama3(), tmp_path, rope_scaling_type="yarn")
    err = _cli_error(folder, tmp_path)
    assert "LlamaBackbone" in err and "'rope_scaling_type'" in err
    folder = _edited_preset(_mistral(), tmp_path / "m", rope_type="dynamic")
    err = _cli_error(folder, tmp_path)
    assert "MistralBackbone" in err and "'rope_type'" in err


def test_rejects_partial_llama31_rope_scaling(tmp_path):
    folder = _edited_preset(_llama3(), tmp_path, rope_low_freq_factor=1.0)
    err = _cli_error(folder, tmp_path)
    assert "transformer_layer_0" in err
    assert "rope_frequency_adjustment_factor" in err
    assert "Set all four" in err


def test_rejects_query_heads_not_a_multiple_of_kv_heads(tmp_path):
    folder = _edited_preset(_llama3(), tmp_path, num_key_value_heads=3)
    err = _cli_error(folder, tmp_path)
    assert "num_query_heads 4 is not a positive multiple of " \
           "num_key_value_heads 3" in err


def test_rejects_bad_sliding_window(tmp_path):
    folder = _edited_preset(_mistral(), tmp_path, sliding_window=0)
    err = _cli_error(folder, tmp_path)
    assert "sliding_window 0 is not positive" in err


def test_rejects_non_silu_block_activation(tmp_path):
    """The block's activation comes from a .keras file's config."""
    block = MistralTransformerDecoder(intermediate_dim=32, num_query_heads=4,
                                      num_key_value_heads=2, name="dec",
                                      activation="gelu")
    model = _block_model(block)
    path = tmp_path / "block.keras"
    model.save(path)
    err = _cli_error(path, tmp_path)
    assert "layer 'dec'" in err and "activation" in err and "silu" in err


def test_rejects_inconsistent_backbone_config(tmp_path):
    """Checked by the builder, before any layer is lowered."""
    folder = _edited_preset(_llama3(), tmp_path, num_query_heads=3)
    err = _cli_error(folder, tmp_path)
    assert "LlamaBackbone: hidden_dim 16 is not a multiple of " \
           "num_query_heads 3" in err
    folder = _edited_preset(_llama3(), tmp_path / "t",
                            tie_word_embeddings="yes")
    err = _cli_error(folder, tmp_path)
    assert "'tie_word_embeddings' is \"yes\", not a boolean" in err


def test_rejects_bad_rope_scaling_factor(tmp_path):
    folder = _edited_preset(_mistral(), tmp_path, rope_scaling_factor=0.0)
    err = _cli_error(folder, tmp_path)
    assert "transformer_layer_0" in err and "rope_scaling_factor" in err


def test_rejects_decoder_attention_mask(tmp_path):
    """A custom attention mask (or a KV cache) is not supported."""
    block = MistralTransformerDecoder(intermediate_dim=32, num_query_heads=4,
                                      num_key_value_heads=2, name="dec")
    x = keras.Input((5, 16))
    a = keras.Input((5, 5), dtype="int32")
    model = keras.Model([x, a], block(x, decoder_attention_mask=a))
    path = tmp_path / "block.keras"
    model.save(path)
    err = _cli_error(path, tmp_path)
    assert "layer 'dec'" in err and "decoder_attention_mask" in err
