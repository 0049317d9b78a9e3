#include "litert/writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "litert/inspect.h"
#include "litert/op_table.h"
#include "litert/schema_generated.h"
#include "runtime/litert_model.h"

namespace k2l::litert {
namespace {

using ir::DType;
using ir::Graph;
using ir::kDynamic;
using ir::OpKind;
using ir::ValueId;

Graph TwoDenseWithSharedWeights() {
  Graph g;
  ValueId x = g.AddInput("features", DType::kFloat32, {kDynamic, 2});
  ValueId w1 = g.AddFloatConstant({1, 2, 3, 4}, {2, 2}, "w1");
  ValueId w2 = g.AddFloatConstant({1, 2, 3, 4}, {2, 2}, "w2");  // same bytes
  ValueId a = *g.Add(OpKind::kFullyConnected, {x, w1, ir::kNoValue},
                     ir::FullyConnectedAttrs{}, "d1");
  ValueId b = *g.Add(OpKind::kFullyConnected, {a, w2, ir::kNoValue},
                     ir::FullyConnectedAttrs{ir::Activation::kRelu}, "d2");
  ValueId c = *g.Add(OpKind::kGelu, {b}, ir::GeluAttrs{true}, "g");
  g.outputs().push_back({"logits", c});
  return g;
}

TEST(Writer, RoundTripThroughTheGeneratedReader) {
  Graph g = TwoDenseWithSharedWeights();
  WriteStats stats;
  auto bytes = Serialize(g, &stats);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  flatbuffers::Verifier v(bytes->data(), bytes->size());
  ASSERT_TRUE(fb::VerifyModelBuffer(v));
  ASSERT_TRUE(fb::ModelBufferHasIdentifier(bytes->data()));
  const fb::Model* m = fb::GetModel(bytes->data());
  EXPECT_EQ(m->version(), 3u);

  // Opcodes are deduplicated; GELU (code 150) keeps 127 in the int8 field.
  ASSERT_EQ(m->operator_codes()->size(), 2u);
  for (const fb::OperatorCode* oc : *m->operator_codes()) {
    int code = static_cast<int>(oc->builtin_code());
    EXPECT_EQ(oc->deprecated_builtin_code(), std::min(code, 127));
  }
  EXPECT_EQ(m->operator_codes()->Get(1)->builtin_code(),
            fb::BuiltinOperator::GELU);

  // buffers[0] is empty; identical weights share one buffer, 16-byte aligned.
  const auto* buffers = m->buffers();
  EXPECT_TRUE(buffers->Get(0)->data() == nullptr ||
              buffers->Get(0)->data()->size() == 0);
  const fb::SubGraph* sg = m->subgraphs()->Get(0);
  std::set<uint32_t> weight_buffers;
  for (const fb::Operator* op : *sg->operators()) {
    if (op->inputs()->size() > 1)
      weight_buffers.insert(sg->tensors()->Get(op->inputs()->Get(1))->buffer());
  }
  ASSERT_EQ(weight_buffers.size(), 1u);
  const auto* data = buffers->Get(*weight_buffers.begin())->data();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(data->data()) % 16, 0u);
  EXPECT_EQ(data->size(), 16u);

  // Options survive.
  const fb::Operator* d2 = sg->operators()->Get(1);
  ASSERT_EQ(d2->builtin_options_type(),
            fb::BuiltinOptions::FullyConnectedOptions);
  EXPECT_EQ(d2->builtin_options_as_FullyConnectedOptions()
                ->fused_activation_function(),
            fb::ActivationFunctionType::RELU);
  EXPECT_TRUE(
      sg->operators()->Get(2)->builtin_options_as_GeluOptions()->approximate());

  // Dynamic batch: shape 1, signature -1.
  const fb::Tensor* in = sg->tensors()->Get(sg->inputs()->Get(0));
  EXPECT_EQ(in->name()->str(), "features");
  EXPECT_EQ(in->shape()->Get(0), 1);
  EXPECT_EQ(in->shape_signature()->Get(0), -1);

  // One serving_default signature with the port names.
  ASSERT_EQ(m->signature_defs()->size(), 1u);
  const fb::SignatureDef* sig = m->signature_defs()->Get(0);
  EXPECT_EQ(sig->signature_key()->str(), "serving_default");
  EXPECT_EQ(sig->inputs()->Get(0)->name()->str(), "features");
  EXPECT_EQ(sig->outputs()->Get(0)->name()->str(), "logits");
  EXPECT_EQ(sig->outputs()->Get(0)->tensor_index(), sg->outputs()->Get(0));

  // min_runtime_version reflects the newest op (GELU).
  ASSERT_EQ(m->metadata()->size(), 1u);
  EXPECT_EQ(m->metadata()->Get(0)->name()->str(), "min_runtime_version");
  const auto* rt = buffers->Get(m->metadata()->Get(0)->buffer())->data();
  EXPECT_STREQ(reinterpret_cast<const char*>(rt->data()), "2.9.0");
  EXPECT_EQ(stats.op_counts["FULLY_CONNECTED"], 2);
}

TEST(OpTable, HasOneRowPerOpInOrder) {
#define K2L_OP(name, attrs) \
  EXPECT_EQ(LookupOp(ir::OpKind::k##name).kind, ir::OpKind::k##name) << #name;
#include "ir/ops.def"
#undef K2L_OP
}

TEST(Inspect, DescribesOurFileAndRejectsGarbage) {
  Graph g = TwoDenseWithSharedWeights();
  auto bytes = Serialize(g, nullptr);
  ASSERT_TRUE(bytes.ok());
  auto text = DescribeModel(*bytes, "m.tflite");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("FULLY_CONNECTED v1"), std::string::npos) << *text;
  EXPECT_NE(text->find("serving_default"), std::string::npos);
  EXPECT_NE(text->find("min_runtime_version = 2.9.0"), std::string::npos);

  std::vector<uint8_t> truncated(bytes->begin(),
                                 bytes->begin() + bytes->size() / 2);
  auto bad = DescribeModel(truncated, "half.tflite");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a valid LiteRT model"),
            std::string::npos);
  std::vector<uint8_t> wrong_id = *bytes;
  wrong_id[4] = 'X';
  EXPECT_FALSE(DescribeModel(wrong_id, "id.tflite").ok());
}

TEST(WriteFileAtomically, LeavesNothingBehindOnFailure) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "k2l_writer_test";
  fs::remove_all(dir);
  Status s = WriteFileAtomically((dir / "out.tflite").string(), {1, 2, 3});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir));

  fs::create_directories(dir);
  ASSERT_TRUE(
      WriteFileAtomically((dir / "out.tflite").string(), {1, 2, 3}).ok());
  EXPECT_EQ(fs::file_size(dir / "out.tflite"), 3u);
  // A folder in the way: the rename fails and the temporary is removed.
  fs::create_directories(dir / "taken.tflite" / "x");
  EXPECT_FALSE(WriteFileAtomically((dir / "taken.tflite").string(), {1}).ok());
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(dir))
    entries += e.path().filename().string()[0] == '.';
  EXPECT_EQ(entries, 0u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace k2l::litert

namespace k2l::litert {
namespace {

// A counting loop: while (i < n) { i = i + 1; acc = acc * 2 }.
ir::Graph CountingLoop() {
  Graph g;
  ValueId n = g.AddInput("n", DType::kInt32, {});
  ValueId acc = g.AddInput("acc", DType::kFloat32, {kDynamic, 3});
  int cond = g.AddSubgraph("cond");
  int body = g.AddSubgraph("body");
  for (int s : {cond, body}) {
    Graph& sg = g.subgraph(s);
    sg.AddInput("i", DType::kInt32, {});
    sg.AddInput("n", DType::kInt32, {});
    sg.AddInput("acc", DType::kFloat32, {kDynamic, 3});
  }
  {
    Graph& c = g.subgraph(cond);
    ValueId less =
        *c.Add(OpKind::kLess, {c.inputs()[0].value, c.inputs()[1].value},
               ir::NoAttrs{}, "less");
    c.outputs().push_back({"continue", less});
  }
  {
    Graph& b = g.subgraph(body);
    ValueId one = b.AddConstant(
        ir::TensorData::FromVector(DType::kInt32, {}, std::vector<int32_t>{1}),
        "one");
    ValueId i2 = *b.Add(OpKind::kAdd, {b.inputs()[0].value, one},
                        ir::BinaryAttrs{}, "inc");
    ValueId two = b.AddScalarFloat(2.0f, "two");
    ValueId a2 = *b.Add(OpKind::kMul, {b.inputs()[2].value, two},
                        ir::BinaryAttrs{}, "double");
    b.outputs().push_back({"i", i2});
    b.outputs().push_back({"n", b.inputs()[1].value});
    b.outputs().push_back({"acc", a2});
  }
  ValueId zero = g.AddConstant(
      ir::TensorData::FromVector(DType::kInt32, {}, std::vector<int32_t>{0}),
      "zero");
  auto outs = g.AddOp(OpKind::kWhile, {zero, n, acc},
                      ir::WhileAttrs{cond, body}, "loop");
  EXPECT_TRUE(outs.ok()) << outs.status().message();
  g.outputs().push_back({"result", (*outs)[2]});
  return g;
}

TEST(Writer, WritesWhileSubgraphs) {
  Graph g = CountingLoop();
  ASSERT_TRUE(ir::Verify(g).ok());
  auto bytes = Serialize(g, nullptr);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  flatbuffers::Verifier v(bytes->data(), bytes->size());
  ASSERT_TRUE(fb::VerifyModelBuffer(v));
  const fb::Model* m = fb::GetModel(bytes->data());
  ASSERT_EQ(m->subgraphs()->size(), 3u);
  EXPECT_EQ(m->subgraphs()->Get(1)->name()->str(), "cond");
  EXPECT_EQ(m->subgraphs()->Get(2)->name()->str(), "body");
  // The body's pass-through output is its input tensor.
  const fb::SubGraph* b = m->subgraphs()->Get(2);
  EXPECT_EQ(b->outputs()->Get(1), b->inputs()->Get(1));
  const fb::Operator* w = m->subgraphs()->Get(0)->operators()->Get(0);
  ASSERT_EQ(w->builtin_options_type(), fb::BuiltinOptions::WhileOptions);
  EXPECT_EQ(w->builtin_options_as_WhileOptions()->cond_subgraph_index(), 1);
  EXPECT_EQ(w->builtin_options_as_WhileOptions()->body_subgraph_index(), 2);
  // Only the main graph has a signature.
  EXPECT_EQ(m->signature_defs()->size(), 1u);
  EXPECT_EQ(m->signature_defs()->Get(0)->subgraph_index(), 0u);
}

TEST(Writer, WhileRejectsMismatchedLoopVariables) {
  Graph g = CountingLoop();
  // A fourth loop variable the subgraphs do not take.
  ValueId extra = g.AddScalarFloat(1.0f, "extra");
  auto r = g.AddOp(
      OpKind::kWhile,
      {g.inputs()[0].value, g.inputs()[0].value, g.inputs()[1].value, extra},
      ir::WhileAttrs{1, 2}, "bad");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("loop variables"), std::string::npos);
  // A loop variable of the wrong dtype.
  r = g.AddOp(OpKind::kWhile,
              {g.inputs()[0].value, g.inputs()[0].value, g.inputs()[0].value},
              ir::WhileAttrs{1, 2}, "bad2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("loop variable 2"), std::string::npos);
  // Subgraph indices out of range.
  r = g.AddOp(OpKind::kWhile, {g.inputs()[0].value}, ir::WhileAttrs{1, 7},
              "bad3");
  ASSERT_FALSE(r.ok());
}

// NON_MAX_SUPPRESSION_V5 with a constant max_output_size (static outputs)
// or a computed one (dynamic outputs), run back through our runtime.
Graph NmsGraph(bool constant_max_size) {
  Graph g;
  ValueId boxes = g.AddInput("boxes", DType::kFloat32, {3, 4});
  ValueId scores = g.AddInput("scores", DType::kFloat32, {3});
  ValueId max_size =
      constant_max_size
          ? g.AddConstant(ir::TensorData::FromVector(DType::kInt32, {},
                                                     std::vector<int32_t>{2}),
                          "max_size")
          : g.AddInput("max_size", DType::kInt32, {});
  auto outs =
      g.AddOp(OpKind::kNonMaxSuppressionV5,
              {boxes, scores, max_size, g.AddScalarFloat(0.5f, "iou"),
               g.AddScalarFloat(0.f, "score"), g.AddScalarFloat(0.f, "sigma")},
              ir::NoAttrs{}, "nms");
  EXPECT_TRUE(outs.ok()) << outs.status().message();
  g.outputs().push_back({"selected_indices", (*outs)[0]});
  g.outputs().push_back({"selected_scores", (*outs)[1]});
  g.outputs().push_back({"valid_outputs", (*outs)[2]});
  return g;
}

TEST(Writer, NonMaxSuppressionV5RoundTrip) {
  for (bool constant_max_size : {true, false}) {
    SCOPED_TRACE(constant_max_size ? "constant max_output_size"
                                   : "computed max_output_size");
    Graph g = NmsGraph(constant_max_size);
    ASSERT_TRUE(ir::Verify(g).ok());
    auto bytes = Serialize(g, nullptr);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    flatbuffers::Verifier v(bytes->data(), bytes->size());
    ASSERT_TRUE(fb::VerifyModelBuffer(v));
    const fb::Model* m = fb::GetModel(bytes->data());
    ASSERT_EQ(m->operator_codes()->size(), 1u);
    const fb::OperatorCode* oc = m->operator_codes()->Get(0);
    EXPECT_EQ(oc->builtin_code(), fb::BuiltinOperator::NON_MAX_SUPPRESSION_V5);
    EXPECT_EQ(oc->deprecated_builtin_code(), 121);
    EXPECT_EQ(oc->version(), 1);
    const fb::SubGraph* sg = m->subgraphs()->Get(0);
    EXPECT_EQ(sg->operators()->Get(0)->builtin_options_type(),
              fb::BuiltinOptions::NonMaxSuppressionV5Options);
    const fb::Tensor* idx = sg->tensors()->Get(sg->outputs()->Get(0));
    const fb::Tensor* valid = sg->tensors()->Get(sg->outputs()->Get(2));
    EXPECT_EQ(idx->type(), fb::TensorType::INT32);
    EXPECT_EQ(valid->shape()->size(), 0u);
    if (constant_max_size) {
      EXPECT_EQ(idx->shape()->Get(0), 2);
      EXPECT_EQ(idx->shape_signature(), nullptr);
    } else {
      ASSERT_NE(idx->shape_signature(), nullptr);
      EXPECT_EQ(idx->shape_signature()->Get(0), -1);
    }
    const auto* rt = m->buffers()->Get(m->metadata()->Get(0)->buffer())->data();
    EXPECT_STREQ(reinterpret_cast<const char*>(rt->data()), "2.1.0");

    // Boxes 0 and 1 overlap (IoU 0.9 / 1.1); box 2 is apart.
    auto model = runtime::LiteRTModel::Load(*bytes);
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<runtime::NDArray> in = {
        runtime::NDArray::Of(
            runtime::TensorType::FLOAT32, {3, 4},
            std::vector<float>{0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 5, 1, 6}),
        runtime::NDArray::Of(runtime::TensorType::FLOAT32, {3},
                             std::vector<float>{0.8f, 0.9f, 0.1f})};
    if (!constant_max_size) {
      in.push_back(runtime::NDArray::Of(runtime::TensorType::INT32, {},
                                        std::vector<int32_t>{2}));
    }
    auto out = model->Predict(in);
    ASSERT_TRUE(out.ok()) << out.status().message();
    ASSERT_EQ(out->size(), 3u);
    ASSERT_EQ((*out)[0].shape, (runtime::Shape{2}));
    EXPECT_EQ((*out)[0].as<int32_t>()[0], 1);
    EXPECT_EQ((*out)[0].as<int32_t>()[1], 2);
    EXPECT_EQ((*out)[1].as<float>()[1], 0.1f);
    EXPECT_EQ(*(*out)[2].as<int32_t>(), 2);
  }
}

}  // namespace
}  // namespace k2l::litert
