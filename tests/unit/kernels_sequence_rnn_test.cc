// RNN, UNIDIRECTIONAL_SEQUENCE_RNN and BIDIRECTIONAL_SEQUENCE_RNN against a
// double-precision h = act(W x + W_aux aux + R h + b), over random sizes,
// time-major or not, merged outputs and the auxiliary input's two uses;
// invoked more than once so the hidden state carries over.
// Tolerance: fp32 1e-5 abs + 1e-5 rel (a few steps of float rounding on
// values of order 1).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;
using BO = fb::BuiltinOperator;
using Act = fb::ActivationFunctionType;
constexpr TensorType kF32 = TensorType::FLOAT32;

struct Cell {
  int units = 1;
  std::vector<float> w, aux_w, r, b;
};

int Pick(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

Act RandomAct(std::mt19937_64& rng) {
  // SIGN_BIT is left out: it jumps at 0, where float and double may differ.
  const Act acts[] = {Act::NONE, Act::RELU, Act::RELU_N1_TO_1, Act::RELU6,
                      Act::TANH};
  return acts[Pick(rng, 0, 4)];
}

double Activate(Act a, double x) {
  switch (a) {
    case Act::RELU:
      return std::max(0.0, x);
    case Act::RELU6:
      return std::clamp(x, 0.0, 6.0);
    case Act::RELU_N1_TO_1:
      return std::clamp(x, -1.0, 1.0);
    case Act::TANH:
      return std::tanh(x);
    default:
      return x;
  }
}

// Adds weights, recurrent weights, bias and the hidden state variable.
std::vector<int> AddCell(OpModelBuilder& b, Cell& c, int input, int batch,
                         std::mt19937_64& rng) {
  auto add = [&](std::vector<float>& v, Shape s) {
    v = testing::RandomFloats(rng, NumElements(s), -0.6f, 0.6f);
    return b.AddConst<float>(kF32, s, v);
  };
  std::vector<int> ids = {add(c.w, {c.units, input}),
                          add(c.r, {c.units, c.units}), add(c.b, {c.units})};
  ids.push_back(b.AddTensor(kF32, {batch, c.units}, {}, {}));
  b.SetVariable(ids.back());
  return ids;
}

// One step of one row: h = act(W x + W_aux aux + R h + b), out = h.
void RefStep(const Cell& c, Act act, const float* x, int input,
             const float* aux, int aux_size, double* h, double* out) {
  std::vector<double> next(c.units);
  for (int u = 0; u < c.units; ++u) {
    double s = c.b[u];
    for (int k = 0; k < input; ++k) s += c.w[u * input + k] * x[k];
    for (int k = 0; aux && k < aux_size; ++k)
      s += c.aux_w[u * aux_size + k] * aux[k];
    for (int k = 0; k < c.units; ++k) s += c.r[u * c.units + k] * h[k];
    next[u] = Activate(act, s);
  }
  for (int u = 0; u < c.units; ++u) h[u] = out[u] = next[u];
}

// A sequence of [time, batch, .] or [batch, time, .] rows; outputs rows of
// `stride` values starting at `offset`.
void RefSequence(const Cell& c, Act act, const std::vector<float>& x, int input,
                 const std::vector<float>* aux, int aux_size, int time,
                 int batch, bool time_major, bool forward,
                 std::vector<double>& h, std::vector<double>& out, int stride,
                 int offset) {
  for (int b = 0; b < batch; ++b) {
    for (int s = 0; s < time; ++s) {
      const int t = forward ? s : time - 1 - s;
      const int row = time_major ? t * batch + b : b * time + t;
      RefStep(c, act, &x[row * input], input,
              aux ? &(*aux)[row * aux_size] : nullptr, aux_size,
              &h[b * c.units], &out[row * stride + offset]);
    }
  }
}

TEST(KernelsSequenceRnn, RnnStepMatchesDoubleReference) {
  const uint64_t seed = testing::TestSeed(31);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 8; ++iter) {
    const int batch = Pick(rng, 1, 3), input = Pick(rng, 1, 5);
    Cell c;
    c.units = Pick(rng, 1, 5);
    const Act act = RandomAct(rng);
    OpModelBuilder b;
    std::vector<int> ins = {b.AddInput(kF32, {batch, input})};
    for (int id : AddCell(b, c, input, batch, rng)) ins.push_back(id);
    b.AddOp(BO::RNN, ins, {b.AddOutput(kF32)}, fb::BuiltinOptions::RNNOptions,
            [=](FBB& f) { return fb::CreateRNNOptions(f, act).Union(); });
    auto model = LiteRTModel::Load(b.Finish());
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<double> h(batch * c.units), want(batch * c.units);
    for (int call = 0; call < 3; ++call) {
      auto x = testing::RandomFloats(rng, batch * input);
      auto out = model->Predict({NDArray::Of(kF32, {batch, input}, x)});
      ASSERT_TRUE(out.ok()) << out.status().message();
      RefSequence(c, act, x, input, nullptr, 0, 1, batch, true, true, h, want,
                  c.units, 0);
      testing::ExpectNear((*out)[0], want, 1e-5, 1e-5);
    }
  }
}

TEST(KernelsSequenceRnn, UnidirectionalMatchesDoubleReference) {
  const uint64_t seed = testing::TestSeed(32);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 10; ++iter) {
    const int batch = Pick(rng, 1, 3), time = Pick(rng, 1, 5),
              input = Pick(rng, 1, 4);
    const bool tm = Pick(rng, 0, 1);
    Cell c;
    c.units = Pick(rng, 1, 5);
    const Act act = RandomAct(rng);
    SCOPED_TRACE("batch " + std::to_string(batch) + " time " +
                 std::to_string(time) + " time_major " + std::to_string(tm));
    const Shape xs = tm ? Shape{time, batch, input} : Shape{batch, time, input};
    OpModelBuilder b;
    std::vector<int> ins = {b.AddInput(kF32, xs)};
    for (int id : AddCell(b, c, input, batch, rng)) ins.push_back(id);
    b.AddOp(BO::UNIDIRECTIONAL_SEQUENCE_RNN, ins, {b.AddOutput(kF32)},
            fb::BuiltinOptions::SequenceRNNOptions, [=](FBB& f) {
              return fb::CreateSequenceRNNOptions(f, tm, act).Union();
            });
    auto model = LiteRTModel::Load(b.Finish());
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<double> h(batch * c.units), want(batch * time * c.units);
    for (int call = 0; call < 2; ++call) {
      auto x = testing::RandomFloats(rng, NumElements(xs));
      auto out = model->Predict({NDArray::Of(kF32, xs, x)});
      ASSERT_TRUE(out.ok()) << out.status().message();
      RefSequence(c, act, x, input, nullptr, 0, time, batch, tm, true, h, want,
                  c.units, 0);
      testing::ExpectNear((*out)[0], want, 1e-5, 1e-5);
    }
  }
}

enum class Aux { kNone, kWithWeights, kBackwardInput };

TEST(KernelsSequenceRnn, BidirectionalMatchesDoubleReference) {
  const uint64_t seed = testing::TestSeed(33);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 18; ++iter) {
    const int batch = Pick(rng, 1, 3), time = Pick(rng, 1, 4),
              input = Pick(rng, 1, 4);
    const bool tm = Pick(rng, 0, 1), merge = iter % 2;
    const Aux aux = static_cast<Aux>(iter % 3);
    // Time-major, LiteRT steps through the aux input with the input's width.
    const int aux_size =
        aux == Aux::kWithWeights && !tm ? Pick(rng, 1, 3) : input;
    Cell fw, bw;
    fw.units = Pick(rng, 1, 4);
    bw.units = Pick(rng, 1, 4);
    const Act act = RandomAct(rng);
    SCOPED_TRACE("iter " + std::to_string(iter) + " time_major " +
                 std::to_string(tm) + " merge " + std::to_string(merge));
    auto seq = [&](int last) {
      return tm ? Shape{time, batch, last} : Shape{batch, time, last};
    };
    OpModelBuilder b;
    std::vector<int> ins = {b.AddInput(kF32, seq(input))};
    for (Cell* c : {&fw, &bw})
      for (int id : AddCell(b, *c, input, batch, rng)) ins.push_back(id);
    ins.push_back(aux == Aux::kNone ? -1 : b.AddInput(kF32, seq(aux_size)));
    for (Cell* c : {&fw, &bw}) {
      if (aux != Aux::kWithWeights) {
        ins.push_back(-1);
        continue;
      }
      c->aux_w = testing::RandomFloats(rng, c->units * aux_size, -0.6f, 0.6f);
      ins.push_back(b.AddConst<float>(kF32, {c->units, aux_size}, c->aux_w));
    }
    std::vector<int> outs = {b.AddOutput(kF32)};
    if (!merge) outs.push_back(b.AddOutput(kF32));
    b.AddOp(BO::BIDIRECTIONAL_SEQUENCE_RNN, ins, outs,
            fb::BuiltinOptions::BidirectionalSequenceRNNOptions, [=](FBB& f) {
              return fb::CreateBidirectionalSequenceRNNOptions(f, tm, act,
                                                               merge)
                  .Union();
            });
    auto model = LiteRTModel::Load(b.Finish());
    ASSERT_TRUE(model.ok()) << model.status().message();
    const int rows = batch * time;
    std::vector<double> fh(batch * fw.units), bh(batch * bw.units);
    for (int call = 0; call < 2; ++call) {
      auto x = testing::RandomFloats(rng, rows * input);
      std::vector<NDArray> in = {NDArray::Of(kF32, seq(input), x)};
      std::vector<float> a;
      if (aux != Aux::kNone) {
        a = testing::RandomFloats(rng, rows * aux_size);
        in.push_back(NDArray::Of(kF32, seq(aux_size), a));
      }
      auto out = model->Predict(in);
      ASSERT_TRUE(out.ok()) << out.status().message();
      const std::vector<float>* real_aux =
          aux == Aux::kWithWeights ? &a : nullptr;
      const int n_aux = real_aux ? aux_size : 0;
      // An aux input without weights feeds the backward cell, but LiteRT
      // only reads it there when time-major.
      const std::vector<float>& bw_x = aux == Aux::kBackwardInput && tm ? a : x;
      const int fw_stride = merge ? fw.units + bw.units : fw.units;
      std::vector<double> y1(rows * fw_stride), y2(rows * bw.units);
      RefSequence(fw, act, x, input, real_aux, n_aux, time, batch, tm, true, fh,
                  y1, fw_stride, 0);
      RefSequence(bw, act, bw_x, input, real_aux, n_aux, time, batch, tm, false,
                  bh, merge ? y1 : y2, merge ? fw_stride : bw.units,
                  merge ? fw.units : 0);
      ASSERT_EQ(out->size(), merge ? 1u : 2u);
      testing::ExpectNear((*out)[0], y1, 1e-5, 1e-5);
      if (!merge) testing::ExpectNear((*out)[1], y2, 1e-5, 1e-5);
    }
  }
}

// --- Rejections at load ------------------------------------------------------

// A valid UNIDIRECTIONAL_SEQUENCE_RNN (batch 2, time 3, input 4, units 5)
// whose inputs `edit` may change.
std::string LoadError(
    const std::function<void(OpModelBuilder&, std::vector<int>&)>& edit) {
  std::mt19937_64 rng(1);
  Cell c;
  c.units = 5;
  OpModelBuilder b;
  std::vector<int> ins = {b.AddInput(kF32, {2, 3, 4})};
  for (int id : AddCell(b, c, 4, 2, rng)) ins.push_back(id);
  edit(b, ins);
  b.AddOp(BO::UNIDIRECTIONAL_SEQUENCE_RNN, ins, {b.AddOutput(kF32)});
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "loaded" : model.status().message();
}

void ExpectLoadError(
    const std::function<void(OpModelBuilder&, std::vector<int>&)>& edit,
    const std::string& fragment) {
  std::string msg = LoadError(edit);
  EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
}

TEST(KernelsSequenceRnnRejects, BadTensors) {
  EXPECT_EQ(LoadError([](OpModelBuilder&, std::vector<int>&) {}), "loaded");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[4] = b.AddTensor(kF32, {2, 5}, {}, {});
      },
      "hidden_state 't");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[4] = b.AddTensor(kF32, {2, 5}, {}, {});
      },
      "is not a variable tensor");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[2] = b.AddConst<float>(kF32, {5, 4}, std::vector<float>(20));
      },
      "recurrent_weights (input 2, 't");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[2] = b.AddConst<float>(kF32, {5, 4}, std::vector<float>(20));
      },
      "has shape [5, 4] but [5, 5] is expected");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[1] = b.AddConst<int8_t>(TensorType::INT8, {5, 4},
                                    std::vector<int8_t>(20));
      },
      "only float32 RNNs are supported");
  ExpectLoadError(
      [](OpModelBuilder& b, std::vector<int>& ins) {
        ins[0] = b.AddInput(kF32, {2, 3});
      },
      "has rank 2 (shape [2, 3]) but this kernel takes rank 3");
}

}  // namespace
}  // namespace k2l::runtime
