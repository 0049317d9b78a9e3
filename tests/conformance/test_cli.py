"""The CLI's summary, inspect, --dump-ir and the generated layer docs."""
from pathlib import Path

import keras
import pytest

from harness import REPO, run_cli


def _model(tmp_path):
    x = keras.Input((4,), name="features")
    y = keras.layers.Dense(3, activation="relu", name="hidden")(x)
    model = keras.Model(x, keras.layers.Dense(2, name="logits")(y))
    src = tmp_path / "m.keras"
    model.save(src)
    return src


def test_convert_prints_summary(tmp_path):
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", _model(tmp_path), "-o", out, check=True)
    assert "FULLY_CONNECTEDx2" in proc.stdout
    assert "input  features: float32[?, 4]" in proc.stdout
    assert "output logits: float32[?, 2]" in proc.stdout
    for stage in ("read", "lower", "optimize", "write"):
        assert f" {stage} " in proc.stdout


def test_input_shape_fixes_dimensions(tmp_path):
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", _model(tmp_path), "-o", out,
                   "--input-shape", "features=3,4", check=True)
    assert "input  features: float32[3, 4]" in proc.stdout
    # Unnamed is fine for the only input; ? keeps a dimension dynamic.
    proc = run_cli("convert", _model(tmp_path), "-o", out,
                   "--input-shape", "?,4", check=True)
    assert "input  features: float32[?, 4]" in proc.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--input-shape", "features=1,5"],
     "gives dimension 1 as 5 but the model fixes it to 4"),
    (["--input-shape", "1,4,1"], "has rank 3"),
    (["--input-shape", "other=1,4"], "names 'other', which is not an input"),
    (["--input-shape", "features=1,x"], "'x' is not a dimension"),
    (["--input-shape", "features=0,4"], "'0' is not a dimension"),
    (["--input-shape", "1,4", "--input-shape", "features=1,4"],
     "only allowed for a model with one input"),
])
def test_input_shape_rejections(tmp_path, args, fragment):
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", _model(tmp_path), "-o", out, *args)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert not out.exists()


def test_dump_ir_shows_each_pass(tmp_path):
    out = tmp_path / "m.tflite"
    proc = run_cli("convert", _model(tmp_path), "-o", out, "--dump-ir", check=True)
    for p in ("lower", "fold_constants", "fuse_activation", "eliminate_dead"):
        assert f"=== IR after {p} ===" in proc.stderr
    # The ReLU is its own op after lowering and fused away at the end.
    last = proc.stderr.split("=== IR after eliminate_dead ===")[1]
    assert "Relu" not in last and "FullyConnected" in last


def test_inspect_our_file(tmp_path):
    out = tmp_path / "m.tflite"
    run_cli("convert", _model(tmp_path), "-o", out, check=True)
    proc = run_cli("inspect", out, check=True)
    assert "FULLY_CONNECTED v1: 2" in proc.stdout
    assert "'serving_default'" in proc.stdout
    assert "input  features" in proc.stdout and "output logits" in proc.stdout
    assert "signature=[-1, 4]" in proc.stdout
    assert "min_runtime_version" in proc.stdout
    # Per-op cost at the prepared shapes (batch 1): Dense 4->3 is 12
    # multiply-adds, 24 FLOPs; Dense 3->2 is 12 FLOPs.
    assert "cost of subgraph 0" in proc.stdout
    lines = [l for l in proc.stdout.splitlines() if "FULLY_CONNECTED " in l
             and "[1, " in l]
    assert [l.split("]")[1].split()[0] for l in lines] == ["24", "12"], lines
    assert "total: 36 FLOPs" in proc.stdout


def test_inspect_without_a_kernel_still_describes(tmp_path):
    """A model the runtime cannot prepare is still described, and says why
    its cost is missing."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s
    m = s.ModelT()
    m.version = 3
    m.buffers = [s.BufferT()]
    t_in, t_out = s.TensorT(), s.TensorT()
    t_in.shape, t_in.name, t_in.type = [1, 4], b"x", s.TensorType.FLOAT32
    t_out.shape, t_out.name, t_out.type = [1, 4], b"y", s.TensorType.FLOAT32
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    sg = s.SubGraphT()
    sg.tensors, sg.inputs, sg.outputs, sg.operators = [t_in, t_out], [0], [1], [op]
    m.subgraphs = [sg]
    code = s.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = \
        s.BuiltinOperator.SVDF, s.BuiltinOperator.SVDF, 1
    m.operatorCodes = [code]
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), b"TFL3")
    path = tmp_path / "svdf.tflite"
    path.write_bytes(b.Output())
    proc = run_cli("inspect", path, check=True)
    assert "SVDF v1: 1" in proc.stdout
    assert "cost: not available" in proc.stdout
    assert "SVDF version 1 (operator #0)" in proc.stdout


def _foreign_tflite(path):
    """A model written with LiteRT's own Python schema bindings, not by us:
    y = x + c, with a named signature, in the layout TensorFlow writes
    (one buffer per tensor, no shape_signature)."""
    import flatbuffers
    import numpy as np
    from ai_edge_litert import schema_py_generated as s

    b = flatbuffers.Builder(1024)
    const = np.arange(4, dtype="<f4").tobytes()

    def buffer(data):
        vec = b.CreateByteVector(data) if data else None
        s.BufferStart(b)
        if vec is not None:
            s.BufferAddData(b, vec)
        return s.BufferEnd(b)

    def tensor(name, buf):
        n = b.CreateString(name)
        shape = b.CreateNumpyVector(np.array([1, 4], dtype="<i4"))
        s.TensorStart(b)
        s.TensorAddShape(b, shape)
        s.TensorAddType(b, s.TensorType.FLOAT32)
        s.TensorAddBuffer(b, buf)
        s.TensorAddName(b, n)
        return s.TensorEnd(b)

    buffers = [buffer(None), buffer(None), buffer(const), buffer(None)]
    tensors = [tensor("x", 1), tensor("c", 2), tensor("y", 3)]
    s.AddOptionsStart(b)
    opts = s.AddOptionsEnd(b)
    ins = b.CreateNumpyVector(np.array([0, 1], dtype="<i4"))
    outs = b.CreateNumpyVector(np.array([2], dtype="<i4"))
    s.OperatorStart(b)
    s.OperatorAddOpcodeIndex(b, 0)
    s.OperatorAddInputs(b, ins)
    s.OperatorAddOutputs(b, outs)
    s.OperatorAddBuiltinOptionsType(b, s.BuiltinOptions.AddOptions)
    s.OperatorAddBuiltinOptions(b, opts)
    op = s.OperatorEnd(b)

    def vec(start, items):
        start(b, len(items))
        for it in reversed(items):
            b.PrependUOffsetTRelative(it)
        return b.EndVector()

    t_vec = vec(s.SubGraphStartTensorsVector, tensors)
    o_vec = vec(s.SubGraphStartOperatorsVector, [op])
    sg_in = b.CreateNumpyVector(np.array([0], dtype="<i4"))
    sg_out = b.CreateNumpyVector(np.array([2], dtype="<i4"))
    s.SubGraphStart(b)
    s.SubGraphAddTensors(b, t_vec)
    s.SubGraphAddInputs(b, sg_in)
    s.SubGraphAddOutputs(b, sg_out)
    s.SubGraphAddOperators(b, o_vec)
    sg = s.SubGraphEnd(b)
    s.OperatorCodeStart(b)
    s.OperatorCodeAddDeprecatedBuiltinCode(b, s.BuiltinOperator.ADD)
    s.OperatorCodeAddBuiltinCode(b, s.BuiltinOperator.ADD)
    s.OperatorCodeAddVersion(b, 1)
    code = s.OperatorCodeEnd(b)
    codes = vec(s.ModelStartOperatorCodesVector, [code])
    subgraphs = vec(s.ModelStartSubgraphsVector, [sg])
    bufs = vec(s.ModelStartBuffersVector, buffers)
    desc = b.CreateString("written by LiteRT's Python schema bindings")
    s.ModelStart(b)
    s.ModelAddVersion(b, 3)
    s.ModelAddOperatorCodes(b, codes)
    s.ModelAddSubgraphs(b, subgraphs)
    s.ModelAddDescription(b, desc)
    s.ModelAddBuffers(b, bufs)
    b.Finish(s.ModelEnd(b), file_identifier=b"TFL3")
    path.write_bytes(b.Output())
    return path


def test_inspect_a_file_we_did_not_write(tmp_path):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    path = _foreign_tflite(tmp_path / "foreign.tflite")
    interp = Interpreter(model_path=str(path))  # it is a valid model
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"],
                      np.ones((1, 4), "float32"))
    interp.invoke()
    np.testing.assert_array_equal(
        interp.get_tensor(interp.get_output_details()[0]["index"]),
        [[1, 2, 3, 4]])
    proc = run_cli("inspect", path, check=True)
    assert "ADD v1: 1" in proc.stdout
    assert "'c' FLOAT32[1, 4] buffer=2 (16 bytes)" in proc.stdout
    assert "Python schema bindings" in proc.stdout


def test_supported_layers_doc_is_generated():
    proc = run_cli("layers", check=True)
    doc = REPO / "docs" / "supported_layers.md"
    assert doc.read_text() == proc.stdout, (
        "docs/supported_layers.md is stale: regenerate it with "
        "`build/release/keras2litert layers > docs/supported_layers.md`")


def test_supported_layers_doc_lists_every_keras_layer():
    """Each layer class of the pinned Keras has a row with a status."""
    import inspect

    import keras
    classes = {o.__name__ for o in vars(keras.layers).values()
               if inspect.isclass(o) and issubclass(o, keras.layers.Layer)}
    rows = {}
    text = (REPO / "docs" / "supported_layers.md").read_text()
    for line in text.split("## keras.ops")[0].splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    missing = sorted(c for c in classes if c not in rows)
    assert not missing, f"Keras layer classes without a docs row: {missing}"
    for c in classes:
        status = rows[c][1]
        assert status in ("supported", "partial", "unsupported"), rows[c]
        if status != "supported":
            assert rows[c][3], f"{c} is {status} but says not why"
