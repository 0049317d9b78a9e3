"""Keras-Hub's ViT layers (ViTPatchingAndEmbedding, MLP, ViTEncoderBlock,
ViTEncoder), compared with Keras: Functional models built from the real
layers with random weights (class token and position table included),
saved as .keras and converted with the CLI. Tolerance: tolerances.FP32."""
import json
import zipfile

import keras
import numpy as np
import pytest

from harness import check_model, run_cli, run_litert
from tolerances import FP32

vit_layers = pytest.importorskip("keras_hub.src.models.vit.vit_layers")
keras_hub = pytest.importorskip("keras_hub")

HIDDEN = 16


def _randomize(model, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    model.set_weights([(scale * rng.standard_normal(w.shape)).astype(w.dtype)
                       for w in model.get_weights()])


def _images(shape):
    def make(batch):
        rng = np.random.default_rng(10 + batch)
        return {"images": rng.standard_normal((batch,) + shape).astype(
            "float32")}
    return make


def _tokens(t):
    def make(batch):
        rng = np.random.default_rng(20 + batch)
        return {"tokens": rng.standard_normal((batch, t, HIDDEN)).astype(
            "float32")}
    return make


def _patching(image=(32, 32), patch=(8, 8), channels=3, **kw):
    images = keras.Input(image + (channels,), name="images")
    layer = vit_layers.ViTPatchingAndEmbedding(
        image_size=image, patch_size=patch, hidden_dim=HIDDEN,
        num_channels=channels, name="vit_patching_and_embedding", **kw)
    model = keras.Model(images, layer(images))
    _randomize(model)
    return model


@pytest.mark.parametrize("image,patch,channels,kw", [
    ((32, 32), (8, 8), 3, {}),
    ((24, 16), (8, 4), 1, {}),
    ((32, 32), (8, 8), 3, {"use_class_token": False}),
    ((16, 24), (4, 8), 3, {"use_patch_bias": False}),
], ids=["class_token", "rectangular_one_channel", "no_class_token",
        "no_patch_bias"])
def test_patching_and_embedding(tmp_path, image, patch, channels, kw):
    """The patch convolution, the class token broadcast over the batch and
    put first, and the position table. use_patch_bias is not in the layer's
    config: the converter finds it from the saved variables."""
    model = _patching(image, patch, channels, **kw)
    check_model(model, tmp_path, batches=(2, 3),
                feeds_fn=_images(image + (channels,)))


def test_mlp(tmp_path):
    tokens = keras.Input((5, HIDDEN), name="tokens")
    mlp = vit_layers.MLP(hidden_dim=HIDDEN, mlp_dim=24, name="mlp")
    model = keras.Model(tokens, mlp(tokens))
    _randomize(model)
    check_model(model, tmp_path, feeds_fn=_tokens(5))


@pytest.mark.parametrize("heads,mha_bias,mlp_bias,t", [
    (2, True, True, 7),
    (3, False, False, 5),
    (4, True, False, None),
], ids=["biases", "no_biases_uneven_heads", "dynamic_length"])
def test_encoder_block(tmp_path, heads, mha_bias, mlp_bias, t):
    """Pre-norm attention and MLP with residuals; 16 features over 3 heads
    give key_dim 5, as keras-hub splits them."""
    tokens = keras.Input((t, HIDDEN), name="tokens")
    block = vit_layers.ViTEncoderBlock(
        num_heads=heads, hidden_dim=HIDDEN, mlp_dim=24, use_mha_bias=mha_bias,
        use_mlp_bias=mlp_bias, layer_norm_epsilon=1e-5,
        name="transformer_block_1")
    model = keras.Model(tokens, block(tokens))
    _randomize(model)
    check_model(model, tmp_path, feeds_fn=_tokens(t or 6))


def test_encoder(tmp_path):
    tokens = keras.Input((9, HIDDEN), name="tokens")
    enc = vit_layers.ViTEncoder(num_layers=3, num_heads=2, hidden_dim=HIDDEN,
                                mlp_dim=32, dropout_rate=0.1,
                                attention_dropout=0.1, name="vit_encoder")
    model = keras.Model(tokens, enc(tokens))
    _randomize(model)
    check_model(model, tmp_path, feeds_fn=_tokens(9))


def test_backbone_graph_matches_the_backbone(tmp_path):
    """ViTBackbone's own graph, saved as a plain Functional, matches the
    backbone."""
    backbone = keras_hub.models.ViTBackbone(
        image_shape=(32, 32, 3), patch_size=8, num_layers=2, num_heads=2,
        hidden_dim=HIDDEN, mlp_dim=32)
    _randomize(backbone)
    model = keras.Model(backbone.input, backbone.output, name="vit")
    src = tmp_path / "vit.keras"
    model.save(src)
    out = tmp_path / "vit.tflite"
    run_cli("convert", src, "-o", out, check=True)
    images = _images((32, 32, 3))(2)
    got = run_litert(out, images)
    (got,) = got.values()
    np.testing.assert_allclose(
        got, keras.ops.convert_to_numpy(backbone(images["images"])), **FP32)


# ---------------------------------------------------------------------------
# Rejections: exit code 2, the layer named, why and how to fix it

def _edited(model, tmp_path, edit):
    """The model saved as a .keras, unzipped, its config edited."""
    src = tmp_path / "m.keras"
    model.save(src)
    folder = tmp_path / "m_dir"
    with zipfile.ZipFile(src) as z:
        z.extractall(folder)
    config = json.loads((folder / "config.json").read_text())
    layers = {l["name"]: l for l in config["config"]["layers"]}
    edit(layers)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _convert_fails(folder, tmp_path, *fragments):
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", folder, "-o", out)
    assert proc.returncode == 2, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr
    assert not out.exists()


def test_images_of_another_patch_grid_refused(tmp_path):
    def edit(layers):
        layers["images"]["config"]["batch_shape"] = [None, 40, 32, 3]
    folder = _edited(_patching(), tmp_path, edit)
    _convert_fails(folder, tmp_path,
                   "layer 'vit_patching_and_embedding' "
                   "(ViTPatchingAndEmbedding)",
                   "its input images are [?, 40, 32, 3], which do not give "
                   "the 4x4 patch grid (image_size 32x32, patch_size 8x8) "
                   "its 17 position embeddings hold",
                   "Feed it images of 32x32")


def test_channels_first_refused(tmp_path):
    def edit(layers):
        layers["vit_patching_and_embedding"]["config"]["data_format"] = (
            "channels_first")
    folder = _edited(_patching(), tmp_path, edit)
    _convert_fails(folder, tmp_path, "vit_patching_and_embedding",
                   "channels_first")


def test_patch_size_without_grid_refused(tmp_path):
    def edit(layers):
        layers["vit_patching_and_embedding"]["config"]["patch_size"] = [0, 8]
    folder = _edited(_patching(), tmp_path, edit)
    _convert_fails(folder, tmp_path,
                   "its image_size 32x32, patch_size 0x8 and hidden_dim 16 "
                   "make no patch grid", "The config is corrupt")


def test_heads_that_do_not_fit_refused(tmp_path):
    tokens = keras.Input((5, HIDDEN), name="tokens")
    block = vit_layers.ViTEncoderBlock(num_heads=2, hidden_dim=HIDDEN,
                                       mlp_dim=24, name="transformer_block_1")
    model = keras.Model(tokens, block(tokens))

    def edit(layers):
        layers["transformer_block_1"]["config"]["num_heads"] = 0
    folder = _edited(model, tmp_path, edit)
    _convert_fails(folder, tmp_path, "transformer_block_1",
                   "num_heads=0 does not fit hidden_dim=16")


def test_encoder_on_other_features_refused(tmp_path):
    tokens = keras.Input((5, HIDDEN), name="tokens")
    enc = vit_layers.ViTEncoder(num_layers=1, num_heads=2, hidden_dim=HIDDEN,
                                mlp_dim=24, name="vit_encoder")
    model = keras.Model(tokens, enc(tokens))

    def edit(layers):
        layers["tokens"]["config"]["batch_shape"] = [None, 5, 12]
    folder = _edited(model, tmp_path, edit)
    _convert_fails(folder, tmp_path, "layer 'vit_encoder'",
                   "its input is float32[?, 5, 12]; it takes float32 "
                   "[batch, sequence, 16]")
