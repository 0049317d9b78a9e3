"""Keras-Hub EfficientNetImageClassifier on EfficientNetBackbone: tiny real
keras-hub models of the original EfficientNet ("v1" blocks, written out as
plain layers) and of EfficientNetV2 (CBA, FusedMBConv and MBConv blocks,
each one keras-hub layer), saved with save_to_preset, converted from the
preset (CLI) and the live task (Python), run in ai-edge-litert and our
runtime, and compared with keras-hub.

Tolerance: atol = rtol = 1e-4 (tolerances.HUB_TEXT), as every Keras-Hub
task.
"""
import json

import numpy as np
import pytest

import keras2litert
from harness import run_cli
from hub_common import (
    assert_runs_like,
    cli_error,
    convert_preset_and_live,
    IMAGENET_MEAN as MEAN,
    IMAGENET_STD as STD,
    keras_on_pixels as _expected,
    keras_out,
    randomize_norms as _randomize_norms,
    raw_pixels as _pixels,
    run_signature,
    save_preset,
)
from tolerances import HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")


# keras-hub's EfficientNetBackbone.get_config leaves out num_features and
# stackwise_nores_option, so a preset always rebuilds with their defaults
# (1280 top features, residuals on); the tiny models keep them.
EFFNETS = {
    # EfficientNet B0's block structure, shrunk: v1 blocks with squeeze and
    # excitation, expand ratio 1 and 6, 3x3 and 5x5 depthwise kernels, a
    # width coefficient that rounds filters and a depth coefficient that
    # adds a block (ceil(1.5 * 1) = 2). As the timm-converted presets: no
    # min_depth, the divisor (here 4) is the minimum, so 8 * 0.5 gives 4.
    "v1": dict(
        stackwise_width_coefficients=[0.5] * 3,
        stackwise_depth_coefficients=[1.0, 1.5, 1.0],
        stackwise_kernel_sizes=[3, 3, 5],
        stackwise_num_repeats=[1, 1, 2],
        stackwise_input_filters=[32, 16, 24],
        stackwise_output_filters=[8, 24, 40],
        depth_divisor=4, min_depth=None, use_depth_divisor_as_min_depth=True,
        stackwise_expansion_ratios=[1, 6, 6],
        stackwise_strides=[1, 2, 2],
        stackwise_squeeze_and_excite_ratios=[0.25] * 3,
        stackwise_block_types=["v1"] * 3,
        dropout=0.2),
    # v1 blocks as EfficientNet-lite has them: relu6, no squeeze and
    # excitation, the rounding capped, a projection activation.
    "v1_lite": dict(
        stackwise_width_coefficients=[1.0] * 2,
        stackwise_depth_coefficients=[1.0] * 2,
        stackwise_kernel_sizes=[3, 5],
        stackwise_num_repeats=[1, 2],
        stackwise_input_filters=[16, 8],
        # 11 rounds down to 8, more than 10% off: the cap adds 8.
        stackwise_output_filters=[8, 11],
        stackwise_expansion_ratios=[1, 4],
        stackwise_strides=[1, 2],
        stackwise_squeeze_and_excite_ratios=[0, 0],
        stackwise_block_types=["v1"] * 2,
        activation="relu6", cap_round_filter_decrease=True,
        projection_activation="relu"),
    # EfficientNetV2 (as keras-hub's rw_t): a CBA stack, fused MBConv
    # stacks (expand ratio 1 and 4), unfused MBConv stacks with squeeze and
    # excitation (expand ratio 1, whose projection takes the kernel size,
    # and 4), no stem padding but a "same" stem, stride 2 in the middle.
    "v2": dict(
        stackwise_width_coefficients=[1.0] * 5,
        stackwise_depth_coefficients=[1.0] * 5,
        stackwise_kernel_sizes=[3, 3, 3, 3, 5],
        stackwise_num_repeats=[1, 1, 2, 1, 2],
        stackwise_input_filters=[16, 8, 8, 16, 16],
        stackwise_output_filters=[8, 8, 16, 16, 24],
        stackwise_expansion_ratios=[1, 1, 4, 1, 4],
        stackwise_strides=[1, 1, 2, 1, 2],
        stackwise_squeeze_and_excite_ratios=[0, 0, 0, 0.25, 0.25],
        stackwise_block_types=["cba", "fused", "fused", "unfused",
                               "unfused"],
        include_stem_padding=False, stem_conv_padding="same",
        batch_norm_epsilon=1e-3, activation="silu",
        projection_activation="relu"),
}


def _effnet(kind, image_size=(32, 32), num_classes=5, activation=None,
            **overrides):
    backbone = keras_hub.models.EfficientNetBackbone(
        **{**EFFNETS[kind], **overrides})
    conv = keras_hub.layers.EfficientNetImageConverter(
        image_size=image_size, scale=list(1 / (255 * STD)),
        offset=list(-MEAN / STD))
    pre = keras_hub.models.EfficientNetImageClassifierPreprocessor(
        image_converter=conv)
    task = keras_hub.models.EfficientNetImageClassifier(
        backbone=backbone, num_classes=num_classes, preprocessor=pre,
        activation=activation)
    _randomize_norms(task)
    return task


@pytest.mark.parametrize("kind", sorted(EFFNETS))
def test_efficientnet_preset_and_live_task_match_keras_hub(tmp_path, kind):
    """Preset (CLI) and live task (Python) give the same file, which takes
    raw pixels and matches keras-hub in both runtimes."""
    task = _effnet(kind)
    path, _ = convert_preset_and_live(
        task, tmp_path,
        "EfficientNetImageClassifier (a ImageClassifier on "
        "EfficientNetBackbone): image_size 32x32 (the image converter in "
        "preprocessor.json), 3 channels; the image converter's rescaling")
    pixels = _pixels(2, 32, 32)
    assert_runs_like(path, {"images": pixels},
                     {"logits": _expected(task, pixels)}, HUB_TEXT)


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_image_size_160(tmp_path, kind):
    """A 160x160 image size, from the CLI and Python, checked numerically
    (odd feature maps on the way: 160 -> 80 -> 40 -> 20 -> 10 -> 5)."""
    task = _effnet(kind, activation="softmax")
    preset = save_preset(task, tmp_path)
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", preset, "-o", out, "--image-size", "160",
                   check=True)
    assert "image_size 160x160 (the image_size argument)" in proc.stdout
    pixels = _pixels(1, 160, 160, seed=3)
    images = pixels * (1 / (255 * STD)) - MEAN / STD
    want = keras_out(task, images.astype("float32"))
    got = run_signature(out, {"images": pixels})
    assert list(got) == ["predictions"]
    np.testing.assert_allclose(got["predictions"], want, **HUB_TEXT)
    live = tmp_path / "live.tflite"
    keras2litert.export(task, live, verbose=False, image_size=160)
    assert live.read_bytes() == out.read_bytes()


def test_image_size_from_the_backbones_input_shape(tmp_path):
    """With no preprocessor, EfficientNet's fixed input_shape gives the
    size."""
    backbone = keras_hub.models.EfficientNetBackbone(
        **EFFNETS["v2"], input_shape=(48, 40, 3))
    task = keras_hub.models.EfficientNetImageClassifier(
        backbone=backbone, num_classes=3, preprocessor=None)
    _randomize_norms(task)
    out = tmp_path / "m.tflite"
    report = keras2litert.export(task, out, verbose=False)
    assert any("image_size 48x40 (the backbone's input_shape), 3 channels; "
               "no preprocessing" in n for n in report.notes)
    images = np.random.default_rng(5).normal(0, 1, (2, 48, 40, 3)).astype(
        "float32")
    np.testing.assert_allclose(run_signature(out, {"images": images})
                               ["logits"], keras_out(task, images), **HUB_TEXT)


def _edit_config(preset, **changes):
    path = preset / "config.json"
    config = json.loads(path.read_text())
    config["config"].update(changes)
    path.write_text(json.dumps(config))


@pytest.fixture(scope="module")
def v2_preset(tmp_path_factory):
    return save_preset(_effnet("v2"), tmp_path_factory.mktemp("v2"))


def _copy(preset, tmp_path):
    import shutil
    dst = tmp_path / "copy"
    shutil.copytree(preset, dst)
    return dst


@pytest.mark.parametrize("changes,fragments", [
    (dict(stackwise_block_types=["cba", "fused", "mbconv", "unfused",
                                 "unfused"]),
     ["EfficientNetBackbone: stack 2 has the block type \"mbconv\", which "
      "keras-hub does not build; the block types are \"v1\", \"unfused\", "
      "\"fused\" and \"cba\""]),
    (dict(stackwise_strides=[1, 1, 2]),
     ["EfficientNetBackbone: the hyperparameter 'stackwise_strides' is "
      "[1,1,2], not a list of 5 ints (one per stack)"]),
    (dict(stackwise_width_coefficients=[1.0, "x", 1.0, 1.0, 1.0]),
     ["the hyperparameter 'stackwise_width_coefficients' has a non-number "
      "\"x\""]),
    (dict(stackwise_input_filters=[16, 8, 8.5, 16, 16]),
     ["the hyperparameter 'stackwise_input_filters' has a non-integer 8.5"]),
    (dict(stackwise_nores_option=[False, 1, False, False, False]),
     ["the hyperparameter 'stackwise_nores_option' has a non-boolean 1"]),
    (dict(stackwise_strides=[1, 1, 0, 1, 2]),
     ["EfficientNetBackbone: stack 2 has a non-positive kernel size, stride "
      "or filter count"]),
    (dict(stackwise_block_types="fused"),
     ["the hyperparameter 'stackwise_block_types' is \"fused\", not a list "
      "of 5 block types"]),
    (dict(min_depth=None),
     ["the hyperparameter 'min_depth' is null while "
      "use_depth_divisor_as_min_depth is false"]),
    (dict(depth_divisor=0),
     ["the hyperparameter 'depth_divisor' is not a positive int"]),
    (dict(stem_conv_padding="causal"),
     ["the hyperparameter 'stem_conv_padding' is \"causal\", not \"valid\" "
      "or \"same\""]),
    (dict(activation={"class_name": "ReLU"}),
     ["EfficientNetBackbone: the activation {\"class_name\":\"ReLU\"} is not "
      "an activation's name"]),
    (dict(projection_activation=3),
     ["EfficientNetBackbone: the projection_activation 3 is not an "
      "activation's name"]),
    (dict(data_format="channels_first"),
     ["EfficientNetBackbone: data_format \"channels_first\" is not "
      "converted", "data_format=\"channels_last\""]),
    (dict(stackwise_block_types=["v1"] * 5,
          stackwise_expansion_ratios=[1, 1, 4.5, 1, 4]),
     ["stack 2 (a \"v1\" stack) has the expansion ratio 4.5",
      "Use an integer expansion ratio"]),
    (dict(stackwise_kernel_sizes=[]),
     ["EfficientNetBackbone: the hyperparameter 'stackwise_kernel_sizes' is "
      "[], not a list of non-negative ints"]),
], ids=["block_type", "short_list", "non_number", "non_integer",
        "non_boolean", "zero_stride", "not_a_list", "null_min_depth",
        "zero_divisor", "stem_padding", "activation_object",
        "projection_activation", "channels_first", "v1_fractional_expand",
        "no_stacks"])
def test_rejects_hyperparameters(tmp_path, v2_preset, changes, fragments):
    preset = _copy(v2_preset, tmp_path)
    _edit_config(preset, **changes)
    err = cli_error(preset, tmp_path)
    for f in fragments:
        assert f in err


def test_rejects_fractional_block_filters(tmp_path, v2_preset):
    """A fused or unfused block whose input_filters * expand_ratio is not
    whole is refused by its converter, naming the layer."""
    preset = _copy(v2_preset, tmp_path)
    _edit_config(preset, stackwise_expansion_ratios=[1, 1, 4.3, 1, 4])
    err = cli_error(preset, tmp_path)
    assert ("layer 'block3a_' (FusedMBConvBlock): input_filters * "
            "expand_ratio is 34.400000, not a whole number of filters") in err
