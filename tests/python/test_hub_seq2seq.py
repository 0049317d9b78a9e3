"""Keras-Hub Seq2SeqLM tasks (BART here; T5 in test_hub_t5.py): tiny real
keras-hub models with random weights, saved with save_to_preset, converted
from the preset (CLI) and the live task (Python), run in ai-edge-litert and
our runtime, and compared with keras-hub. Also how the encoder and decoder
lengths resolve.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT).
"""
import json

import keras
import numpy as np
import pytest

import keras2litert
from harness import assert_builtin_only, run_cli
from hub_common import (
    randomize as _randomize,
    run_signature as _litert,
    keras_out as _keras_logits,
    save_preset as _save,
    cli_error as _cli_error,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

NAMES = ["decoder_padding_mask", "decoder_token_ids", "encoder_padding_mask",
         "encoder_token_ids"]


def _bart(**kw):
    cfg = dict(vocabulary_size=53, num_layers=2, num_heads=2, hidden_dim=16,
               intermediate_dim=32, max_sequence_length=24)
    cfg.update(kw)
    return keras_hub.models.BartSeq2SeqLM(
        backbone=keras_hub.models.BartBackbone(**cfg), preprocessor=None)


def _inputs(task, enc_len, dec_len, batch=2, enc_valid=None, dec_valid=None,
            seed=1):
    """Token ids and padding masks; sample i has enc_valid[i] (dec_valid[i])
    valid tokens, the rest masked."""
    rng = np.random.default_rng(seed)
    vocab = task.backbone.vocabulary_size
    enc_valid = enc_valid or [enc_len] * batch
    dec_valid = dec_valid or [dec_len] * batch
    return {
        "encoder_token_ids": rng.integers(0, vocab, (batch, enc_len)).astype(
            "int32"),
        "encoder_padding_mask": (np.arange(enc_len)[None, :] <
                                 np.array(enc_valid)[:, None]).astype("int32"),
        "decoder_token_ids": rng.integers(0, vocab, (batch, dec_len)).astype(
            "int32"),
        "decoder_padding_mask": (np.arange(dec_len)[None, :] <
                                 np.array(dec_valid)[:, None]).astype("int32"),
    }


def test_bart_preset_and_live_task_match_keras_hub(tmp_path):
    """Preset (CLI) and live task (Python) give the same file; its logits
    match keras-hub's in both runtimes, with the encoder's and the
    decoder's tails masked."""
    task = _bart()
    _randomize(task)
    preset = _save(task, tmp_path)
    from_preset = tmp_path / "preset.tflite"
    proc = run_cli("convert", preset, "-o", from_preset, check=True)
    assert ("BartSeq2SeqLM (a Seq2SeqLM on BartBackbone): "
            "encoder_sequence_length dynamic") in proc.stdout
    assert "decoder_sequence_length dynamic" in proc.stdout
    from_live = tmp_path / "live.tflite"
    keras2litert.export(task, from_live, verbose=False)
    assert from_preset.read_bytes() == from_live.read_bytes()
    assert_builtin_only(from_preset)

    feeds = _inputs(task, 9, 6, enc_valid=[9, 4], dec_valid=[6, 3])
    want = _keras_logits(task, feeds)
    got = _litert(from_preset, feeds)
    assert list(got) == ["logits"]
    np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
    mine = keras2litert.LiteRTModel(from_preset).predict(feeds)
    np.testing.assert_allclose(mine["logits"], want, **HUB_TEXT)


def test_bart_signature_names(tmp_path):
    task = _bart()
    out = tmp_path / "m.tflite"
    keras2litert.export(task, out, verbose=False)
    model = keras2litert.LiteRTModel(out)
    sig = model.get_signature_list()["serving_default"]
    assert sorted(sig["inputs"]) == NAMES
    assert sig["outputs"] == ["logits"]
    for d in model.input_details:
        assert d["dtype"] is np.int32
        assert list(d["shape_signature"]) == [-1, -1]


def test_bart_padding_masks_the_tails(tmp_path):
    """With both tails masked, the valid decoder positions still match and
    do not depend on what the masked tokens are, in either sequence."""
    task = _bart()
    _randomize(task, seed=4)
    out = tmp_path / "m.tflite"
    keras2litert.export(task, out, verbose=False)
    feeds = _inputs(task, 10, 8, enc_valid=[6, 6], dec_valid=[5, 5], seed=5)
    want = _keras_logits(task, feeds)
    got = _litert(out, feeds)["logits"]
    np.testing.assert_allclose(got[:, :5], want[:, :5], **HUB_TEXT)
    other = {k: v.copy() for k, v in feeds.items()}
    other["encoder_token_ids"][:, 6:] = 1
    other["decoder_token_ids"][:, 5:] = 1
    np.testing.assert_allclose(_litert(out, other)["logits"][:, :5],
                               got[:, :5], **HUB_TEXT)


def test_bart_one_file_runs_at_two_lengths(tmp_path):
    """Dynamic encoder and decoder lengths: one file, (5, 3) and (13, 11)."""
    task = _bart()
    _randomize(task, seed=3)
    out = tmp_path / "m.tflite"
    keras2litert.export(task, out, verbose=False)
    model = keras2litert.LiteRTModel(out)
    for enc_len, dec_len in ((5, 3), (13, 11)):
        feeds = _inputs(task, enc_len, dec_len, batch=1, seed=enc_len)
        want = _keras_logits(task, feeds)
        np.testing.assert_allclose(_litert(out, feeds)["logits"], want,
                                   **HUB_TEXT)
        np.testing.assert_allclose(model.predict(feeds)["logits"], want,
                                   **HUB_TEXT)


def _with_preprocessor(preset, **lengths):
    (preset / "preprocessor.json").write_text(json.dumps({
        "module": "keras_hub.src.models.bart.bart_seq_2_seq_lm_preprocessor",
        "class_name": "BartSeq2SeqLMPreprocessor",
        "config": {"name": "bart_seq2_seq_lm_preprocessor", **lengths},
        "registered_name": "keras_hub>BartSeq2SeqLMPreprocessor"}))


def _shapes(path):
    return {d["name"]: list(d["shape_signature"])
            for d in keras2litert.LiteRTModel(path).input_details}


def test_seq2seq_length_priority(tmp_path):
    """Each length: its argument, else preprocessor.json, else dynamic; the
    summary names the source of each. sequence_length is keras-hub's alias
    of decoder_sequence_length."""
    task = _bart()
    _randomize(task, seed=7)
    preset = _save(task, tmp_path)
    _with_preprocessor(preset, encoder_sequence_length=12,
                       decoder_sequence_length=6)
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", preset, "-o", out, check=True)
    assert ("encoder_sequence_length 12 (preprocessor.json), "
            "decoder_sequence_length 6 (preprocessor.json)") in proc.stdout
    assert _shapes(out)["encoder_token_ids"] == [-1, 12]
    assert _shapes(out)["decoder_padding_mask"] == [-1, 6]

    proc = run_cli("convert", preset, "-o", out,
                   "--encoder-sequence-length", "10", check=True)
    assert ("encoder_sequence_length 10 (the encoder_sequence_length "
            "argument), decoder_sequence_length 6 (preprocessor.json)"
            ) in proc.stdout
    proc = run_cli("convert", preset, "-o", out, "--sequence-length", "4",
                   check=True)
    assert ("decoder_sequence_length 4 (the sequence_length argument, an "
            "alias of decoder_sequence_length)") in proc.stdout
    report = keras2litert.export(task, out, verbose=False,
                                 encoder_sequence_length=7,
                                 decoder_sequence_length=5)
    assert any("encoder_sequence_length 7 (the encoder_sequence_length "
               "argument), decoder_sequence_length 5 (the "
               "decoder_sequence_length argument)" in n for n in report.notes)
    shapes = _shapes(out)
    assert shapes["encoder_padding_mask"] == [-1, 7]
    assert shapes["decoder_token_ids"] == [-1, 5]
    feeds = _inputs(task, 7, 5, enc_valid=[7, 3], dec_valid=[5, 2])
    np.testing.assert_allclose(_litert(out, feeds)["logits"],
                               _keras_logits(task, feeds), **HUB_TEXT)


def test_rejects_seq2seq_lengths_that_cannot_be_used(tmp_path):
    preset = _save(_bart(), tmp_path)
    err = _cli_error(preset, tmp_path, "--encoder-sequence-length", "25")
    assert ("encoder_sequence_length 25 (from the encoder_sequence_length "
            "argument) is longer than the backbone's max_sequence_length 24"
            ) in err
    err = _cli_error(preset, tmp_path, "--sequence-length", "4",
                     "--decoder-sequence-length", "5")
    assert ("sequence_length 4 and decoder_sequence_length 5 disagree: for a "
            "Seq2SeqLM such as 'BartSeq2SeqLM', sequence_length is an alias "
            "of decoder_sequence_length") in err
    err = _cli_error(preset, tmp_path, "--decoder-sequence-length", "0")
    assert ("decoder_sequence_length 0 (from the decoder_sequence_length "
            "argument) is not a positive length") in err
    _with_preprocessor(preset, encoder_sequence_length=0)
    err = _cli_error(preset, tmp_path)
    assert "preprocessor.json gives encoder_sequence_length 0" in err


def test_rejects_seq2seq_lengths_for_other_tasks(tmp_path):
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=16)
    task = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    err = _cli_error(_save(task, tmp_path), tmp_path,
                     "--encoder-sequence-length", "8")
    assert ("encoder_sequence_length applies to Seq2SeqLM tasks, but "
            "'GPT2CausalLM' is a CausalLM") in err
    with pytest.raises(ValueError, match="decoder_sequence_length applies to "
                       "Seq2SeqLM tasks"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False,
                            decoder_sequence_length=8)
    with pytest.raises(ValueError, match="encoder_sequence_length must be a "
                       "positive int"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False,
                            encoder_sequence_length=-3)
    assert not (tmp_path / "y.tflite").exists()


def test_rejects_lengths_for_a_plain_keras_model(tmp_path):
    """A Keras model's shapes come from the model: a length option is
    refused, not ignored, from Python and from the CLI."""
    x = keras.Input((None,), dtype="int32", name="ids")
    model = keras.Model(x, keras.layers.Embedding(10, 4)(x))
    with pytest.raises(ValueError, match="encoder_sequence_length applies to "
                       "Keras-Hub tasks"):
        keras2litert.export(model, tmp_path / "y.tflite", verbose=False,
                            encoder_sequence_length=8)
    src = tmp_path / "m.keras"
    model.save(src)
    err = _cli_error(src, tmp_path, "--sequence-length", "8")
    assert ("sequence_length applies to Keras-Hub tasks (a preset "
            "folder), but") in err
    assert "--input-shape" in err
