"""Keras-Hub text tasks: tiny real keras-hub tasks with random weights,
saved with save_to_preset, converted from the preset folder (CLI) and from
the live task (Python), run in ai-edge-litert and our runtime, and compared
with keras-hub's own logits.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT), stricter than
upstream keras-hub's 1e-3 export test bar; the reason is stated there.
"""
import json
import shutil

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

BACKEND = keras.backend.backend()


def _gpt2():
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=61, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=24)
    task = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    return task


def _bert():
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=53, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=24, num_segments=2)
    return keras_hub.models.BertTextClassifier(
        backbone=backbone, num_classes=3, preprocessor=None)


def _distil_bert():
    backbone = keras_hub.models.DistilBertBackbone(
        vocabulary_size=57, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=24)
    return keras_hub.models.DistilBertTextClassifier(
        backbone=backbone, num_classes=4, preprocessor=None)


def _roberta():
    backbone = keras_hub.models.RobertaBackbone(
        vocabulary_size=59, num_layers=2, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=24)
    return keras_hub.models.RobertaTextClassifier(
        backbone=backbone, num_classes=2, preprocessor=None)


TASKS = {"gpt2_causal_lm": _gpt2, "bert_text_classifier": _bert,
         "distil_bert_text_classifier": _distil_bert,
         "roberta_text_classifier": _roberta}


def _inputs(task, length, batch=2, pad_from=None, seed=1):
    rng = np.random.default_rng(seed)
    vocab = task.backbone.vocabulary_size
    x = {"token_ids": rng.integers(0, vocab, (batch, length)).astype("int32"),
         "padding_mask": np.ones((batch, length), "int32")}
    if pad_from is not None:
        x["padding_mask"][:, pad_from:] = 0
    if "segment_ids" in [i.name for i in task.backbone.inputs]:
        seg = np.zeros((batch, length), "int32")
        seg[:, length // 2:] = 1
        x["segment_ids"] = seg
    return x


@pytest.mark.parametrize("kind", sorted(TASKS))
def test_preset_and_live_task_match_keras_hub(tmp_path, kind):
    """Preset (CLI) and live task (Python) give the same file, and its logits
    match keras-hub's in both runtimes."""
    task = TASKS[kind]()
    _randomize(task)
    preset = _save(task, tmp_path)
    from_preset = tmp_path / "preset.tflite"
    proc = run_cli("convert", preset, "-o", from_preset, check=True)
    assert "sequence_length dynamic" in proc.stdout
    from_live = tmp_path / "live.tflite"
    keras2litert.export(task, from_live, verbose=False)
    assert from_preset.read_bytes() == from_live.read_bytes()
    assert_builtin_only(from_preset)

    feeds = _inputs(task, 10, pad_from=7)
    want = _keras_logits(task, feeds)
    got = _litert(from_preset, feeds)
    assert list(got) == ["logits"]
    np.testing.assert_allclose(got["logits"], want, **HUB_TEXT)
    mine = keras2litert.LiteRTModel(from_preset).predict(feeds)
    np.testing.assert_allclose(mine["logits"], want, **HUB_TEXT)


@pytest.mark.parametrize("kind", sorted(TASKS))
def test_signature_names(tmp_path, kind):
    """Named inputs per the task's adapter, and a named output."""
    task = TASKS[kind]()
    out = tmp_path / "m.tflite"
    keras2litert.export(task, out, verbose=False)
    sig = keras2litert.LiteRTModel(out).get_signature_list()["serving_default"]
    expected = {"token_ids", "padding_mask"}
    if kind == "bert_text_classifier":
        expected.add("segment_ids")
    assert set(sig["inputs"]) == expected
    assert sig["outputs"] == ["logits"]
    for d in keras2litert.LiteRTModel(out).input_details:
        assert d["dtype"] is np.int32


@pytest.mark.parametrize("kind", sorted(TASKS))
def test_one_file_runs_at_two_lengths(tmp_path, kind):
    """A dynamic sequence length: one file, lengths 6 and 13."""
    task = TASKS[kind]()
    _randomize(task, seed=3)
    out = tmp_path / "m.tflite"
    keras2litert.export(task, out, verbose=False)
    model = keras2litert.LiteRTModel(out)
    for length in (6, 13):
        feeds = _inputs(task, length, batch=1, seed=length)
        want = _keras_logits(task, feeds)
        np.testing.assert_allclose(_litert(out, feeds)["logits"], want,
                                   **HUB_TEXT)
        np.testing.assert_allclose(model.predict(feeds)["logits"], want,
                                   **HUB_TEXT)


def test_padding_masks_the_tail(tmp_path):
    """With the tail masked, the valid positions still match, and they do
    not depend on what the masked tokens are."""
    task = _gpt2()
    _randomize(task, seed=4)
    out = tmp_path / "m.tflite"
    keras2litert.export(task, out, verbose=False)
    feeds = _inputs(task, 9, batch=2, pad_from=5, seed=5)
    want = _keras_logits(task, feeds)
    got = _litert(out, feeds)["logits"]
    np.testing.assert_allclose(got[:, :5], want[:, :5], **HUB_TEXT)
    other = dict(feeds, token_ids=feeds["token_ids"].copy())
    other["token_ids"][:, 5:] = 0
    np.testing.assert_allclose(_litert(out, other)["logits"][:, :5],
                               got[:, :5], **HUB_TEXT)


def test_sequence_length_priority(tmp_path):
    """The argument beats preprocessor.json, which beats the dynamic
    default; the summary says which one won."""
    task = _gpt2()
    preset = _save(task, tmp_path)
    (preset / "preprocessor.json").write_text(json.dumps({
        "module": "keras_hub.src.models.gpt2.gpt2_causal_lm_preprocessor",
        "class_name": "GPT2CausalLMPreprocessor",
        "config": {"name": "gpt2_causal_lm_preprocessor",
                   "sequence_length": 12},
        "registered_name": "keras_hub>GPT2CausalLMPreprocessor"}))
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", preset, "-o", out, check=True)
    assert "sequence_length 12 (preprocessor.json)" in proc.stdout
    shape = keras2litert.LiteRTModel(out).input_details[0]["shape_signature"]
    assert list(shape) == [-1, 12]
    proc = run_cli("convert", preset, "-o", out, "--sequence-length", "8",
                   check=True)
    assert "sequence_length 8 (the sequence_length argument)" in proc.stdout
    report = keras2litert.export(task, out, verbose=False, sequence_length=8)
    assert any("sequence_length 8 (the sequence_length argument)" in n
               for n in report.notes)
    feeds = _inputs(task, 8, batch=1)
    np.testing.assert_allclose(_litert(out, feeds)["logits"],
                               _keras_logits(task, feeds), **HUB_TEXT)


def test_sharded_weights(tmp_path):
    """A backbone saved in shards (model.weights.json) converts the same."""
    from keras_hub.src.utils.preset_utils import KerasPresetSaver

    task = _gpt2()
    _randomize(task, seed=6)
    whole = _save(task, tmp_path, "whole")
    sharded = tmp_path / "sharded"
    shutil.copytree(whole, sharded)
    (sharded / "model.weights.h5").unlink()
    KerasPresetSaver(str(sharded)).save_backbone(task.backbone,
                                                 max_shard_size=0.00002)
    assert (sharded / "model.weights.json").exists()
    assert len(list(sharded.glob("model_*.weights.h5"))) > 1
    a, b = tmp_path / "a.tflite", tmp_path / "b.tflite"
    run_cli("convert", whole, "-o", a, check=True)
    run_cli("convert", sharded, "-o", b, check=True)
    assert a.read_bytes() == b.read_bytes()


def test_bfloat16_weights(tmp_path):
    """bfloat16 weights are read and widened to float32."""
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=61, num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=24, dtype="bfloat16")
    task = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    preset = _save(task, tmp_path)
    out = tmp_path / "m.tflite"
    run_cli("convert", preset, "-o", out, check=True)
    # keras-hub computes in bfloat16 here; compare with a float32 copy of the
    # same weights instead, which is what the file computes.
    f32 = keras_hub.models.GPT2CausalLM(
        backbone=keras_hub.models.GPT2Backbone(
            vocabulary_size=61, num_layers=1, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=24),
        preprocessor=None)
    for dst, src in zip(f32.weights, task.weights):
        dst.assign(keras.ops.cast(src, "float32"))
    feeds = _inputs(f32, 7, batch=1)
    np.testing.assert_allclose(_litert(out, feeds)["logits"],
                               _keras_logits(f32, feeds), **HUB_TEXT)


# ---- rejections ---------------------------------------------------------


def test_rejects_unsupported_task_type(tmp_path):
    """An audio task is not a text task: the error lists the supported
    types. (A real preset whose task.json names keras-hub's
    MoonshineAudioToText, which is too big to build tiny here.)"""
    preset = _save(_gpt2(), tmp_path)
    task = json.loads((preset / "task.json").read_text())
    task["class_name"] = "MoonshineAudioToText"
    task["registered_name"] = "keras_hub>MoonshineAudioToText"
    (preset / "task.json").write_text(json.dumps(task))
    err = _cli_error(preset, tmp_path)
    assert ("the Keras-Hub task 'MoonshineAudioToText' is a AudioToText task"
            in err)
    assert ("Supported task types: CausalLM, TextClassifier, Seq2SeqLM, "
            "ImageClassifier, ImageSegmenter and ObjectDetector") in err


def test_rejects_backbone_without_builder(tmp_path):
    """A CausalLM on a backbone with no builder lists the supported ones."""
    backbone = keras_hub.models.OPTBackbone(
        vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=16)
    task = keras_hub.models.OPTCausalLM(backbone=backbone, preprocessor=None)
    err = _cli_error(_save(task, tmp_path), tmp_path)
    assert "the CausalLM task 'OPTCausalLM' has the backbone 'OPTBackbone'" in err
    assert "Supported backbones for CausalLM: GPT2Backbone" in err
    with pytest.raises(ValueError, match="has no architecture builder"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False)
    assert not (tmp_path / "y.tflite").exists()


def test_rejects_weights_that_do_not_match_the_config(tmp_path):
    """config.json says one size, the weights another."""
    preset = _save(_gpt2(), tmp_path)
    cfg = json.loads((preset / "config.json").read_text())
    cfg["config"]["intermediate_dim"] = 48
    (preset / "config.json").write_text(json.dumps(cfg))
    err = _cli_error(preset, tmp_path)
    assert "transformer_layer_0" in err and "48" in err


def test_rejects_missing_config_json(tmp_path):
    preset = _save(_gpt2(), tmp_path)
    (preset / "config.json").unlink()
    err = _cli_error(preset, tmp_path)
    assert "has no config.json" in err


def test_rejects_sequence_length_past_the_position_table(tmp_path):
    preset = _save(_gpt2(), tmp_path)
    err = _cli_error(preset, tmp_path, "--sequence-length", "25")
    assert ("sequence_length 25 (from the sequence_length argument) is "
            "longer than the backbone's max_sequence_length 24") in err


def test_rejects_backbone_only_preset(tmp_path):
    task = _gpt2()
    folder = tmp_path / "bb"
    task.backbone.save_to_preset(str(folder))
    err = _cli_error(folder, tmp_path)
    assert "holds a backbone (GPT2Backbone) but no task.json" in err


def _decoder_lms():
    m = keras_hub.models
    small = dict(vocabulary_size=47, num_layers=2, num_query_heads=4,
                 num_key_value_heads=2, hidden_dim=16, intermediate_dim=32)
    yield "llama3", m.Llama3CausalLM(backbone=m.Llama3Backbone(**small),
                                     preprocessor=None)
    yield "mistral", m.MistralCausalLM(
        backbone=m.MistralBackbone(**small, sliding_window=4),
        preprocessor=None)
    gemma = dict(vocabulary_size=47, num_layers=2, num_query_heads=2,
                 num_key_value_heads=1, hidden_dim=16, intermediate_dim=32,
                 head_dim=8)
    yield "gemma", m.GemmaCausalLM(backbone=m.GemmaBackbone(**gemma),
                                   preprocessor=None)
    yield "gemma3", m.Gemma3CausalLM(
        backbone=m.Gemma3Backbone(**gemma, vision_encoder=None,
                                  image_size=16),
        preprocessor=None)


def test_live_decoder_lms_match_their_presets(tmp_path):
    """Llama 3, Mistral, Gemma and Gemma 3: the live task and its preset
    give the same file (their numerics are in test_hub_llama.py and
    test_hub_gemma.py)."""
    for name, task in _decoder_lms():
        _randomize(task, seed=7)
        preset = _save(task, tmp_path, name)
        a, b = tmp_path / f"{name}_p.tflite", tmp_path / f"{name}_l.tflite"
        run_cli("convert", preset, "-o", a, check=True)
        keras2litert.export(task, b, verbose=False)
        assert a.read_bytes() == b.read_bytes(), name
        feeds = _inputs(task, 6, batch=1)
        np.testing.assert_allclose(_litert(a, feeds)["logits"],
                                   _keras_logits(task, feeds), **HUB_TEXT)


def test_rejects_heads_that_do_not_divide_the_width(tmp_path):
    """A config whose hidden_dim does not split over num_heads."""
    preset = _save(_bert(), tmp_path)
    cfg = json.loads((preset / "config.json").read_text())
    cfg["config"]["num_heads"] = 3
    (preset / "config.json").write_text(json.dumps(cfg))
    err = _cli_error(preset, tmp_path)
    assert ("BertBackbone: hidden_dim 16 is not a multiple of num_heads 3, so "
            "the attention heads cannot split it") in err
