// WHILE and IF: loops that count, accumulate, grow and swap their variables;
// branches with equal and differing output shapes; and the rejections at
// load (recursion, bad indices, counts, types). The subgraphs use ADD, LESS
// and CONCATENATION; where the runtime has no kernel for one yet, a small
// stand-in from control_flow_test_util.h is used (int32/float32, scalar
// broadcasting, axis 0 concatenation only), so these tests exercise the control
// flow alone.
#include <gtest/gtest.h>

#include <cstring>

#include "control_flow_test_util.h"

namespace k2l::runtime {
namespace {

using namespace testing::control_flow;  // NOLINT: this test's helpers
using testing::FBB;
using testing::OpModelBuilder;

// WHILE (i < n) { acc += c } over acc of any shape.
std::vector<uint8_t> AccumulateModel(float c) {
  OpModelBuilder cond, body;
  CounterCond(cond, {kI32, kI32, kF32});
  std::vector<int> in;
  CounterBody(body, in, {kI32, kI32, kF32});
  int cst = body.AddConst<float>(kF32, {}, {c});
  body.AddOp(BO::ADD, {in[2], cst}, {body.AddOutput(kF32)});
  OpModelBuilder m;
  int n = m.AddInput(kI32, {});
  int acc = m.AddInput(kF32, {1, 1, 1}, {-1, -1, -1});
  int zero = m.AddConst<int32_t>(kI32, {}, {0});
  int i_out = m.AddOutput(kI32);
  int n_out = m.AddTensor(kI32, {}, {}, {});
  int acc_out = m.AddOutput(kF32);
  m.AddOp(BO::WHILE, {zero, n, acc}, {i_out, n_out, acc_out},
          fb::BuiltinOptions::WhileOptions, While(1, 2));
  m.AddSubgraph(&cond);
  m.AddSubgraph(&body);
  auto bytes = m.Finish();
  PassThrough(bytes, 2, 1, in[1]);
  return bytes;
}

TEST(KernelsWhile, CountsAndAccumulatesOverRandomShapes) {
  const uint64_t seed = testing::TestSeed(11);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (K2L_TEST_SEED replays)");
  std::mt19937_64 rng(seed);
  const float c = testing::RandomFloats(rng, 1)[0];
  auto interp = Load(AccumulateModel(c));
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  for (int iter = 0; iter < 6; ++iter) {
    const int n = std::uniform_int_distribution<int>(0, 7)(rng);
    Shape shape = testing::RandomShape(rng, 3, 1, 4);
    auto acc = testing::RandomFloats(rng, NumElements(shape));
    auto out = RunModel(**interp, {Int(n), NDArray::Of(kF32, shape, acc)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].as<int32_t>()[0], n);
    std::vector<double> want(acc.size());
    for (size_t k = 0; k < acc.size(); ++k) {
      double v = acc[k];
      for (int s = 0; s < n; ++s) v = static_cast<float>(v + c);
      want[k] = v;
    }
    EXPECT_EQ(out[1].shape, shape);
    // fp32: the loop adds in float as LiteRT does; the reference rounds the
    // same way, so only the final comparison's 1e-5 applies.
    testing::ExpectNear(out[1], want, 1e-5, 1e-5);
  }
}

// WHILE (i < n) { t = concat(t, row) }: t grows by a row per iteration, so
// its shape is known only after running; a RESHAPE reads it.
std::vector<uint8_t> GrowModel() {
  OpModelBuilder cond, body;
  CounterCond(cond, {kI32, kI32, kF32});
  std::vector<int> in;
  CounterBody(body, in, {kI32, kI32, kF32});
  int row = body.AddConst<float>(kF32, {1, 2}, {7.f, 8.f});
  body.AddOp(BO::CONCATENATION, {in[2], row}, {body.AddOutput(kF32)},
             fb::BuiltinOptions::ConcatenationOptions, Concat0());
  OpModelBuilder m;
  int n = m.AddInput(kI32, {});
  int t = m.AddInput(kF32, {1, 2}, {-1, 2});
  int zero = m.AddConst<int32_t>(kI32, {}, {0});
  int i_out = m.AddTensor(kI32, {}, {}, {});
  int n_out = m.AddTensor(kI32, {}, {}, {});
  int t_out = m.AddTensor(kF32, {}, {}, {});
  m.AddOp(BO::WHILE, {zero, n, t}, {i_out, n_out, t_out},
          fb::BuiltinOptions::WhileOptions, While(1, 2));
  int flat = m.AddOutput(kF32);
  int shape = m.AddConst<int32_t>(kI32, {1}, {-1});
  m.AddOp(BO::RESHAPE, {t_out, shape}, {flat});
  m.AddSubgraph(&cond);
  m.AddSubgraph(&body);
  auto bytes = m.Finish();
  PassThrough(bytes, 2, 1, in[1]);
  return bytes;
}

TEST(KernelsWhile, LoopVariableGrowsAndDownstreamIsResized) {
  auto interp = Load(GrowModel());
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  for (int n : {3, 0, 5, 1}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    auto out = RunModel(
        **interp,
        {Int(n), NDArray::Of(kF32, {2, 2}, std::vector<float>{1, 2, 3, 4})});
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> want = {1, 2, 3, 4};
    for (int k = 0; k < n; ++k) want.insert(want.end(), {7, 8});
    EXPECT_EQ(out[0].shape, Shape{static_cast<int32_t>(want.size())});
    testing::ExpectNear(out[0], want, 0, 0);
  }
}

// body(i, n, a, b) = (i + 1, n, b, a): the body's outputs are its own inputs
// in other positions. LiteRT copies them in order into outputs its inputs
// share memory with, so b overwrites a before a is read: any iteration
// leaves (b, b). We keep that.
TEST(KernelsWhile, AliasedBodyOutputsAreCopiedInOrderLikeLiteRt) {
  OpModelBuilder cond, body, m;
  CounterCond(cond, {kI32, kI32, kF32, kF32});
  std::vector<int> in;
  CounterBody(body, in, {kI32, kI32, kF32, kF32});
  body.AddOutput(kF32);  // placeholders for b and a
  body.AddOutput(kF32);
  int n = m.AddInput(kI32, {});
  int a = m.AddInput(kF32, {3});
  int b = m.AddInput(kF32, {3});
  int zero = m.AddConst<int32_t>(kI32, {}, {0});
  int i_out = m.AddTensor(kI32, {}, {}, {});
  int n_out = m.AddTensor(kI32, {}, {}, {});
  int a_out = m.AddOutput(kF32);
  int b_out = m.AddOutput(kF32);
  m.AddOp(BO::WHILE, {zero, n, a, b}, {i_out, n_out, a_out, b_out},
          fb::BuiltinOptions::WhileOptions, While(1, 2));
  m.AddSubgraph(&cond);
  m.AddSubgraph(&body);
  auto bytes = m.Finish();
  PassThrough(bytes, 2, 1, in[1]);
  PassThrough(bytes, 2, 2, in[3]);
  PassThrough(bytes, 2, 3, in[2]);
  auto interp = Load(bytes);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  std::vector<float> av = {1, 2, 3}, bv = {4, 5, 6};
  for (int iters : {0, 1, 2, 5}) {
    auto res = RunModel(**interp, {Int(iters), NDArray::Of(kF32, {3}, av),
                                   NDArray::Of(kF32, {3}, bv)});
    ASSERT_EQ(res.size(), 2u);
    if (iters == 0)
      testing::ExpectNear(res[0], {1, 2, 3}, 0, 0);
    else
      testing::ExpectNear(res[0], {4, 5, 6}, 0, 0);
    testing::ExpectNear(res[1], {4, 5, 6}, 0, 0);
  }
}

// Adds x' = RNN(x) with weights 1, recurrent weight 1, no bias and no
// activation: x' = x + h, h = x'. Its state h is a variable tensor.
int AddDoublingRnn(OpModelBuilder& b, int x) {
  int w = b.AddConst<float>(kF32, {1, 1}, {1.f});
  int r = b.AddConst<float>(kF32, {1, 1}, {1.f});
  int bias = b.AddConst<float>(kF32, {1}, {0.f});
  int h = b.AddTensor(kF32, {1, 1}, {}, {});
  b.SetVariable(h);
  int y = b.AddOutput(kF32);
  b.AddOp(BO::UNIDIRECTIONAL_SEQUENCE_RNN, {x, w, r, bias, h}, {y});
  return y;
}

// A stateful op in the body keeps its state from iteration to iteration but
// starts from zero on every run of the WHILE, as in LiteRT (which releases
// and re-allocates the subgraphs between runs).
TEST(KernelsWhile, BodyStateCarriesOverIterationsNotRuns) {
  OpModelBuilder cond, body, m;
  CounterCond(cond, {kI32, kI32, kF32});
  std::vector<int> in;
  CounterBody(body, in, {kI32, kI32, kF32});
  AddDoublingRnn(body, in[2]);
  int n = m.AddInput(kI32, {});
  int x = m.AddInput(kF32, {1, 1, 1});
  int zero = m.AddConst<int32_t>(kI32, {}, {0});
  int i_out = m.AddTensor(kI32, {}, {}, {});
  int n_out = m.AddTensor(kI32, {}, {}, {});
  int x_out = m.AddOutput(kF32);
  m.AddOp(BO::WHILE, {zero, n, x}, {i_out, n_out, x_out},
          fb::BuiltinOptions::WhileOptions, While(1, 2));
  m.AddSubgraph(&cond);
  m.AddSubgraph(&body);
  auto bytes = m.Finish();
  PassThrough(bytes, 2, 1, in[1]);
  auto interp = Load(bytes);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  for (int run = 0; run < 3; ++run) {
    // 1.5, 1.5, 3, 6, 12: each step adds the state, which doubles.
    auto out = RunModel(
        **interp,
        {Int(4), NDArray::Of(kF32, {1, 1, 1}, std::vector<float>{1.5f})});
    testing::ExpectNear(out[0], {12}, 0, 0);
  }
}

// IF(c, x): then x + x, else concat(x, x) (a different shape).
TEST(KernelsIf, RunsTheChosenBranchEvenWhenShapesDiffer) {
  OpModelBuilder then_sg, else_sg, m;
  int tx = then_sg.AddInput(kF32, {}, {});
  int ty = then_sg.AddOutput(kF32);
  then_sg.AddOp(BO::ADD, {tx, tx}, {ty});
  int ex = else_sg.AddInput(kF32, {}, {});
  int ey = else_sg.AddOutput(kF32);
  else_sg.AddOp(BO::CONCATENATION, {ex, ex}, {ey},
                fb::BuiltinOptions::ConcatenationOptions, Concat0());
  int c = m.AddInput(TensorType::BOOL, {});
  int x = m.AddInput(kF32, {2});
  int y = m.AddTensor(kF32, {}, {}, {});
  m.AddOp(BO::IF, {c, x}, {y}, fb::BuiltinOptions::IfOptions, If(1, 2));
  int flat = m.AddOutput(kF32);
  int shape = m.AddConst<int32_t>(kI32, {1}, {-1});
  m.AddOp(BO::RESHAPE, {y, shape}, {flat});
  m.AddSubgraph(&then_sg);
  m.AddSubgraph(&else_sg);
  auto interp = Load(m.Finish());
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto xv = NDArray::Of(kF32, {2}, std::vector<float>{1.5f, -2});
  for (bool cv : {true, false, true}) {
    auto out = RunModel(
        **interp,
        {NDArray::Of(TensorType::BOOL, {}, std::vector<uint8_t>{cv}), xv});
    if (cv)
      testing::ExpectNear(out[0], {3, -4}, 0, 0);
    else
      testing::ExpectNear(out[0], {1.5, -2, 1.5, -2}, 0, 0);
  }
}

TEST(KernelsIf, SizesEqualBranchOutputsAtLoad) {
  OpModelBuilder then_sg, else_sg, m;
  int tx = then_sg.AddInput(kF32, {}, {});
  int ty = then_sg.AddOutput(kF32);
  then_sg.AddOp(BO::ADD, {tx, tx}, {ty});
  int ex = else_sg.AddInput(kF32, {}, {});
  int one = else_sg.AddConst<float>(kF32, {}, {1.f});
  int ey = else_sg.AddOutput(kF32);
  else_sg.AddOp(BO::ADD, {ex, one}, {ey});
  int c = m.AddInput(TensorType::BOOL, {});
  int x = m.AddInput(kF32, {2, 3});
  int y = m.AddOutput(kF32);
  m.AddOp(BO::IF, {c, x}, {y}, fb::BuiltinOptions::IfOptions, If(1, 2));
  m.AddSubgraph(&then_sg);
  m.AddSubgraph(&else_sg);
  auto interp = Load(m.Finish());
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  EXPECT_EQ((*interp)->subgraph(0).tensor(y).shape, (Shape{2, 3}));
  auto out = RunModel(
      **interp, {NDArray::Of(TensorType::BOOL, {}, std::vector<uint8_t>{0}),
                 NDArray::Of(kF32, {2, 3}, std::vector<float>(6, 2))});
  testing::ExpectNear(out[0], std::vector<double>(6, 3), 0, 0);
}

// --- Rejections at load ------------------------------------------------------

// main: WHILE(0, n) with the given cond/body indices; subgraphs 1 and 2 are
// the counter's cond and body unless replaced.
std::vector<uint8_t> CounterModel(int cond_index, int body_index,
                                  OpModelBuilder* cond = nullptr,
                                  OpModelBuilder* body = nullptr) {
  OpModelBuilder default_cond, default_body, m;
  CounterCond(default_cond, {kI32, kI32});
  std::vector<int> in;
  CounterBody(default_body, in, {kI32, kI32});
  int n = m.AddInput(kI32, {});
  int zero = m.AddConst<int32_t>(kI32, {}, {0});
  int i_out = m.AddOutput(kI32);
  int n_out = m.AddTensor(kI32, {}, {}, {});
  m.AddOp(BO::WHILE, {zero, n}, {i_out, n_out},
          fb::BuiltinOptions::WhileOptions, While(cond_index, body_index));
  m.AddSubgraph(cond ? cond : &default_cond);
  m.AddSubgraph(body ? body : &default_body);
  auto bytes = m.Finish();
  if (body == nullptr) PassThrough(bytes, 2, 1, in[1]);
  return bytes;
}

TEST(KernelsWhileRejects, CallingItsOwnSubgraph) {
  EXPECT_NE(
      LoadError(CounterModel(1, 0))
          .find("its body subgraph 0 calls back into subgraph 0 (0 -> 0): "
                "recursive subgraph calls are not supported"),
      std::string::npos)
      << LoadError(CounterModel(1, 0));
}

TEST(KernelsWhileRejects, IndirectRecursion) {
  // Subgraph 2 (the body) holds an IF whose branches are subgraph 0.
  OpModelBuilder body;
  std::vector<int> in = {body.AddInput(kI32, {}, {}),
                         body.AddInput(kI32, {}, {})};
  int c = body.AddConst<uint8_t>(TensorType::BOOL, {}, {1});
  int o0 = body.AddOutput(kI32);
  body.AddOutput(kI32);
  body.AddOp(BO::IF, {c, in[1]}, {o0}, fb::BuiltinOptions::IfOptions, If(0, 0));
  std::string msg = LoadError(CounterModel(1, 2, nullptr, &body));
  EXPECT_NE(msg.find("calls back into subgraph 0 (0 -> 2 -> 0)"),
            std::string::npos)
      << msg;
}

TEST(KernelsWhileRejects, BadSubgraphIndices) {
  std::string msg = LoadError(CounterModel(1, 7));
  EXPECT_NE(msg.find("body subgraph index 7 is out of range: the model has 3"),
            std::string::npos)
      << msg;
  msg = LoadError(CounterModel(2, 2));
  EXPECT_NE(msg.find("cond and body are the same subgraph (2)"),
            std::string::npos)
      << msg;
}

TEST(KernelsWhileRejects, CountAndTypeMismatches) {
  OpModelBuilder body;  // takes three loop variables, is given two
  std::vector<int> in;
  CounterBody(body, in, {kI32, kI32, kI32});
  body.AddOutput(kI32);
  std::string msg = LoadError(CounterModel(1, 2, nullptr, &body));
  EXPECT_NE(msg.find("the body subgraph 2 takes 3 inputs but 2 are passed"),
            std::string::npos)
      << msg;
  OpModelBuilder cond;  // its n is float32
  CounterCond(cond, {kI32, kF32});
  msg = LoadError(CounterModel(1, 2, &cond));
  EXPECT_NE(msg.find("input 1 of the cond subgraph 1 ('t1') is float32 but"),
            std::string::npos)
      << msg;
}

TEST(KernelsWhileRejects, CondThatIsNotABoolScalar) {
  OpModelBuilder cond;  // returns i + n
  int i = cond.AddInput(kI32, {}, {});
  int n = cond.AddInput(kI32, {}, {});
  cond.AddOp(BO::ADD, {i, n}, {cond.AddOutput(kI32)});
  std::string msg = LoadError(CounterModel(1, 2, &cond));
  EXPECT_NE(msg.find("a bool scalar (or shape [1]) is needed"),
            std::string::npos)
      << msg;
}

TEST(KernelsIfRejects, CondAndBranchMismatches) {
  OpModelBuilder branch, m;
  int x = branch.AddInput(kF32, {}, {});
  branch.AddOp(BO::ADD, {x, x}, {branch.AddOutput(kF32)});
  int c = m.AddInput(kI32, {});
  int v = m.AddInput(kF32, {2});
  m.AddOp(BO::IF, {c, v}, {m.AddOutput(kF32)}, fb::BuiltinOptions::IfOptions,
          If(1, 1));
  m.AddSubgraph(&branch);
  std::string msg = LoadError(m.Finish());
  EXPECT_NE(msg.find("cond 't0' has type int32 but this kernel takes bool"),
            std::string::npos)
      << msg;

  OpModelBuilder m2;
  int c2 = m2.AddInput(TensorType::BOOL, {});
  int v2 = m2.AddInput(kF32, {2});
  m2.AddOp(BO::IF, {c2, v2, v2}, {m2.AddOutput(kF32)},
           fb::BuiltinOptions::IfOptions, If(1, 1));
  m2.AddSubgraph(&branch);
  msg = LoadError(m2.Finish());
  EXPECT_NE(msg.find("the then subgraph 1 takes 1 inputs but 2 are passed"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace k2l::runtime
