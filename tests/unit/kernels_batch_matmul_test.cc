// BATCH_MATMUL against a double-precision reference over random ranks (2 to
// 5), broadcast batch dims, adj_x / adj_y and threads; the plain-loop
// reference; and the rejections.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/reference/matmul.h"
#include "runtime_test_util.h"

namespace k2l::runtime {
namespace {

using testing::FBB;
using testing::OpModelBuilder;

// Sums of at most 40 fp32 products of values in [-1, 1].
constexpr double kTol = 1e-5;

// Every fourth iteration runs on 2 or 3 threads (making a thread pool costs
// milliseconds, so the rest stay on one).
int ThreadsFor(int iter) { return iter % 4 == 3 ? 2 + iter % 8 / 4 : 1; }

struct Case {
  Shape lhs, rhs, out;
  int m, n, k;
  bool adj_x, adj_y;
};

// `big`: rows enough for ParallelFor to split.
Case RandomCase(std::mt19937_64& rng, bool big = false) {
  auto r = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % (hi - lo + 1));
  };
  Case c;
  const int lr = r(2, 5), rr = r(2, 5), rank = std::max(lr, rr);
  c.m = r(1, 12) * (big ? 8 : 1);
  c.n = r(1, 12);
  c.k = r(1, 40);
  c.adj_x = rng() % 2;
  c.adj_y = rng() % 2;
  Shape batch = testing::RandomShape(rng, rank - 2, 1, 3);
  c.out = batch;
  c.out.push_back(c.m);
  c.out.push_back(c.n);
  // Each operand keeps its trailing batch dims, some broadcast to 1.
  auto operand = [&](int op_rank) {
    Shape s;
    for (int i = rank - op_rank; i < rank - 2; ++i)
      s.push_back(rng() % 3 == 0 ? 1 : batch[i]);
    return s;
  };
  c.lhs = operand(lr);
  c.rhs = operand(rr);
  if (c.adj_x) {
    c.lhs.insert(c.lhs.end(), {c.k, c.m});
  } else {
    c.lhs.insert(c.lhs.end(), {c.m, c.k});
  }
  if (c.adj_y) {
    c.rhs.insert(c.rhs.end(), {c.n, c.k});
  } else {
    c.rhs.insert(c.rhs.end(), {c.k, c.n});
  }
  // Batch dims the operands left at 1 shrink the output too.
  for (int i = 0; i < rank - 2; ++i) {
    const int li = i - (rank - lr), ri = i - (rank - rr);
    const int ld = li >= 0 ? c.lhs[li] : 1, rd = ri >= 0 ? c.rhs[ri] : 1;
    c.out[i] = std::max(ld, rd);
  }
  return c;
}

std::vector<double> Reference(const Case& c, const std::vector<float>& a,
                              const std::vector<float>& b) {
  const int rank = static_cast<int>(c.out.size());
  int64_t batches = 1;
  for (int i = 0; i < rank - 2; ++i) batches *= c.out[i];
  std::vector<double> out;
  for (int64_t bi = 0; bi < batches; ++bi) {
    // Unravel the output batch index; each operand reads index 0 along a
    // broadcast dim.
    int64_t la = 0, lb = 0, rem = bi, sa = 1, sb = 1;
    for (int i = rank - 3; i >= 0; --i) {
      const int idx = static_cast<int>(rem % c.out[i]);
      rem /= c.out[i];
      const int li = i - (rank - static_cast<int>(c.lhs.size()));
      const int ri = i - (rank - static_cast<int>(c.rhs.size()));
      if (li >= 0) {
        la += (c.lhs[li] == 1 ? 0 : idx) * sa;
        sa *= c.lhs[li];
      }
      if (ri >= 0) {
        lb += (c.rhs[ri] == 1 ? 0 : idx) * sb;
        sb *= c.rhs[ri];
      }
    }
    const float* pa = a.data() + la * c.m * c.k;
    const float* pb = b.data() + lb * c.k * c.n;
    for (int i = 0; i < c.m; ++i)
      for (int j = 0; j < c.n; ++j) {
        double s = 0;
        for (int t = 0; t < c.k; ++t)
          s +=
              static_cast<double>(c.adj_x ? pa[t * c.m + i] : pa[i * c.k + t]) *
              (c.adj_y ? pb[j * c.k + t] : pb[t * c.n + j]);
        out.push_back(s);
      }
  }
  return out;
}

TEST(KernelsBatchMatMul, RandomShapesAgainstDoubleReference) {
  for (int iter = 0; iter < 30; ++iter) {
    const uint64_t seed = testing::TestSeed(7000 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Case c = RandomCase(rng, ThreadsFor(iter) > 1);
    const bool const_rhs = rng() % 2;
    auto a = testing::RandomFloats(rng, NumElements(c.lhs));
    auto bv = testing::RandomFloats(rng, NumElements(c.rhs));
    OpModelBuilder b;
    int li = b.AddInput(TensorType::FLOAT32, c.lhs);
    int ri = const_rhs ? b.AddConst(TensorType::FLOAT32, c.rhs, bv)
                       : b.AddInput(TensorType::FLOAT32, c.rhs);
    int y = b.AddOutput(TensorType::FLOAT32);
    b.AddOp(
        fb::BuiltinOperator::BATCH_MATMUL, {li, ri}, {y},
        fb::BuiltinOptions::BatchMatMulOptions, [&](FBB& fbb) {
          return fb::CreateBatchMatMulOptions(fbb, c.adj_x, c.adj_y).Union();
        });
    std::vector<NDArray> feeds = {NDArray::Of(TensorType::FLOAT32, c.lhs, a)};
    if (!const_rhs)
      feeds.push_back(NDArray::Of(TensorType::FLOAT32, c.rhs, bv));
    auto out = testing::RunOrFail(b.Finish(), feeds, ThreadsFor(iter));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape, c.out);
    testing::ExpectNear(out[0], Reference(c, a, bv), kTol, kTol);
  }
}

TEST(KernelsBatchMatMul, PlainLoopReferenceAgrees) {
  for (int iter = 0; iter < 10; ++iter) {
    const uint64_t seed = testing::TestSeed(7100 + iter);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const int batches = 1 + rng() % 3, m = 1 + rng() % 9, n = 1 + rng() % 9,
              k = 1 + rng() % 30;
    const bool adj_x = rng() % 2, adj_y = rng() % 2;
    Case c;
    c.m = m, c.n = n, c.k = k, c.adj_x = adj_x, c.adj_y = adj_y;
    c.lhs = adj_x ? Shape{batches, k, m} : Shape{batches, m, k};
    c.rhs = adj_y ? Shape{batches, n, k} : Shape{batches, k, n};
    c.out = {batches, m, n};
    auto a = testing::RandomFloats(rng, NumElements(c.lhs));
    auto bv = testing::RandomFloats(rng, NumElements(c.rhs));
    std::vector<int64_t> lo(batches), ro(batches);
    for (int i = 0; i < batches; ++i) lo[i] = i * m * k, ro[i] = i * k * n;
    auto want = Reference(c, a, bv);
    std::vector<float> got(want.size()), fast(want.size());
    reference::BatchMatMulLoops(a.data(), bv.data(), lo.data(), ro.data(), m, n,
                                k, adj_x, adj_y, got.data(), 0,
                                int64_t{batches} * m);
    // Odd row ranges exercise the fast path's split of a batch.
    reference::BatchMatMul(a.data(), bv.data(), lo.data(), ro.data(), m, n, k,
                           adj_x, adj_y, fast.data(), 0, 1);
    reference::BatchMatMul(a.data(), bv.data(), lo.data(), ro.data(), m, n, k,
                           adj_x, adj_y, fast.data(), 1, int64_t{batches} * m);
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], kTol + kTol * std::abs(want[i])) << i;
      ASSERT_NEAR(fast[i], want[i], kTol + kTol * std::abs(want[i])) << i;
    }
  }
}

std::string LoadError(Shape l, Shape r, bool adj_y = false,
                      TensorType rtype = TensorType::FLOAT32) {
  OpModelBuilder b;
  int li = b.AddInput(TensorType::FLOAT32, l);
  int ri = b.AddInput(rtype, r);
  int y = b.AddOutput(TensorType::FLOAT32);
  b.AddOp(fb::BuiltinOperator::BATCH_MATMUL, {li, ri}, {y},
          fb::BuiltinOptions::BatchMatMulOptions, [&](FBB& fbb) {
            return fb::CreateBatchMatMulOptions(fbb, false, adj_y).Union();
          });
  auto model = LiteRTModel::Load(b.Finish());
  return model.ok() ? "" : model.status().message();
}

TEST(KernelsBatchMatMulRejects, BadShapesAndTypes) {
  EXPECT_NE(LoadError({2, 3, 4}, {3, 4, 5}).find("do not broadcast"),
            std::string::npos);
  EXPECT_NE(LoadError({3, 4}, {5, 6}).find("(4 vs 5)"), std::string::npos);
  EXPECT_NE(LoadError({3, 4}, {6, 5}, true).find("(adj_y)"), std::string::npos);
  EXPECT_NE(LoadError({4}, {4, 5}).find("has rank 1"), std::string::npos);
  EXPECT_NE(LoadError({1, 1, 1, 1, 1, 3, 4}, {4, 5}).find("has rank 7"),
            std::string::npos);
  EXPECT_NE(LoadError({3, 4}, {4, 5}, false, TensorType::INT8)
                .find("dynamic-range (hybrid)"),
            std::string::npos);
}

}  // namespace
}  // namespace k2l::runtime
