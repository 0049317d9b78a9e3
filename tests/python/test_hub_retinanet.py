"""Keras-Hub ObjectDetector: RetinaNet on a ResNet image encoder, tiny and
with random BatchNorm statistics, saved with save_to_preset, converted from
the preset (CLI) and the live task (Python), run in ai-edge-litert and our
runtime. The raw heads (bbox_regression, cls_logits) are compared with the
task's own output, and the decoded outputs (boxes, confidence, labels,
num_detections) with keras-hub's predict(), at atol = rtol = 1e-4
(tolerances.HUB_TEXT); labels and counts exactly."""
import json

import keras
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import keras2litert
from harness import assert_builtin_only, run_cli
from hub_common import (
    cli_error,
    convert_preset_and_live,
    randomize_norms,
    raw_pixels,
    run_signature,
    save_preset,
)
from tolerances import HUB_BOXES, HUB_TEXT

keras_hub = pytest.importorskip("keras_hub")

ENCODER = dict(input_conv_filters=[16], input_conv_kernel_sizes=[7],
               stackwise_num_filters=[64, 8, 8, 8],
               stackwise_num_blocks=[1, 1, 1, 1],
               stackwise_num_strides=[1, 2, 2, 2],
               block_type="bottleneck_block")

RAW = ["bbox_regression", "cls_logits"]
DECODED = ["boxes", "confidence", "labels", "num_detections"]


def _detector(image_size=None, backbone=None, class_shift=1.0,
              **task_kwargs):
    encoder = keras_hub.models.ResNetBackbone(**ENCODER,
                                              image_shape=(None, None, 3))
    backbone = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder, image_shape=(None, None, 3),
        **(backbone or dict(min_level=3, max_level=7, use_p5=False)))
    pre = None
    if image_size:
        conv = keras_hub.layers.RetinaNetImageConverter(
            image_size=image_size, scale=1 / 255.0)
        pre = keras_hub.models.RetinaNetObjectDetectorPreprocessor(
            image_converter=conv)
    task = keras_hub.models.RetinaNetObjectDetector(
        backbone=backbone, num_classes=3, preprocessor=pre,
        **{"pre_logits_num_conv_layers": 1, **task_kwargs})
    randomize_norms(task)
    # Kernels from numpy too, so that every backend gets the same network.
    rng = np.random.default_rng(0)
    for w in task.weights:
        if w.path.endswith("kernel"):
            fan_in = int(np.prod(w.shape[:-1]))
            w.assign(rng.normal(0.0, fan_in ** -0.5, w.shape).astype(w.dtype))
    # Fewer confident anchors, so that NMS keeps some but not all of its
    # max_detections and the -1 padding shows.
    bias = task.classification_head.prediction_layer.bias
    bias.assign(bias - class_shift)
    return task


def _check(got, raw_want, decoded_want, name):
    """`got` against the task's raw heads and predict()'s decoding."""
    assert sorted(got) == sorted(RAW + DECODED), name
    for k in RAW:
        np.testing.assert_allclose(got[k], keras.ops.convert_to_numpy(
            raw_want[k]), err_msg=f"{name}: {k}", **HUB_TEXT)
    count = np.asarray(decoded_want["num_detections"])
    np.testing.assert_array_equal(got["num_detections"], count,
                                  err_msg=name)
    np.testing.assert_array_equal(got["labels"], decoded_want["labels"],
                                  err_msg=name)
    np.testing.assert_allclose(got["confidence"], decoded_want["confidence"],
                               err_msg=f"{name}: confidence", **HUB_TEXT)
    np.testing.assert_allclose(got["boxes"], decoded_want["boxes"],
                               err_msg=f"{name}: boxes", **HUB_BOXES)


def _keras(task, images):
    """The task's raw heads and what predict() returns for `images` (after
    any preprocessing): predict_step's decode_predictions on the raw
    heads."""
    raw = task(images, training=False)
    decoded = task.decode_predictions(raw, images)
    return raw, {k: keras.ops.convert_to_numpy(v) for k, v in decoded.items()}


def _run_both(path, images):
    """ai-edge-litert's and our runtime's outputs."""
    theirs = run_signature(path, {"images": images})
    mine = keras2litert.LiteRTModel(path).predict({"images": images})
    return theirs, mine


def _export_and_compare(task, tmp_path, size, seed, max_detections):
    """Exports `task` at `size` and compares a batch of two random images in
    both runtimes with keras-hub; some detections, and fewer than
    `max_detections` (so the -1 padding shows). Returns the report."""
    out = tmp_path / "m.tflite"
    report = keras2litert.export(task, out, verbose=False, image_size=size)
    assert_builtin_only(out)
    images = np.random.default_rng(seed).normal(0, 1, (2, *size, 3)).astype(
        "float32")
    raw_want, decoded_want = _keras(task, images)
    counts = np.asarray(decoded_want["num_detections"])
    assert counts.min() > 0 and counts.max() < max_detections, counts
    theirs, mine = _run_both(out, images)
    _check(theirs, raw_want, decoded_want, "ai-edge-litert")
    _check(mine, raw_want, decoded_want, "keras2litert runtime")
    return report


def test_retinanet_preset_and_live_task_match_keras_hub(tmp_path):
    task = _detector(image_size=(64, 64))
    from_preset, stdout = convert_preset_and_live(
        task, tmp_path,
        "RetinaNetObjectDetector (a ObjectDetector on RetinaNetBackbone)"
        ": image_size 64x64 (the image converter in preprocessor.json)")
    assert ("RetinaNetObjectDetector: outputs boxes (yxyx), confidence, "
            "labels and num_detections as its predict() decodes them "
            "(anchors, then NON_MAX_SUPPRESSION_V5 per image)") in stdout

    pixels = raw_pixels(3, 64, 64, seed=7)
    images = keras.ops.convert_to_numpy(
        task.preprocessor.image_converter(pixels))
    raw_want, decoded_want = _keras(task, images)
    counts = np.asarray(decoded_want["num_detections"])
    # Some detections, and the -1 padding past them.
    assert counts.min() > 0 and counts.max() < 100, counts
    theirs, mine = _run_both(from_preset, pixels)
    _check(theirs, raw_want, decoded_want, "ai-edge-litert")
    _check(mine, raw_want, decoded_want, "keras2litert runtime")
    # One image alone: the loop over the batch runs once.
    one, _ = _run_both(from_preset, pixels[1:2])
    assert one["num_detections"][0] == counts[1]
    np.testing.assert_allclose(one["boxes"][0], decoded_want["boxes"][1],
                               **HUB_BOXES)


def test_retinanet_160_with_norms_p5_and_other_box_format(tmp_path):
    """160x160 without a preprocessor; use_p5, batch-normalized FPN,
    group-normalized heads, levels P3-P6, xyxy boxes and a tighter
    NonMaxSuppression."""
    task = _detector(backbone=dict(min_level=3, max_level=6, use_p5=True,
                                   use_fpn_batch_norm=True),
                     use_prediction_head_norm=True,
                     bounding_box_format="xyxy", class_shift=2.0,
                     prediction_decoder=keras_hub.layers.NonMaxSuppression(
                         bounding_box_format="xyxy", from_logits=True,
                         iou_threshold=0.3, confidence_threshold=0.6,
                         max_detections=20))
    report = _export_and_compare(task, tmp_path, (160, 160), seed=3,
                                 max_detections=20)
    assert any("image_size 160x160 (the image_size argument)" in n
               for n in report.notes)


def _box_bias_up_left(task):
    """Box deltas that move many boxes entirely above and left of the
    image, which keras-hub keeps (they suppress others) but never reports."""
    bias = task.box_head.prediction_layer.bias
    shift = np.tile(np.array([-2.0, -2.0, -1.0, -1.0], "float32"),
                    bias.shape[0] // 4)
    bias.assign(keras.ops.convert_to_numpy(bias) + shift)


VARIANTS = {
    # keras-hub's feature extractor stops at P4: no last ResNet stack.
    "levels_3_4": dict(
        size=(64, 64), backbone=dict(min_level=3, max_level=4, use_p5=False)),
    # A size keras-hub takes that is not a multiple of 32, non-square.
    "size_60x96": dict(size=(60, 96)),
    # Padding in the decoder's format, converted to the task's.
    "decoder_format_differs": dict(
        size=(64, 64), bounding_box_format="xyxy",
        decoder=dict(bounding_box_format="center_xywh")),
    # Scores already probabilities; no conv layers before the logits.
    "probabilities_no_pre_logits": dict(
        size=(64, 64), pre_logits_num_conv_layers=0,
        decoder=dict(from_logits=False, confidence_threshold=1.5)),
    # Two convolutions before the logits, each with its own kernel.
    "two_pre_logits_convs": dict(size=(64, 64), pre_logits_num_conv_layers=2),
    "custom_anchors": dict(
        size=(96, 64), anchors=dict(num_scales=2, aspect_ratios=[0.3, 1.7],
                                    anchor_size=3.3)),
    "kept_boxes_above_left": dict(size=(64, 64), edit=_box_bias_up_left),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_retinanet_variants_match_keras_hub(tmp_path, variant):
    v = dict(VARIANTS[variant])
    size = v.pop("size")
    edit = v.pop("edit", None)
    decoder = v.pop("decoder", None)
    anchors = v.pop("anchors", None)
    backbone = v.pop("backbone", None)
    fmt = v.get("bounding_box_format", "yxyx")
    levels = backbone or dict(min_level=3, max_level=7)
    if anchors:
        anchors = {"bounding_box_format": fmt, **anchors}
        v["anchor_generator"] = keras_hub.layers.AnchorGenerator(
            min_level=levels["min_level"], max_level=levels["max_level"],
            **anchors)
    if decoder:
        decoder.setdefault("bounding_box_format", fmt)
        decoder.setdefault("from_logits", True)
        v["prediction_decoder"] = keras_hub.layers.NonMaxSuppression(**decoder)
    task = _detector(backbone=backbone, **{"class_shift": 2.0, **v})
    if edit:
        edit(task)
    _export_and_compare(task, tmp_path, size, seed=4, max_detections=100)


def test_custom_prediction_decoder_exports_the_raw_heads(tmp_path):
    """A decoder that is not keras-hub's NonMaxSuppression cannot be
    lowered: the file has the raw heads only, and the summary says so."""
    task = _detector(image_size=(64, 64))
    preset = save_preset(task, tmp_path)
    cfg = json.loads((preset / "task.json").read_text())
    cfg["config"]["prediction_decoder"]["class_name"] = "MyDecoder"
    cfg["config"]["prediction_decoder"]["module"] = "my_package.decoders"
    (preset / "task.json").write_text(json.dumps(cfg))
    out = tmp_path / "raw.tflite"
    proc = run_cli("convert", preset, "-o", out, check=True)
    assert ("its prediction_decoder is 'MyDecoder', not keras-hub's "
            "NonMaxSuppression, so the file outputs the raw heads "
            "bbox_regression (center_xywh deltas per anchor) and cls_logits "
            "only") in proc.stdout
    pixels = raw_pixels(1, 64, 64, seed=2)
    images = keras.ops.convert_to_numpy(
        task.preprocessor.image_converter(pixels))
    got = run_signature(out, {"images": pixels})
    assert sorted(got) == RAW
    want, _ = _keras(task, images)
    for k in RAW:
        np.testing.assert_allclose(
            got[k], keras.ops.convert_to_numpy(want[k]), **HUB_TEXT)


def test_rejects_an_image_size_the_backbone_cannot_take(tmp_path):
    """The feature pyramid adds each level to the next one upsampled by 2:
    sizes where a level is not twice the next are refused (keras-hub fails
    on them too)."""
    task = _detector(image_size=(64, 64))
    preset = save_preset(task, tmp_path)
    err = cli_error(preset, tmp_path, "--image-size", "100")
    assert ("RetinaNetBackbone: the image size 100x100 does not line up in "
            "the feature pyramid: level P3 is 13 pixels across, but P4 "
            "upsampled by 2 is 14, and the two are added") in err
    assert "Use an image_size that is a multiple of 32" in err
    with pytest.raises(ValueError, match="the image size 64x48 does not line "
                       "up in the feature pyramid: level P4 is 3 pixels"):
        keras2litert.export(task, tmp_path / "y.tflite", verbose=False,
                            image_size=(64, 48))
    assert not (tmp_path / "y.tflite").exists()


@pytest.mark.parametrize("edit, message", [
    (lambda b, t: b["config"]["image_encoder"].update(
        class_name="MobileNetBackbone"),
     "RetinaNetBackbone: its image_encoder is 'MobileNetBackbone', for which "
     "keras2litert has no feature pyramid builder. Supported image encoders: "
     "ResNetBackbone"),
    (lambda b, t: b["config"].update(min_level=1),
     "RetinaNetBackbone: min_level 1 and max_level 7 do not fit the image "
     "encoder's pyramid (P2 to P5)"),
    (lambda b, t: t["config"].update(bounding_box_format="corners"),
     "the task's bounding_box_format is \"corners\", which "
     "keras.utils.bounding_boxes does not know. Use one of xyxy, yxyx"),
    (lambda b, t: t["config"].update(bounding_box_format=4),
     "RetinaNetObjectDetector: the hyperparameter 'bounding_box_format' is "
     "4, not a string"),
    (lambda b, t: t["config"]["anchor_generator"]["config"].update(
        min_level=4),
     "RetinaNetObjectDetector's anchor_generator: its levels P4 to P7 are "
     "not the backbone's, P3 to P7"),
    (lambda b, t: t["config"]["prediction_decoder"]["config"].update(
        max_detections=0),
     "its NonMaxSuppression config"),
    (lambda b, t: t["config"]["anchor_generator"]["config"].update(
        num_scales=0),
     "RetinaNetObjectDetector's anchor_generator: num_scales 0 must be "
     "positive"),
])
def test_rejects_malformed_configs(tmp_path, edit, message):
    task = _detector(image_size=(64, 64))
    preset = save_preset(task, tmp_path)
    backbone = json.loads((preset / "config.json").read_text())
    cfg = json.loads((preset / "task.json").read_text())
    edit(backbone, cfg)
    if "backbone" in cfg["config"]:
        cfg["config"]["backbone"] = backbone
    (preset / "config.json").write_text(json.dumps(backbone))
    (preset / "task.json").write_text(json.dumps(cfg))
    assert message in cli_error(preset, tmp_path)


def test_retinanet_default_image_size(tmp_path):
    """Nothing gives a size: detectors default to 512x512."""
    task = _detector()
    out = tmp_path / "m.tflite"
    report = keras2litert.export(task, out, verbose=False)
    assert any("image_size 512x512 (the default" in n for n in report.notes)
    model = keras2litert.LiteRTModel(out)
    (d,) = model.input_details
    assert list(d["shape_signature"]) == [-1, 512, 512, 3]
    runner = Interpreter(model_path=str(out)).get_signature_runner()
    shapes = {k: list(o["shape_signature"])
              for k, o in runner.get_output_details().items()}
    # 9 anchors per cell over P3-P7: 64^2 + 32^2 + 16^2 + 8^2 + 4^2 cells.
    assert shapes["bbox_regression"] == [-1, 49104, 4]
    assert shapes["cls_logits"] == [-1, 49104, 3]
    assert shapes["boxes"] == [-1, 100, 4]
    assert shapes["num_detections"] == [-1]
