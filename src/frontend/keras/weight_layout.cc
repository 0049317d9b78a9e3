#include "frontend/keras/weight_layout.h"

#include <algorithm>

namespace k2l::keras {

namespace {

// dst[c][r] = src[r][c] for a rows x cols matrix, in 32x32 tiles.
void Transpose2D(const float* src, float* dst, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

bool IsLastToFront(const std::vector<int>& perm) {
  size_t n = perm.size();
  if (n < 2 || perm[0] != static_cast<int>(n) - 1) return false;
  for (size_t i = 1; i < n; ++i) {
    if (perm[i] != static_cast<int>(i) - 1) return false;
  }
  return true;
}

}  // namespace

ir::TensorData Permute(const ir::TensorData& t, const std::vector<int>& perm) {
  const ir::Shape& in = t.shape();
  size_t rank = perm.size();
  ir::Shape out(rank);
  std::vector<int64_t> in_strides(rank, 1), strides(rank);
  for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * in[i];
  for (size_t d = 0; d < rank; ++d) {
    out[d] = in[perm[d]];
    strides[d] = in_strides[perm[d]];
  }
  auto src = t.as<float>();
  std::vector<float> dst(src.size());
  if (dst.empty())
    return ir::TensorData::FromVector(ir::DType::kFloat32, out, dst);
  if (IsLastToFront(perm)) {
    int64_t cols = in[rank - 1];
    Transpose2D(src.data(), dst.data(), static_cast<int64_t>(src.size()) / cols,
                cols);
    return ir::TensorData::FromVector(ir::DType::kFloat32, out, dst);
  }
  // General case: the innermost output dim is a strided copy; the outer
  // index advances like an odometer, carrying the source offset along.
  int64_t inner = out[rank - 1], inner_stride = strides[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  size_t flat = 0;
  int64_t base = 0;
  while (flat < dst.size()) {
    const float* s = src.data() + base;
    for (int64_t i = 0; i < inner; ++i) dst[flat++] = s[i * inner_stride];
    for (size_t d = rank - 1; d-- > 0;) {
      base += strides[d];
      if (++idx[d] < out[d]) break;
      base -= strides[d] * out[d];
      idx[d] = 0;
    }
  }
  return ir::TensorData::FromVector(ir::DType::kFloat32, out, dst);
}

ir::TensorData Reshaped(const ir::TensorData& t, ir::Shape shape) {
  auto b = t.bytes();
  return ir::TensorData(
      t.dtype(), std::move(shape),
      std::make_shared<std::vector<uint8_t>>(b.begin(), b.end()));
}

ir::TensorData ColumnRange(const ir::TensorData& t, int64_t begin,
                           int64_t end) {
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  std::vector<float> out(static_cast<size_t>(rows * (end - begin)));
  auto src = t.as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(src.begin() + r * cols + begin, src.begin() + r * cols + end,
              out.begin() + r * (end - begin));
  }
  return ir::TensorData::FromVector(ir::DType::kFloat32, {rows, end - begin},
                                    out);
}

ir::TensorData Row(const ir::TensorData& t, int64_t i) {
  const int64_t cols = t.shape()[1];
  auto src = t.as<float>();
  std::vector<float> out(src.begin() + i * cols, src.begin() + (i + 1) * cols);
  return ir::TensorData::FromVector(ir::DType::kFloat32, {cols}, out);
}

}  // namespace k2l::keras
