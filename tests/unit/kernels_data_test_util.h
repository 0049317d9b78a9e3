// Helpers for the data-movement kernel tests: one-op models whose inputs
// are runtime inputs or constants, random tensors of any element size, and
// row-major index arithmetic for the naive references the tests compare
// against. Data moves are exact, so those tests compare bytes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime_test_util.h"

namespace k2l::runtime::testing {

// An op input: a value and whether it is stored as a constant.
struct OpInput {
  NDArray value;
  bool constant = false;
};

template <typename T>
NDArray Array(TensorType type, Shape shape, const std::vector<T>& v) {
  return NDArray::Of(type, std::move(shape), v);
}
inline NDArray I32(Shape shape, const std::vector<int32_t>& v) {
  return Array(TensorType::INT32, std::move(shape), v);
}
inline NDArray I64(Shape shape, const std::vector<int64_t>& v) {
  return Array(TensorType::INT64, std::move(shape), v);
}
inline OpInput Const(NDArray a) { return {std::move(a), true}; }
inline OpInput Runtime(NDArray a) { return {std::move(a), false}; }

struct OpSpec {
  fb::BuiltinOperator code;
  fb::BuiltinOptions options_type = fb::BuiltinOptions::NONE;
  OptionsFn options = nullptr;
  int version = 1;
};

// A one-op model; `quant[i]` (if given) sets tensor i's (scale, zero point),
// inputs first, then outputs.
inline std::vector<uint8_t> OneOpModel(
    const OpSpec& op, const std::vector<OpInput>& ins,
    const std::vector<TensorType>& out_types,
    const std::vector<std::pair<float, int64_t>>& quant = {}) {
  OpModelBuilder b;
  std::vector<int> in_ids, out_ids;
  for (const OpInput& in : ins) {
    if (in.constant && !in.value.data.empty()) {
      in_ids.push_back(
          b.AddTensor(in.value.dtype, in.value.shape, in.value.data, {}));
    } else {
      in_ids.push_back(b.AddInput(in.value.dtype, in.value.shape));
    }
  }
  for (TensorType t : out_types) out_ids.push_back(b.AddOutput(t));
  for (size_t i = 0; i < quant.size(); ++i) {
    const int id = i < in_ids.size() ? in_ids[i] : out_ids[i - in_ids.size()];
    if (quant[i].first != 0.f)
      b.SetQuant(id, {quant[i].first}, {quant[i].second});
  }
  b.AddOp(op.code, in_ids, out_ids, op.options_type, op.options, op.version);
  return b.Finish();
}

// Loads and runs; the status message on failure (empty on success).
inline std::string RunOneOp(const std::vector<uint8_t>& bytes,
                            const std::vector<OpInput>& ins,
                            std::vector<NDArray>* outs) {
  auto model = LiteRTModel::Load(bytes);
  if (!model.ok()) return model.status().message();
  std::vector<NDArray> feed;
  for (const OpInput& in : ins)
    if (!(in.constant && !in.value.data.empty())) feed.push_back(in.value);
  auto out = model->Predict(feed);
  if (!out.ok()) return out.status().message();
  if (outs) *outs = std::move(*out);
  return "";
}

// Runs and fails the test on error.
inline std::vector<NDArray> RunOp(
    const OpSpec& op, const std::vector<OpInput>& ins,
    const std::vector<TensorType>& out_types,
    const std::vector<std::pair<float, int64_t>>& quant = {}) {
  std::vector<NDArray> outs;
  std::string err = RunOneOp(OneOpModel(op, ins, out_types, quant), ins, &outs);
  EXPECT_EQ(err, "");
  // On failure, empty arrays keep the callers' comparisons from crashing.
  if (!err.empty()) outs.assign(out_types.size(), NDArray{});
  return outs;
}

// The error of a model that must be rejected (at load or at run time).
inline std::string RunError(
    const OpSpec& op, const std::vector<OpInput>& ins,
    const std::vector<TensorType>& out_types,
    const std::vector<std::pair<float, int64_t>>& quant = {}) {
  std::string err =
      RunOneOp(OneOpModel(op, ins, out_types, quant), ins, nullptr);
  EXPECT_NE(err, "") << "the model was accepted";
  return err;
}

#define K2L_EXPECT_ERROR(err, fragment) \
  EXPECT_NE((err).find(fragment), std::string::npos) << (err)

// Random bytes for `n` elements of `type` (bool stays 0/1).
inline NDArray RandomArray(std::mt19937_64& rng, TensorType type,
                           const Shape& shape) {
  NDArray a{type, shape, {}};
  a.data.resize(NumElements(shape) * ElementSize(type));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& x : a.data) x = static_cast<uint8_t>(byte(rng));
  if (type == TensorType::BOOL)
    for (auto& x : a.data) x &= 1;
  if (type == TensorType::FLOAT32) {
    auto f = RandomFloats(rng, NumElements(shape), -4.f, 4.f);
    if (!f.empty()) std::memcpy(a.data.data(), f.data(), a.data.size());
  }
  return a;
}

inline std::vector<int64_t> Strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t n = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = n;
    n *= s[i];
  }
  return st;
}

inline std::vector<int64_t> Unravel(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (size_t i = s.size(); i-- > 0;) {
    idx[i] = s[i] ? flat % s[i] : 0;
    flat = s[i] ? flat / s[i] : 0;
  }
  return idx;
}

inline int64_t Ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t flat = 0;
  for (size_t i = 0; i < s.size(); ++i) flat = flat * s[i] + idx[i];
  return flat;
}

// Builds the expected array of `shape` by asking `source(out_index)` for
// the input flat index each element copies (-1: fill with `fill`).
template <typename F>
NDArray Expect(const NDArray& in, const Shape& shape, F source,
               const std::vector<uint8_t>& fill = {}) {
  const size_t e = ElementSize(in.dtype);
  NDArray out{in.dtype, shape, std::vector<uint8_t>(NumElements(shape) * e)};
  for (int64_t i = 0; i < NumElements(shape); ++i) {
    const int64_t from = source(Unravel(i, shape));
    if (from < 0) {
      if (!fill.empty()) std::memcpy(&out.data[i * e], fill.data(), e);
    } else {
      std::memcpy(&out.data[i * e], &in.data[from * e], e);
    }
  }
  return out;
}

inline void ExpectSameArray(const NDArray& got, const NDArray& want) {
  ASSERT_EQ(got.dtype, want.dtype);
  ASSERT_EQ(ShapeString(got.shape), ShapeString(want.shape));
  ASSERT_EQ(got.data.size(), want.data.size());
  const size_t e = ElementSize(got.dtype);
  for (size_t i = 0; i < got.data.size(); i += e) {
    ASSERT_EQ(std::memcmp(&got.data[i], &want.data[i], e), 0)
        << "element " << i / e << " of shape " << ShapeString(got.shape);
  }
}

// The types the byte-moving kernels are tested with (one per element size,
// plus bool).
inline std::vector<TensorType> MovedTypes() {
  return {TensorType::FLOAT32, TensorType::INT8, TensorType::INT16,
          TensorType::INT64, TensorType::BOOL};
}

}  // namespace k2l::runtime::testing
