// Constant tensor contents: a dtype, a static shape and bytes.
//
// The bytes are shared and immutable, so a constant can be referenced by many
// values (and deduplicated by the writer) without copies.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "ir/dtype.h"

namespace k2l::ir {

class TensorData {
 public:
  TensorData() = default;
  TensorData(DType dtype, std::vector<int64_t> shape,
             std::shared_ptr<const std::vector<uint8_t>> bytes)
      : dtype_(dtype), shape_(std::move(shape)), bytes_(std::move(bytes)) {}

  // Copies `values` into a new buffer.
  template <typename T>
  static TensorData FromVector(DType dtype, std::vector<int64_t> shape,
                               const std::vector<T>& values) {
    auto buf =
        std::make_shared<std::vector<uint8_t>>(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(buf->data(), values.data(), buf->size());
    return TensorData(dtype, std::move(shape), std::move(buf));
  }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t num_elements() const {
    int64_t n = 1;
    for (int64_t d : shape_) n *= d;
    return n;
  }
  std::span<const uint8_t> bytes() const {
    if (!bytes_) return {};
    return {bytes_->data(), bytes_->size()};
  }
  // Typed view; the caller must have checked dtype().
  template <typename T>
  std::span<const T> as() const {
    auto b = bytes();
    return {reinterpret_cast<const T*>(b.data()), b.size() / sizeof(T)};
  }
  bool empty() const { return !bytes_; }

 private:
  DType dtype_ = DType::kFloat32;
  std::vector<int64_t> shape_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
};

// A cheap hash for deduplicating constant data: the size plus up to 256
// sampled words. Equal bytes give equal hashes; candidates with equal hashes
// are compared in full, so sampling never merges different data.
inline size_t SampledHash(std::span<const uint8_t> b) {
  uint64_t h = 1469598103934665603ull ^ b.size();
  auto mix = [&h](uint64_t w) {
    h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  };
  size_t words = b.size() / 8;
  size_t step = words > 256 ? words / 256 : 1;
  for (size_t i = 0; i < words; i += step) {
    uint64_t w;
    std::memcpy(&w, b.data() + i * 8, 8);
    mix(w);
  }
  for (size_t i = words * 8; i < b.size(); ++i) mix(b[i]);
  return static_cast<size_t>(h);
}

}  // namespace k2l::ir
