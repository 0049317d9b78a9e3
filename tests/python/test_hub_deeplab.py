"""Keras-Hub ImageSegmenter: DeepLabV3 on a ResNet image encoder, tiny and
with random BatchNorm statistics, saved with save_to_preset, converted from
the preset (CLI) and the live task (Python), run in ai-edge-litert and our
runtime, and compared with keras-hub at atol = rtol = 1e-4
(tolerances.HUB_TEXT)."""
import numpy as np
import pytest

import keras2litert
from hub_common import (
    assert_runs_like,
    cli_error,
    convert_preset_and_live,
    keras_on_pixels as _expected,
    keras_out,
    randomize_norms as _randomize_norms,
    raw_pixels as _pixels,
    run_signature,
    save_preset,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

ENCODER = dict(input_conv_filters=[16], input_conv_kernel_sizes=[7],
               stackwise_num_filters=[64, 8, 8],
               stackwise_num_blocks=[1, 1, 1],
               stackwise_num_strides=[1, 2, 2],
               block_type="bottleneck_block")

VARIANTS = {
    # DeepLabV3+: ASPP on P4, joined with the projected P2.
    "with_low_level": dict(spatial_pyramid_pooling_key="P4",
                           upsampling_size=4, dilation_rates=[2, 3],
                           low_level_feature_key="P2", projection_filters=8),
    # ASPP on P3 alone, upsampled in one step.
    "aspp_only": dict(spatial_pyramid_pooling_key="P3", upsampling_size=8,
                      dilation_rates=[2]),
}


def _segmenter(variant, image_size=(32, 32), activation=None,
               with_preprocessor=True):
    encoder = keras_hub.models.ResNetBackbone(**ENCODER,
                                              image_shape=(None, None, 3))
    backbone = keras_hub.models.DeepLabV3Backbone(image_encoder=encoder,
                                                  **VARIANTS[variant])
    pre = None
    if with_preprocessor:
        conv = keras_hub.layers.DeepLabV3ImageConverter(
            image_size=image_size, scale=1 / 255.0, offset=-0.5)
        pre = keras_hub.models.DeepLabV3ImageSegmenterPreprocessor(
            image_converter=conv)
    task = keras_hub.models.DeepLabV3ImageSegmenter(
        backbone=backbone, num_classes=3, activation=activation,
        preprocessor=pre)
    _randomize_norms(task)
    return task


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_deeplab_preset_and_live_task_match_keras_hub(tmp_path, variant):
    task = _segmenter(variant)
    path, _ = convert_preset_and_live(
        task, tmp_path,
        "DeepLabV3ImageSegmenter (a ImageSegmenter on DeepLabV3Backbone)"
        ": image_size 32x32 (the image converter in preprocessor.json)")
    pixels = _pixels(2, 32, 32, seed=7)
    want = _expected(task, pixels)
    assert want.shape == (2, 32, 32, 3)
    assert_runs_like(path, {"images": pixels}, {"logits": want}, HUB_TEXT)


def test_deeplab_other_image_size_and_no_preprocessing(tmp_path):
    """64x48 without the rescaling: the file takes what the backbone
    takes; a softmax head's output is `predictions`."""
    task = _segmenter("with_low_level", activation="softmax")
    out = tmp_path / "m.tflite"
    report = keras2litert.export(task, out, verbose=False,
                                 image_size=(64, 48),
                                 include_preprocessing=False)
    assert any("image_size 64x48 (the image_size argument)" in n
               for n in report.notes)
    images = np.random.default_rng(8).normal(0, 1, (1, 64, 48, 3)).astype(
        "float32")
    got = run_signature(out, {"images": images})["predictions"]
    np.testing.assert_allclose(got, keras_out(task, images), **HUB_TEXT)


def test_deeplab_default_image_size(tmp_path):
    task = _segmenter("aspp_only", with_preprocessor=False)
    out = tmp_path / "m.tflite"
    report = keras2litert.export(task, out, verbose=False)
    assert any("image_size 256x256 (the default" in n for n in report.notes)
    (d,) = keras2litert.LiteRTModel(out).input_details
    assert list(d["shape_signature"]) == [-1, 256, 256, 3]


def test_rejects_an_image_size_the_backbone_cannot_take(tmp_path):
    """P4 is 1/16 of the image: a size that is not a multiple of 16 does not
    line up when DeepLabV3 upsamples it back."""
    task = _segmenter("with_low_level")
    preset = save_preset(task, tmp_path)
    err = cli_error(preset, tmp_path, "--image-size", "40")
    assert ("DeepLabV3Backbone: the image size 40x40 is not a multiple of "
            "16: DeepLabV3 pools pyramid level P4 (1/16 of the image) and "
            "upsamples it back") in err
    assert "Use an image_size that is a multiple of 16" in err
    with pytest.raises(ValueError, match="the image size 48x40 is not a "
                       "multiple of 16"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False,
                            image_size=(48, 40))
    assert not (tmp_path / "y.tflite").exists()
