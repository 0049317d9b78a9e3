"""Keras-Hub ViTImageClassifier on ViTBackbone: tiny real keras-hub tasks
(32x32 images, 8x8 patches), saved with save_to_preset, converted from the
preset (CLI) and the live task (Python), run in ai-edge-litert and our
runtime, and compared with keras-hub on raw pixels (the image converter's
rescaling is in the graph). Also the image sizes the position table
refuses, and the hyperparameters that are refused.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT), as for every
Keras-Hub task.
"""
import json
import shutil

import numpy as np
import pytest

import keras2litert
from harness import run_cli
from hub_common import (
    assert_runs_like,
    cli_error,
    convert_preset_and_live,
    keras_on_pixels as _expected,
    keras_out,
    randomize,
    raw_pixels as _pixels,
    run_signature,
    save_preset,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

SCALE, OFFSET = 1 / 127.5, -1.0


def _vit(image_shape=(32, 32, 3), patch_size=8, image_size=None,
         with_preprocessor=True, backbone_kw=None, **task_kw):
    kw = dict(num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32)
    kw.update(backbone_kw or {})
    backbone = keras_hub.models.ViTBackbone(
        image_shape=image_shape, patch_size=patch_size, **kw)
    pre = None
    if with_preprocessor:
        conv = keras_hub.layers.ViTImageConverter(
            image_size=image_size or image_shape[:2], scale=SCALE,
            offset=OFFSET)
        pre = keras_hub.models.ViTImageClassifierPreprocessor(
            image_converter=conv)
    task = keras_hub.models.ViTImageClassifier(
        backbone=backbone, num_classes=5, preprocessor=pre, **task_kw)
    randomize(task, matrix_scale=0.1, vector_scale=0.3)
    return task


CASES = {
    "token": dict(),
    "intermediate_softmax": dict(intermediate_dim=12, dropout=0.1,
                                 activation="softmax"),
    "gap_no_class_token_no_biases": dict(
        pooling="gap", backbone_kw=dict(use_class_token=False,
                                        use_mha_bias=False,
                                        use_mlp_bias=False,
                                        use_patch_bias=False)),
    "rectangular_uneven_heads": dict(
        image_shape=(32, 24, 3), patch_size=(8, 4),
        backbone_kw=dict(num_heads=3, num_layers=1, layer_norm_epsilon=1e-5,
                         dropout_rate=0.1, attention_dropout=0.1)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_vit_preset_and_live_task_match_keras_hub(tmp_path, case):
    """Preset (CLI) and live task (Python) give the same file, which takes
    raw pixels and matches keras-hub in both runtimes."""
    task = _vit(**CASES[case])
    h, w, _ = task.backbone.image_shape
    path, _ = convert_preset_and_live(
        task, tmp_path,
        f"ViTImageClassifier (a ImageClassifier on ViTBackbone): "
        f"image_size {h}x{w} (the image converter in preprocessor.json), "
        f"3 channels; the image converter's rescaling")
    out = "predictions" if "softmax" in case else "logits"
    model = keras2litert.LiteRTModel(path)
    assert model.get_signature_list()["serving_default"] == {
        "inputs": ["images"], "outputs": [out]}
    (d,) = model.input_details
    assert list(d["shape_signature"]) == [-1, h, w, 3]
    for batch in (2, 3):
        pixels = _pixels(batch, h, w, seed=batch)
        assert_runs_like(path, {"images": pixels},
                         {out: _expected(task, pixels)}, HUB_TEXT)


def test_without_preprocessing_and_backbone_image_shape(tmp_path):
    """No preprocessor: the image size is the backbone's image_shape and
    the file takes what the backbone takes."""
    task = _vit(with_preprocessor=False)
    out = tmp_path / "m.tflite"
    report = keras2litert.export(task, out, verbose=False)
    assert any("image_size 32x32 (the backbone's image_shape), 3 channels; "
               "no preprocessing" in n for n in report.notes)
    images = np.random.default_rng(5).normal(0, 1, (2, 32, 32, 3)).astype(
        "float32")
    np.testing.assert_allclose(run_signature(out, {"images": images})
                               ["logits"], keras_out(task, images), **HUB_TEXT)


def test_image_size_of_the_backbone_accepted(tmp_path):
    preset = save_preset(_vit(), tmp_path)
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", preset, "-o", out, "--image-size", "32",
                   check=True)
    assert "image_size 32x32 (the image_size argument)" in proc.stdout


def test_image_sizes_the_backbone_cannot_take(tmp_path):
    """The position table holds the 4x4 grid of 32x32 images: another grid,
    or a size that is no multiple of the patch, is refused from the CLI and
    from Python, naming the sizes and the fix."""
    task = _vit()
    preset = save_preset(task, tmp_path)
    fix = ("Export at image_size=(32, 32) (CLI --image-size 32x32) and "
           "resize images to 32x32 before feeding them")
    err = cli_error(preset, tmp_path, "--image-size", "48")
    assert ("ViTBackbone: the image size 48x48 is an image size the backbone "
            "cannot take: it gives a 6x6 patch grid, but its position "
            "embeddings hold the 4x4 grid of its image_shape 32x32. ") in err
    assert fix in err
    err = cli_error(preset, tmp_path, "--image-size", "36x32")
    assert ("the image size 36x32 is an image size the backbone cannot "
            "take: it is not a multiple of its patch_size 8x8, and its "
            "position embeddings hold the 4x4 patch grid of its image_shape "
            "32x32") in err
    assert fix in err
    with pytest.raises(ValueError, match="the image size 64x64 is an image "
                       "size the backbone cannot take: it gives a 8x8 patch "
                       "grid"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False,
                            image_size=(64, 64))
    with pytest.raises(ValueError, match="the image size 30x30 is an image "
                       "size the backbone cannot take: it is not a multiple "
                       "of its patch_size 8x8"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False,
                            image_size=30)


def test_converter_size_other_than_the_backbone_refused(tmp_path):
    """A preprocessor resizing to another size than the backbone's
    image_shape gives the image size, which is refused the same way; the
    backbone's size given explicitly converts."""
    task = _vit(image_size=(64, 64))
    preset = save_preset(task, tmp_path)
    err = cli_error(preset, tmp_path)
    assert ("the image size 64x64 is an image size the backbone cannot "
            "take") in err
    assert "Export at image_size=(32, 32) (CLI --image-size 32x32)" in err
    # As the message says: the backbone's size converts.
    run_cli("convert", preset, "-o", tmp_path / "m.tflite", "--image-size",
            "32x32", check=True)


def test_pooling_neither_token_nor_gap_refused(tmp_path):
    task = _vit(pooling="first")
    err = cli_error(save_preset(task, tmp_path), tmp_path)
    assert ('ViTImageClassifier: the hyperparameter pooling is "first", '
            'neither "token" (the class token) nor "gap"') in err
    assert 'Build the task with pooling="token" or pooling="gap"' in err


def _edited_preset(preset, tmp_path, name, file, edit):
    folder = tmp_path / name
    shutil.copytree(preset, folder)
    config = json.loads((folder / file).read_text())
    edit(config["config"])
    (folder / file).write_text(json.dumps(config))
    return folder


def test_malformed_hyperparameters_refused(tmp_path):
    """Hyperparameters keras-hub itself would not build (a hand-edited or
    corrupt preset), and channels-first backbones."""
    preset = save_preset(_vit(with_preprocessor=False), tmp_path)

    def backbone(name, **kw):
        def edit(c):
            c.update(kw)
        return cli_error(_edited_preset(preset, tmp_path, name,
                                        "config.json", edit), tmp_path)

    err = backbone("fmt", data_format="channels_first")
    assert ('ViTBackbone: data_format "channels_first" is not converted; '
            'keras2litert builds channels_last (NHWC) networks') in err
    err = backbone("patch", patch_size=[8, 0])
    assert "ViTBackbone: the hyperparameter patch_size is [8,0], not a " \
           "positive int or (height, width) pair" in err
    err = backbone("shape", image_shape=[36, 32, 3])
    assert ("ViTBackbone: the image_shape 36x32 is not a multiple of the "
            "patch_size 8x8. The preset's config.json is malformed") in err

    def task_edit(c):
        c["intermediate_dim"] = 0
    err = cli_error(_edited_preset(preset, tmp_path, "inter", "task.json",
                                   task_edit), tmp_path)
    assert ("ViTImageClassifier: the hyperparameter intermediate_dim is 0, "
            "not a positive int or null") in err
