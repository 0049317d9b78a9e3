"""`export`: a live Keras model, a `.keras`/`.h5` file or a model folder in,
a `.tflite` file out."""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import tempfile
from typing import Any

from keras2litert import _core

# Options of tf.lite.TFLiteConverter that Keras users pass to export(),
# each with what it would do. None of them is implemented yet; passing one
# is an error rather than an option silently ignored.
_NOT_YET = {
    "optimizations": "post-training quantization",
    "representative_dataset": "full-integer quantization calibration",
    "target_spec": "quantization targets (supported_ops / supported_types)",
    "supported_types": "float16 or integer quantization",
    "inference_input_type": "quantized model inputs",
    "inference_output_type": "quantized model outputs",
    "experimental_new_quantizer": "quantization",
}
_LENGTHS = ("sequence_length", "encoder_sequence_length",
            "decoder_sequence_length")
_HUB_OPTIONS = _LENGTHS + ("image_size", "include_preprocessing")
_ACCEPTED = ("input_signature", "verbose", "dump_ir",
             "allow_custom_ops") + _HUB_OPTIONS


@dataclasses.dataclass
class ExportReport:
    """What `export` wrote. `str(report)` is the summary the CLI prints."""

    filepath: str
    source_format: str
    inputs: list  # (name, type) pairs, e.g. ("image", "float32[?, 32, 32, 3]")
    outputs: list
    op_counts: dict  # builtin op name -> count
    file_bytes: int
    constant_bytes: int
    stage_ms: list  # (stage, milliseconds) in order
    notes: list
    warnings: list
    summary: str

    def __str__(self) -> str:
        return self.summary


def _dtype_name(dtype: Any) -> str:
    if dtype is None:
        return ""
    try:
        import numpy as np

        return np.dtype(dtype).name
    except TypeError:
        return str(dtype)


def _looks_like_shape(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in v
    )


def _spec_entry(name: str, spec: Any, where: str):
    if _looks_like_shape(spec):
        raise ValueError(
            f"{where} is the shape {tuple(spec)!r}, not an input spec. Wrap "
            f"it: keras.InputSpec(shape={tuple(spec)!r})"
        )
    if not hasattr(spec, "shape"):
        raise ValueError(
            f"{where} is a {type(spec).__name__}, not an input spec. Give a "
            "keras.InputSpec(shape=..., dtype=...) per input (None for a "
            "dynamic dimension), in a list by position or a dict by input name"
        )
    shape = spec.shape
    if shape is not None:
        try:
            shape = [-1 if d is None else int(d) for d in shape]
        except (TypeError, ValueError):
            raise ValueError(
                f"{where} has shape {spec.shape!r}; each dimension must be an "
                "integer or None"
            ) from None
    return (name, _dtype_name(getattr(spec, "dtype", None)), shape)


def _signature_entries(signature: Any) -> list:
    """Flattens a Keras-style input_signature into (name, dtype, shape)
    entries: by position for a list, by input name for a dict."""
    if signature is None:
        return []
    if isinstance(signature, dict):
        return [
            _spec_entry(str(k), v, f"input_signature[{k!r}]")
            for k, v in signature.items()
        ]
    if isinstance(signature, (list, tuple)):
        # Keras' own form wraps the model's input structure in a list, one
        # entry per positional argument of call(): [[spec, spec]] or
        # [{"x": spec}]. A model takes one argument, so unwrap it.
        inner = signature[0] if len(signature) == 1 else None
        if isinstance(inner, dict) or (
            isinstance(inner, (list, tuple)) and not _looks_like_shape(inner)
        ):
            return _signature_entries(signature[0])
        return [
            _spec_entry("", v, f"input_signature[{i}]")
            for i, v in enumerate(signature)
        ]
    return [_spec_entry("", signature, "input_signature")]


def _check_options(options: dict) -> None:
    for key, value in options.items():
        if key == "allow_custom_ops":
            if value:
                raise ValueError(
                    "allow_custom_ops=True: keras2litert only ever emits LiteRT "
                    "builtin ops, so that the file runs on the standalone "
                    "LiteRT runtime. Remove the option; a layer with no "
                    "builtin lowering is reported by name instead"
                )
        elif key in _NOT_YET:
            if value in (None, [], (), False):
                continue
            raise ValueError(
                f"the option {key}={value!r} asks for {_NOT_YET[key]}, which "
                "keras2litert does not implement yet. Export without it to "
                "get a float32 model with builtin ops only"
            )
        elif key in _LENGTHS:
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool)
                or value < 1
            ):
                raise ValueError(
                    f"{key} must be a positive int (or None for the "
                    f"preset's own), and got {value!r}"
                )
        elif key == "image_size":
            if value is not None and _image_size(value) is None:
                raise ValueError(
                    "image_size must be a positive int or a (height, width) "
                    f"pair of them (or None for the preset's own), and got "
                    f"{value!r}"
                )
        elif key == "include_preprocessing":
            if value is not None and not isinstance(value, bool):
                raise ValueError(
                    "include_preprocessing must be True or False (or None "
                    f"for the default, True), and got {value!r}"
                )
        elif key != "dump_ir":
            raise ValueError(
                f"unknown option {key!r}. export() accepts "
                + ", ".join(_ACCEPTED)
                + "; the tf.lite.TFLiteConverter options "
                + ", ".join(sorted(_NOT_YET))
                + " are not implemented yet"
            )


def _image_size(value: Any):
    """(height, width) from an int or a pair of positive ints, else None."""
    def ok(v):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 1

    if ok(value):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        ok(v) for v in value
    ):
        return (value[0], value[1])
    return None


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, bytes, os.PathLike))


def _is_hub_model(model: Any) -> bool:
    return any(
        c.__module__.startswith(("keras_hub", "keras_nlp"))
        for c in type(model).__mro__
    )


def _hub_task_class_names(model: Any) -> list:
    """The live task's class hierarchy, nearest first, or an error for a
    Keras-Hub model that is not a task (a backbone, a layer)."""
    names = [c.__name__ for c in type(model).__mro__]
    if "Task" not in names:
        raise ValueError(
            f"{type(model).__name__} is a Keras-Hub model but not a task, and "
            "keras2litert exports Keras-Hub tasks (CausalLM, TextClassifier, "
            "Seq2SeqLM): their signatures need the task's inputs and head. "
            "Wrap the backbone in its task, e.g. "
            "keras_hub.models.GPT2CausalLM(backbone=backbone)"
        )
    return names


def _live_model_bytes(model: Any) -> tuple[memoryview, str]:
    """Serializes a live model the way model.save() does, into memory."""
    try:
        import keras
        from keras.src.models.functional import Functional
        from keras.src.saving import saving_lib
    except ImportError as e:
        raise ValueError(
            f"exporting a live model needs Keras 3, which cannot be imported "
            f"({e}). Install it (pip install keras), or export from a "
            "saved .keras file instead"
        ) from None
    cls = type(model).__name__
    if not isinstance(model, keras.Model):
        if isinstance(model, keras.Layer):
            raise ValueError(
                f"export() takes a keras.Model, and got the layer "
                f"'{model.name}' ({cls}). Wrap it in a model: "
                "keras.Sequential([keras.Input(shape), layer])"
            )
        raise ValueError(
            f"export() takes a keras.Model or a path to a .keras/.h5 file, "
            f"and got a {cls}"
        )
    if not isinstance(model, (Functional, keras.Sequential)):
        raise ValueError(
            f"model '{model.name}' ({cls}) is a subclassed model: its "
            "computation lives in the Python code of its call() method, which "
            "a Keras config does not record, and keras2litert converts from "
            "the config and weights (it does not trace Python). Build the "
            "same network with the Functional API (keras.Input(...) -> "
            "layers -> keras.Model(inputs, outputs)) or as a "
            "keras.Sequential, and export that; the same layers take the "
            "same weights via set_weights. A traced export path for "
            "subclassed models is not available yet"
        )
    buffer = io.BytesIO()
    # The Keras saver itself, into memory: the converter then reads exactly
    # what model.save("m.keras") would write, so a live export and a path
    # export of the same model give the same bytes. No temporary file.
    saving_lib.save_model(model, buffer)
    return buffer.getbuffer(), f"model '{model.name}' (live {cls})"


class _ProgressBar:
    def __init__(self, stream):
        self.stream = stream
        self.drawn = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stream.write("\r" + _core.format_progress(stage, done, total).ljust(60))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def export(
    model_or_path: Any,
    filepath: str | os.PathLike,
    input_signature: Any = None,
    verbose: bool | None = None,
    **options: Any,
) -> ExportReport:
    """Exports a Keras model to a LiteRT `.tflite` file with builtin ops only.

    Args:
        model_or_path: a live `keras.Model` (Sequential or Functional, on any
            backend) or Keras-Hub task, or the path of a `.keras` file, its
            unzipped folder, a legacy `.h5` model or a Keras-Hub preset
            folder.
        filepath: the output path; it must end in `.tflite`. Nothing is left
            there if the export fails.
        input_signature: optional overrides of the input shapes: a
            `keras.InputSpec`, a list of them (one per input, in order) or a
            dict keyed by input name. It may fix a dimension the model leaves
            dynamic (the batch included); dimensions the model fixes, ranks
            and dtypes must match the model.
        verbose: True draws a progress bar and prints the summary; False
            prints nothing; None (the default) prints the summary, with the
            bar only on a terminal.
        **options: `dump_ir` (a callable taking the pass name and the IR
            listing, or True to print it to stderr). For Keras-Hub text
            tasks: `sequence_length`, and for a Seq2SeqLM
            `encoder_sequence_length` and `decoder_sequence_length`
            (`sequence_length` is then an alias of the decoder's, as in
            keras-hub); unset, each comes from the preprocessor, else is
            dynamic where the architecture allows, else 128. For Keras-Hub
            vision tasks: `image_size` (an int or (height, width); unset,
            the image converter's, else the backbone's image_shape or
            input_shape, else 224/512/256 for classifiers/detectors/
            segmenters) and `include_preprocessing` (default True: the
            image converter's rescaling is in the graph, so the model takes
            raw pixels). The
            `tf.lite.TFLiteConverter` quantization options are recognized
            and refused: quantization is not implemented yet.

    Returns:
        An `ExportReport`; `str(report)` is the summary.

    Raises:
        ValueError: for a model that cannot be converted (the message names
            the layer or input, says why and how to fix it) or bad arguments.
        RuntimeError: for an internal error.
    """
    _check_options(options)
    entries = _signature_entries(input_signature)
    if isinstance(filepath, bytes) or not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(
            f"filepath must be a str or os.PathLike ending in .tflite, and got "
            f"a {type(filepath).__name__}"
        )
    out = os.fspath(filepath)

    dump_ir = options.get("dump_ir") or None
    if dump_ir is True:
        def dump_ir(name, text):
            sys.stderr.write(f"=== IR after {name} ===\n{text}")
    elif dump_ir is not None and not callable(dump_ir):
        raise ValueError(
            f"dump_ir must be True or a callable(pass_name, ir_text), and got "
            f"a {type(dump_ir).__name__}"
        )

    bar = None
    if verbose or (verbose is None and sys.stderr.isatty()):
        bar = _ProgressBar(sys.stderr)

    try:
        lengths = {k: options.get(k) for k in _HUB_OPTIONS}
        if lengths["image_size"] is not None:
            lengths["image_size"] = _image_size(lengths["image_size"])
        if _is_path(model_or_path):
            source = os.fsdecode(model_or_path)
            report = _core.export_path(source, out, entries, bar, dump_ir,
                                       **lengths)
        elif _is_hub_model(model_or_path):
            ancestors = _hub_task_class_names(model_or_path)
            # Keras-Hub's own saver writes the preset, and the converter
            # reads that folder exactly as it reads one from disk, so a live
            # task and its saved preset give the same file. The folder is
            # temporary and removed afterwards.
            with tempfile.TemporaryDirectory(prefix="keras2litert-") as d:
                model_or_path.save_to_preset(d)
                report = _core.export_path(d, out, entries, bar, dump_ir,
                                           task_ancestors=ancestors,
                                           **lengths)
        else:
            for key, value in lengths.items():
                if value is not None:
                    raise ValueError(
                        f"{key} applies to Keras-Hub tasks and presets. "
                        "For a Keras model, fix its input shapes with "
                        "input_signature=[keras.InputSpec(shape=...)]"
                    )
            data, name = _live_model_bytes(model_or_path)
            try:
                report = _core.export_bytes(data, name, out, entries, bar, dump_ir)
            finally:
                data.release()
    finally:
        if bar is not None:
            bar.close()

    result = ExportReport(filepath=out, **report)
    if verbose is None or verbose:
        print(result.summary, end="", flush=True)
    return result

