// Dense float matrix products on row-major data, through Eigen's blocked
// GEMM. Every kernel's fast float path (FULLY_CONNECTED, BATCH_MATMUL, the
// convolutions after im2col) ends here; the callers split the rows across
// threads, so each call is single-threaded.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

namespace k2l::runtime::reference {

namespace matmul_internal {
using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap =
    Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
using Map = Eigen::Map<RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
}  // namespace matmul_internal

// C[M, N] = op(A) * op(B) (or += with `accumulate`), all row-major with
// leading dimensions lda, ldb, ldc. op(A) is A [M, K] or, with trans_a, the
// transpose of A stored as [K, M]; likewise B is [K, N] or [N, K].
inline void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb,
                 float* c, int64_t ldc, bool accumulate = false) {
  using matmul_internal::ConstMap;
  using matmul_internal::Map;
  if (m <= 0 || n <= 0) return;
  Map cm(c, m, n, Eigen::OuterStride<>(ldc));
  if (k <= 0) {
    if (!accumulate) cm.setZero();
    return;
  }
  ConstMap am(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  ConstMap bm(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  auto run = [&](const auto& lhs, const auto& rhs) {
    if (accumulate) {
      cm.noalias() += lhs * rhs;
    } else {
      cm.noalias() = lhs * rhs;
    }
  };
  if (trans_a) {
    if (trans_b) {
      run(am.transpose(), bm.transpose());
    } else {
      run(am.transpose(), bm);
    }
  } else if (trans_b) {
    run(am, bm.transpose());
  } else {
    run(am, bm);
  }
}

// out[r, c] = clamp(out[r, c] + bias[c]) for `rows` rows of `cols` values
// with leading dimension ld; bias may be null.
inline void BiasAndClamp(int64_t rows, int64_t cols, const float* bias,
                         float lo, float hi, float* out, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = out + r * ld;
    if (bias != nullptr) {
      for (int64_t c = 0; c < cols; ++c)
        row[c] = std::min(std::max(row[c] + bias[c], lo), hi);
    } else {
      for (int64_t c = 0; c < cols; ++c)
        row[c] = std::min(std::max(row[c], lo), hi);
    }
  }
}

// The smallest number of items worth a thread of its own when each costs
// about `work_per_item` multiply-adds.
inline int64_t MinChunk(int64_t work_per_item) {
  return std::max<int64_t>(
      1, (int64_t{1} << 15) / std::max<int64_t>(work_per_item, 1));
}

// BATCH_MATMUL over output rows [row_begin, row_end) of the flattened
// [batches * m, n] output: batch i multiplies lhs + lhs_offset[i] ([m, k],
// or [k, m] with adj_x) by rhs + rhs_offset[i] ([k, n], or [n, k] with
// adj_y). The offsets carry the broadcasting of the batch dimensions.
inline void BatchMatMul(const float* lhs, const float* rhs,
                        const int64_t* lhs_offset, const int64_t* rhs_offset,
                        int64_t m, int64_t n, int64_t k, bool adj_x, bool adj_y,
                        float* output, int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end;) {
    const int64_t batch = row / m;
    const int64_t i0 = row % m;
    const int64_t rows = std::min(m - i0, row_end - row);
    const float* a = lhs + lhs_offset[batch] + (adj_x ? i0 : i0 * k);
    Gemm(adj_x, adj_y, rows, n, k, a, adj_x ? m : k, rhs + rhs_offset[batch],
         adj_y ? k : n, output + row * n, n);
    row += rows;
  }
}

// The same with plain loops (float accumulation in k order), to check the
// GEMM path against.
inline void BatchMatMulLoops(const float* lhs, const float* rhs,
                             const int64_t* lhs_offset,
                             const int64_t* rhs_offset, int64_t m, int64_t n,
                             int64_t k, bool adj_x, bool adj_y, float* output,
                             int64_t row_begin, int64_t row_end) {
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t batch = row / m;
    const int64_t i = row % m;
    const float* a = lhs + lhs_offset[batch];
    const float* b = rhs + rhs_offset[batch];
    for (int64_t j = 0; j < n; ++j) {
      float total = 0.f;
      for (int64_t t = 0; t < k; ++t) {
        total += (adj_x ? a[t * m + i] : a[i * k + t]) *
                 (adj_y ? b[j * k + t] : b[t * n + j]);
      }
      output[row * n + j] = total;
    }
  }
}

}  // namespace k2l::runtime::reference
