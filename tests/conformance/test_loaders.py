"""Every way a Keras model reaches the converter: .keras zips, their unzipped
folders, legacy .h5 files with each attribute string storage, real tf.keras
2.13 files, bfloat16 weights, and detection by content rather than by
extension."""
import io
import shutil
import zipfile

import h5py
import keras
import numpy as np

from harness import assert_builtin_only, compare, random_feeds, run_cli, run_litert
from tolerances import FP32

L = keras.layers


def _model():
    x = keras.Input((6,), name="x")
    h = L.Dense(5, activation="relu", name="hidden")(x)
    h = L.BatchNormalization(name="bn")(h)
    return keras.Model(x, L.Dense(3, name="out")(h))


def _check(model, src, out):
    run_cli("convert", src, "-o", out, check=True)
    assert_builtin_only(out)
    feeds = random_feeds(model, 3)
    want = {"out": np.asarray(model.predict(feeds["x"], verbose=0))}
    compare(want, run_litert(out, feeds), label=str(src), **FP32)


def test_unzipped_folder(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        z.extractall(folder)
    _check(model, folder, tmp_path / "o.tflite")


def test_format_detected_by_content_not_extension(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    shutil.copy(tmp_path / "m.keras", tmp_path / "zip_named.h5")
    shutil.copy(tmp_path / "m.h5", tmp_path / "hdf5_named.keras")
    _check(model, tmp_path / "zip_named.h5", tmp_path / "a.tflite")
    _check(model, tmp_path / "hdf5_named.keras", tmp_path / "b.tflite")


def _rewrite_attrs(path, fixed_length):
    """Re-stores a legacy .h5's string attributes in another HDF5 form."""
    with h5py.File(path, "r+") as f:
        def fix(obj):
            for key, value in list(obj.attrs.items()):
                if isinstance(value, str):
                    if fixed_length:
                        obj.attrs[key] = np.bytes_(value.encode())
                elif isinstance(value, np.ndarray) and value.dtype == object:
                    if fixed_length and len(value):
                        obj.attrs[key] = np.array([v.encode() for v in value])
        fix(f)
        f.visititems(lambda name, obj: fix(obj))


def test_legacy_h5_attribute_forms(tmp_path):
    model = _model()
    model.save(tmp_path / "vlen.h5")
    with h5py.File(tmp_path / "vlen.h5") as f:
        # Keras writes variable-length strings, and empty float arrays for
        # layers without weights.
        assert h5py.check_string_dtype(f.attrs.get_id("model_config").dtype).length is None
        empty = f["model_weights/x"].attrs["weight_names"]
        assert empty.dtype == np.float64 and empty.size == 0
    _check(model, tmp_path / "vlen.h5", tmp_path / "vlen.tflite")
    shutil.copy(tmp_path / "vlen.h5", tmp_path / "fixed.h5")
    _rewrite_attrs(tmp_path / "fixed.h5", fixed_length=True)
    with h5py.File(tmp_path / "fixed.h5") as f:
        assert h5py.check_string_dtype(f.attrs.get_id("model_config").dtype).length
        assert f["model_weights/hidden"].attrs["weight_names"].dtype.kind == "S"
    _check(model, tmp_path / "fixed.h5", tmp_path / "fixed.tflite")


def test_bfloat16_weights(tmp_path):
    x = keras.Input((6,), name="x")
    y = L.Dense(4, dtype="bfloat16", name="out")(x)
    bf16 = keras.Model(x, y)
    bf16.save(tmp_path / "bf16.keras")
    with zipfile.ZipFile(tmp_path / "bf16.keras") as z:
        with h5py.File(io.BytesIO(z.read("model.weights.h5"))) as f:
            assert f["layers/dense/vars/0"].attrs["dtype"] == "bfloat16"
    # The oracle: the same weights (exactly representable in float32) in a
    # float32 model, since the export computes in float32.
    ref = keras.Model(x, L.Dense(4, name="out")(x))
    ref.layers[-1].set_weights([np.asarray(w, "float32")
                                for w in bf16.layers[-1].get_weights()])
    _check(ref, tmp_path / "bf16.keras", tmp_path / "o.tflite")


def _to_keras2_config(cfg):
    """Rewrites a Keras 3 Functional config in tf.keras 2 form: list-style
    inbound nodes, batch_input_shape, and plain dtype strings."""
    import copy
    cfg = copy.deepcopy(cfg)
    for layer in cfg["config"]["layers"]:
        c = layer["config"]
        if isinstance(c.get("dtype"), dict):
            c["dtype"] = c["dtype"]["config"]["name"]
        if "batch_shape" in c:
            c["batch_input_shape"] = c.pop("batch_shape")
        nodes = []
        for node in layer["inbound_nodes"]:
            refs = []

            def walk(v):
                if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
                    refs.append(list(v["config"]["keras_history"]) + [{}])
                elif isinstance(v, dict):
                    for x in v.values():
                        walk(x)
                elif isinstance(v, list):
                    for x in v:
                        walk(x)
            walk(node["args"])
            nodes.append(refs)
        layer["inbound_nodes"] = nodes
    cfg["keras_version"] = "2.13.1"
    cfg["backend"] = "tensorflow"
    return cfg


def test_tf_keras_2_legacy_h5(tmp_path):
    """A legacy .h5 in tf.keras 2 form: Keras 2 node lists in model_config and
    weights named "<layer>/<var>:0" under model_weights/<layer>/<layer>/."""
    import json
    x = keras.Input((6,), name="x")
    a = L.Dense(5, activation="relu", name="hidden")(x)
    b = L.Dense(5, name="side")(x)
    model = keras.Model(x, L.Dense(3, name="out")(L.Add(name="add")([a, b])))
    model.save(tmp_path / "k3.h5")
    with h5py.File(tmp_path / "k3.h5", "r") as src, \
            h5py.File(tmp_path / "k2.h5", "w") as dst:
        cfg = _to_keras2_config(json.loads(src.attrs["model_config"]))
        dst.attrs["model_config"] = json.dumps(cfg).encode()
        dst.attrs["keras_version"] = b"2.13.1"
        mw = dst.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([n.encode() for n in
                                            src["model_weights"].attrs["layer_names"]])
        for lname in src["model_weights"].attrs["layer_names"]:
            g = mw.create_group(lname)
            names = []
            for old in src["model_weights"][lname].attrs["weight_names"]:
                var = old.split("/")[-1]
                new = f"{lname}/{var}:0"
                g.create_dataset(new, data=src["model_weights"][lname][old][()])
                names.append(new.encode())
            g.attrs["weight_names"] = np.array(names) if names else np.zeros(0)
    _check(model, tmp_path / "k2.h5", tmp_path / "o.tflite")


def test_real_tf_keras_213_files():
    """Files written by tf.keras 2.13.1 (tests/fixtures/make_tf213_fixtures.py):
    a Dense, a nested Functional and a nested Sequential with BatchNorm.
    Keras 3 cannot load them itself, so the oracle is numpy over the
    variables tf.keras saved (tf213_expected.json)."""
    import json
    from pathlib import Path
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "loader"
    saved = json.loads((fixtures / "tf213_expected.json").read_text())["models"]["tf213"]
    var = {entry["path"][-1][1]: [np.asarray(v["values"], "float32").reshape(v["shape"])
                                  for v in entry["vars"]] for entry in saved}
    cfg = json.loads(zipfile.ZipFile(fixtures / "tf213.keras").read("config.json"))
    eps = next(layer["config"]["epsilon"]
               for outer in cfg["config"]["layers"] if outer["class_name"] == "Sequential"
               for layer in outer["config"]["layers"]
               if layer["class_name"] == "BatchNormalization")

    def dense(h, name):
        kernel, bias = var[name]
        return h @ kernel + bias

    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    h = dense(dense(dense(x, "pre"), "h1"), "h2")
    h = dense(h, "sd1")
    gamma, beta, mean, variance = var["sbn"]
    h = (h - mean) / np.sqrt(variance + eps) * gamma + beta
    want = dense(dense(h, "sd2"), "post")
    for name in ("tf213.keras", "tf213.h5"):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "o.tflite"
            run_cli("convert", fixtures / name, "-o", path, check=True)
            got = run_litert(path, {"x": x})
        compare({"post": want}, got, label=name, atol=1e-5, rtol=1e-5)
