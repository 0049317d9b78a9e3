"""keras2litert: export Keras 3 models to LiteRT (.tflite) natively.

Every op in the output is a LiteRT builtin (never Flex, never CUSTOM),
signatures carry the Keras input and output names, and the batch dimension
stays resizable. Works on every Keras backend (it reads the model's config
and weights, it does not trace), and needs no TensorFlow.

    import keras2litert
    keras2litert.export(model, "model.tflite")          # a live keras.Model
    keras2litert.export("model.keras", "model.tflite")  # or a file
    m = keras2litert.LiteRTModel("model.tflite")         # our native runtime
    y = m.predict(x)

Importing this package does not import Keras; only exporting or verifying a
live model does.
"""

from keras2litert._export import ExportReport, export
from keras2litert._install import install, uninstall
from keras2litert._model import LiteRTModel, SignatureRunner
from keras2litert._verify import OutputCheck, VerifyReport, verify

__version__ = "0.1.0"

__all__ = [
    "ExportReport",
    "LiteRTModel",
    "OutputCheck",
    "SignatureRunner",
    "VerifyReport",
    "export",
    "install",
    "uninstall",
    "verify",
]
