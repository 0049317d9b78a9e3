"""Keras-Hub preset conversion against the I/O floor.

Builds a GPT-2-base-sized GPT2CausalLM (124M parameters), a
BERT-base-sized BertTextClassifier (110M) and a RetinaNet ObjectDetector
on a ResNet-50 encoder (80 classes, 512x512, decoded in the graph) with
keras-hub's random initialization, saves each with save_to_preset, then
times `keras2litert convert PRESET_DIR` (median of --runs) and `cp` of the
preset's weight files (model.weights.h5 and task.weights.h5), and prints
the ratio and the converter's peak RSS. This is a benchmark, not a test: nothing here asserts a time.

usage: .venv/bin/python bench/hub_convert_bench.py [--runs 3] [--small]
(--small uses 2-layer configurations, for a quick look)
(needs /usr/bin/time, Debian's `time` package, which scripts/setup.sh installs)
"""
import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import keras_hub  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_bench import CLI, timed  # noqa: E402


def tasks(small):
    layers = 2 if small else 12
    keras.utils.set_random_seed(0)
    gpt2 = keras_hub.models.GPT2Backbone(
        vocabulary_size=50257, num_layers=layers, num_heads=12, hidden_dim=768,
        intermediate_dim=3072, max_sequence_length=1024)
    yield "GPT-2 base CausalLM", keras_hub.models.GPT2CausalLM(
        backbone=gpt2, preprocessor=None)
    bert = keras_hub.models.BertBackbone(
        vocabulary_size=30522, num_layers=layers, num_heads=12, hidden_dim=768,
        intermediate_dim=3072, max_sequence_length=512)
    yield "BERT base classifier", keras_hub.models.BertTextClassifier(
        backbone=bert, num_classes=2, preprocessor=None)
    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 128, 256, 512],
        stackwise_num_blocks=[1, 1, 1, 1] if small else [3, 4, 6, 3],
        stackwise_num_strides=[1, 2, 2, 2], block_type="bottleneck_block",
        image_shape=(None, None, 3))
    retina = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder, min_level=3, max_level=7, use_p5=False,
        image_shape=(None, None, 3))
    yield "RetinaNet R50 detector", keras_hub.models.RetinaNetObjectDetector(
        backbone=retina, num_classes=80, preprocessor=None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, task in tasks(args.small):
            params = task.count_params()
            preset = tmp / "preset"
            task.save_to_preset(str(preset))
            del task
            weights = sorted(preset.glob("*.weights.h5"))
            copies = tmp / "copies"
            copies.mkdir(exist_ok=True)
            out = tmp / "model.tflite"
            conv = [timed([str(CLI), "convert", str(preset), "-o", str(out), "-q"])
                    for _ in range(args.runs)]
            cp = [timed(["cp", *map(str, weights), str(copies)])
                  for _ in range(args.runs)]
            size = sum(w.stat().st_size for w in weights)
            rows.append((name, params / 1e6, size / 2**20,
                         statistics.median(t for t, _ in cp) * 1e3,
                         statistics.median(t for t, _ in conv) * 1e3,
                         max(m for _, m in conv), out.stat().st_size / 2**20))
            for f in preset.iterdir():
                f.unlink()
            preset.rmdir()
    print(f"\nKeras-Hub preset conversion vs cp of the weight files "
          f"(median of {args.runs})\n")
    print(f"{'task':<22}{'params M':>9}{'weights MiB':>12}{'cp ms':>9}"
          f"{'convert ms':>12}{'ratio':>7}{'peak RSS MiB':>14}{'tflite MiB':>12}")
    for name, mparams, mib, cp_ms, conv_ms, rss, out_mib in rows:
        print(f"{name:<22}{mparams:>9.1f}{mib:>12.1f}{cp_ms:>9.1f}"
              f"{conv_ms:>12.1f}{conv_ms / cp_ms:>7.1f}{rss:>14.1f}"
              f"{out_mib:>12.1f}")


if __name__ == "__main__":
    main()
