"""Opt-in routing of `keras.Model.export(..., format="litert")` to
keras2litert. Other formats keep Keras' own exporters."""

from __future__ import annotations

import functools

_original = None


def install() -> None:
    """Makes `model.export(filepath, format="litert", **kwargs)` use
    keras2litert on every backend. Idempotent; `uninstall()` undoes it."""
    global _original
    import keras

    if _original is not None:
        return
    original = keras.Model.export

    @functools.wraps(original)
    def export(self, filepath, format="tf_saved_model", verbose=None,
               input_signature=None, **kwargs):
        if format == "litert":
            from keras2litert._export import export as k2l_export

            k2l_export(self, filepath, input_signature=input_signature,
                       verbose=verbose, **kwargs)
            return None
        return original(self, filepath, format=format, verbose=verbose,
                        input_signature=input_signature, **kwargs)

    export._keras2litert = True
    keras.Model.export = export
    _original = original


def uninstall() -> None:
    """Restores Keras' own `Model.export`."""
    global _original
    if _original is None:
        return
    import keras

    keras.Model.export = _original
    _original = None
