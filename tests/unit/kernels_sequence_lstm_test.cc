// UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM and LSTM against
// the double-precision LSTM of lstm_test_reference.h, over random sizes and
// every variant (CIFG, peephole, projection, layer norm, diagonal recurrence,
// time-major, clipping, auxiliary input), invoked twice so the state carries
// over. Tolerance: fp32 1e-5 abs + 1e-5 rel (a few steps of float rounding on
// values of order 1); 1e-4 with layer norm, which divides each gate's sums by
// their standard deviation and so magnifies their rounding when few cells
// have close values.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>

#include "lstm_test_reference.h"

namespace k2l::runtime {
namespace {

using namespace testing::lstm;  // NOLINT: the reference LSTM of these tests
using testing::FBB;
using testing::OpModelBuilder;

std::vector<uint8_t> UniModel(const Config& c, Weights& w, std::mt19937_64& rng,
                              bool plain = false) {
  OpModelBuilder b;
  Shape sig = SeqShape(c, c.input);
  sig[c.time_major ? 0 : 1] = -1;  // the sequence length may change
  int x = plain ? b.AddInput(kF32, {c.batch, c.input})
                : b.AddInput(kF32, SeqShape(c, c.input), sig);
  std::vector<int> ins = {x};
  for (int id : AddCell(b, c, w, rng)) ins.push_back(id);
  int h = b.AddTensor(kF32, {c.batch, c.outputs()}, {}, {});
  int cell = b.AddTensor(kF32, {c.batch, c.cells}, {}, {});
  b.SetVariable(h);
  b.SetVariable(cell);
  ins.push_back(h);
  ins.push_back(cell);
  for (int id : AddLayerNorm(b, c, w, rng)) ins.push_back(id);
  int y = b.AddOutput(kF32);
  if (plain) {
    b.AddOp(BO::LSTM, ins, {y}, fb::BuiltinOptions::LSTMOptions, [c](FBB& f) {
      return fb::CreateLSTMOptions(f, c.act, c.cell_clip, c.proj_clip).Union();
    });
  } else {
    b.AddOp(
        BO::UNIDIRECTIONAL_SEQUENCE_LSTM, ins, {y},
        fb::BuiltinOptions::UnidirectionalSequenceLSTMOptions,
        [c](FBB& f) {
          return fb::CreateUnidirectionalSequenceLSTMOptions(
                     f, c.act, c.cell_clip, c.proj_clip, c.time_major, false,
                     c.diagonal)
              .Union();
        },
        c.diagonal ? 4 : 1);
  }
  return b.Finish();
}

TEST(KernelsSequenceLstm, UnidirectionalMatchesDoubleReference) {
  const uint64_t seed = testing::TestSeed(21);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 24; ++iter) {
    Config c = RandomConfig(rng);
    SCOPED_TRACE(Describe(c));
    Weights w;
    auto model = LiteRTModel::Load(UniModel(c, w, rng));
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<double> h(c.batch * c.outputs()), cell(c.batch * c.cells);
    // Twice: the second invocation starts from the first one's state.
    for (int call = 0; call < 2; ++call) {
      auto x = RandomInput(rng, c, c.input);
      auto out = model->Predict({NDArray::Of(kF32, SeqShape(c, c.input), x)});
      ASSERT_TRUE(out.ok()) << out.status().message();
      std::vector<double> want(c.batch * c.time * c.outputs());
      RefSequence(c, w, x, nullptr, 0, true, h, cell, want, c.outputs(), 0);
      EXPECT_EQ((*out)[0].shape, SeqShape(c, c.outputs()));
      testing::ExpectNear((*out)[0], want, Tol(c), 1e-5);
    }
  }
}

TEST(KernelsSequenceLstm, PlainLstmIsOneTimeMajorStep) {
  const uint64_t seed = testing::TestSeed(22);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 8; ++iter) {
    Config c = RandomConfig(rng);
    c.time = 1;
    c.time_major = true;
    c.diagonal = false;
    SCOPED_TRACE(Describe(c));
    Weights w;
    auto model = LiteRTModel::Load(UniModel(c, w, rng, /*plain=*/true));
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<double> h(c.batch * c.outputs()), cell(c.batch * c.cells);
    for (int call = 0; call < 3; ++call) {
      auto x = testing::RandomFloats(rng, c.batch * c.input);
      auto out = model->Predict({NDArray::Of(kF32, {c.batch, c.input}, x)});
      ASSERT_TRUE(out.ok()) << out.status().message();
      std::vector<double> want(c.batch * c.outputs());
      RefSequence(c, w, x, nullptr, 0, true, h, cell, want, c.outputs(), 0);
      testing::ExpectNear((*out)[0], want, Tol(c), 1e-5);
    }
  }
}

// Like LiteRT, resizing an input re-allocates, which zeroes the state.
TEST(KernelsSequenceLstm, StateResetsWhenTensorsAreReallocated) {
  std::mt19937_64 rng(testing::TestSeed(23));
  Config c;
  c.batch = 2;
  c.time = 3;
  c.input = 3;
  c.cells = 4;
  Weights w;
  auto bytes = UniModel(c, w, rng);
  auto model = LiteRTModel::Load(bytes);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto x = testing::RandomFloats(rng, 2 * 3 * 3);
  NDArray in = NDArray::Of(kF32, {2, 3, 3}, x);
  auto first = model->Predict({in});
  auto second = model->Predict({in});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE((*first)[0].data, (*second)[0].data);
  // A longer sequence re-allocates: it starts from zero state again.
  auto x4 = testing::RandomFloats(rng, 2 * 4 * 3);
  auto longer = model->Predict({NDArray::Of(kF32, {2, 4, 3}, x4)});
  ASSERT_TRUE(longer.ok()) << longer.status().message();
  std::vector<double> h(8), cell(8), want(2 * 4 * 4);
  c.time = 4;
  RefSequence(c, w, x4, nullptr, 0, true, h, cell, want, 4, 0);
  testing::ExpectNear((*longer)[0], want, 1e-5, 1e-5);
}

enum class Aux { kNone, kWithWeights, kBackwardInput };

// BIDIRECTIONAL_SEQUENCE_LSTM: 48 inputs (input, forward cell, backward
// cell, the four states, aux input, aux weights of both cells).
std::vector<uint8_t> BidiModel(const Config& c, bool merge, Aux aux, int n_aux,
                               Weights& fw, Weights& bw, std::mt19937_64& rng) {
  OpModelBuilder b;
  std::vector<int> ins = {b.AddInput(kF32, SeqShape(c, c.input))};
  for (Weights* w : {&fw, &bw})
    for (int id : AddCell(b, c, *w, rng)) ins.push_back(id);
  for (Shape s : {Shape{c.batch, c.outputs()}, Shape{c.batch, c.cells},
                  Shape{c.batch, c.outputs()}, Shape{c.batch, c.cells}}) {
    int t = b.AddTensor(kF32, s, {}, {});
    b.SetVariable(t);
    ins.push_back(t);
  }
  if (aux == Aux::kNone) {
    ins.push_back(-1);
  } else {
    ins.push_back(b.AddInput(
        kF32, SeqShape(c, aux == Aux::kWithWeights ? n_aux : c.input)));
  }
  for (Weights* w : {&fw, &bw}) {
    for (int g = 0; g < 4; ++g) {
      if (aux != Aux::kWithWeights || (g == 0 && c.cifg)) {
        ins.push_back(-1);
        continue;
      }
      w->aux[g] = testing::RandomFloats(rng, c.cells * n_aux, -0.7f, 0.7f);
      ins.push_back(b.AddConst<float>(kF32, {c.cells, n_aux}, w->aux[g]));
    }
  }
  std::vector<int> outs = {b.AddOutput(kF32)};
  if (!merge) outs.push_back(b.AddOutput(kF32));
  b.AddOp(BO::BIDIRECTIONAL_SEQUENCE_LSTM, ins, outs,
          fb::BuiltinOptions::BidirectionalSequenceLSTMOptions, [=](FBB& f) {
            return fb::CreateBidirectionalSequenceLSTMOptions(
                       f, c.act, c.cell_clip, c.proj_clip, merge, c.time_major)
                .Union();
          });
  return b.Finish();
}

TEST(KernelsSequenceLstm, BidirectionalMatchesDoubleReference) {
  const uint64_t seed = testing::TestSeed(24);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 18; ++iter) {
    Config c = RandomConfig(rng);
    c.layer_norm = c.diagonal = false;
    const bool merge = iter % 2 == 0;
    const Aux aux = static_cast<Aux>(iter % 3);
    const int n_aux = std::uniform_int_distribution<int>(1, 3)(rng);
    SCOPED_TRACE(Describe(c) + " merge " + std::to_string(merge) + " aux " +
                 std::to_string(iter % 3));
    Weights fw, bw;
    auto model =
        LiteRTModel::Load(BidiModel(c, merge, aux, n_aux, fw, bw, rng));
    ASSERT_TRUE(model.ok()) << model.status().message();
    const int o = c.outputs(), rows = c.batch * c.time;
    std::vector<double> fh(c.batch * o), fc(c.batch * c.cells), bh = fh,
                                                                bc = fc;
    for (int call = 0; call < 2; ++call) {
      auto x = RandomInput(rng, c, c.input);
      std::vector<NDArray> in = {NDArray::Of(kF32, SeqShape(c, c.input), x)};
      const int a_last = aux == Aux::kWithWeights ? n_aux : c.input;
      std::vector<float> a;
      if (aux != Aux::kNone) {
        a = RandomInput(rng, c, a_last);
        in.push_back(NDArray::Of(kF32, SeqShape(c, a_last), a));
      }
      auto out = model->Predict(in);
      ASSERT_TRUE(out.ok()) << out.status().message();
      // Without aux weights the aux input is the backward cell's input.
      const std::vector<float>* real_aux =
          aux == Aux::kWithWeights ? &a : nullptr;
      const std::vector<float>& bw_x = aux == Aux::kBackwardInput ? a : x;
      const int n = aux == Aux::kWithWeights ? n_aux : 0;
      std::vector<double> y1(rows * (merge ? 2 * o : o)), y2(rows * o);
      RefSequence(c, fw, x, real_aux, n, true, fh, fc, y1, merge ? 2 * o : o,
                  0);
      if (merge) {
        RefSequence(c, bw, bw_x, real_aux, n, false, bh, bc, y1, 2 * o, o);
      } else {
        RefSequence(c, bw, bw_x, real_aux, n, false, bh, bc, y2, o, 0);
      }
      ASSERT_EQ(out->size(), merge ? 1u : 2u);
      testing::ExpectNear((*out)[0], y1, 1e-5, 1e-5);
      if (!merge) testing::ExpectNear((*out)[1], y2, 1e-5, 1e-5);
    }
  }
}

// --- Rejections at load ------------------------------------------------------

// A valid LSTM (batch 1, time 2, input 3, cells 4) whose inputs `edit` may
// change before the op is added.
std::string LoadError(
    const std::function<void(OpModelBuilder&, std::vector<int>&)>& edit) {
  std::mt19937_64 rng(1);
  Config c;
  c.time = 2;
  c.input = 3;
  c.cells = 4;
  Weights w;
  OpModelBuilder b;
  std::vector<int> ins = {b.AddInput(kF32, {1, 2, 3})};
  for (int id : AddCell(b, c, w, rng)) ins.push_back(id);
  for (int i = 0; i < 2; ++i) {
    ins.push_back(b.AddTensor(kF32, {1, 4}, {}, {}));
    b.SetVariable(ins.back());
  }
  edit(b, ins);
  b.AddOp(BO::UNIDIRECTIONAL_SEQUENCE_LSTM, ins, {b.AddOutput(kF32)});
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "loaded" : model.status().message();
}

void ExpectLoadError(
    const std::function<void(OpModelBuilder&, std::vector<int>&)>& edit,
    const std::string& fragment) {
  std::string msg = LoadError(edit);
  EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
}

TEST(KernelsSequenceLstmRejects, StateTensors) {
  EXPECT_EQ(LoadError([](OpModelBuilder&, std::vector<int>&) {}), "loaded");
  // LiteRT refuses a variable with data ("not supported now").
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[18] = b.AddTensor(kF32, {1, 4}, std::vector<uint8_t>(16), {});
        b.SetVariable(ins[18]);
      },
      "is a variable tensor with initial data");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[19] = b.AddTensor(kF32, {1, 4}, {}, {});
      },
      "cell_state (input 19, 't");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[19] = b.AddTensor(kF32, {1, 4}, {}, {});
      },
      "is not a variable tensor");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[18] = b.AddTensor(kF32, {1, 5}, {}, {});
        b.SetVariable(ins[18]);
      },
      "has shape [1, 5] but must hold 4 values");
}

TEST(KernelsSequenceLstmRejects, WeightsThatDisagree) {
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[2] = b.AddConst<float>(kF32, {4, 2}, std::vector<float>(8));
      },
      "input_to_forget_weights (input 2, 't");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[2] = b.AddConst<float>(kF32, {4, 2}, std::vector<float>(8));
      },
      "has shape [4, 2] but [4, 3] is expected");
  ExpectLoadError([](OpModelBuilder&, std::vector<int>& ins) { ins[5] = -1; },
                  "must all be present (LSTM) or all be absent (CIFG)");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[3] = b.AddConst<int8_t>(TensorType::INT8, {4, 3},
                                    std::vector<int8_t>(12));
      },
      "only float32 LSTMs are supported");
  ExpectLoadError(
      [](OpModelBuilder&, std::vector<int>& ins) { ins.pop_back(); },
      "the LSTM takes 20 or 24");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[17] = b.AddConst<float>(kF32, {4}, std::vector<float>(4));
      },
      "projection_bias is given without projection_weights");
}

}  // namespace
}  // namespace k2l::runtime
