// Builds one-operator .tflite models in memory for kernel tests, and runs
// them through LiteRTModel. Tests compare against a double-precision
// reference over random shapes; the seed goes into SCOPED_TRACE so a failure
// can be replayed (K2L_TEST_SEED=<n> fixes it).
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "litert/schema_generated.h"
#include "runtime/litert_model.h"

namespace k2l::runtime::testing {

namespace fb = k2l::litert::fb;
using FBB = flatbuffers::FlatBufferBuilder;
using OptionsFn = std::function<flatbuffers::Offset<void>(FBB&)>;

class OpModelBuilder {
 public:
  // A runtime input; `signature` may hold -1 for resizable dims.
  int AddInput(TensorType type, Shape shape, Shape signature = {}) {
    int i = AddTensor(type, shape, {}, signature);
    inputs_.push_back(i);
    return i;
  }
  template <typename T>
  int AddConst(TensorType type, Shape shape, const std::vector<T>& values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return AddTensor(type, shape, bytes, {});
  }
  int AddOutput(TensorType type, Shape shape = {}) {
    int i = AddTensor(type, shape, {}, {});
    outputs_.push_back(i);
    return i;
  }
  // An intermediate tensor (written by one op, read by another).
  int AddTensor(TensorType type, Shape shape, std::vector<uint8_t> data,
                Shape signature) {
    tensors_.push_back({type,
                        std::move(shape),
                        std::move(data),
                        std::move(signature),
                        {},
                        false});
    return static_cast<int>(tensors_.size()) - 1;
  }
  void SetQuant(int tensor, std::vector<float> scale,
                std::vector<int64_t> zero_point, int dim = 0) {
    tensors_[tensor].quant = {std::move(scale), std::move(zero_point), dim};
  }
  void SetVariable(int tensor) { tensors_[tensor].is_variable = true; }
  // Points a tensor at buffer `index` regardless of what exists (for tests
  // of corrupt files).
  void ForceBufferIndex(int tensor, uint32_t index) {
    tensors_[tensor].forced_buffer = index;
  }
  void AddOp(fb::BuiltinOperator code, std::vector<int> inputs,
             std::vector<int> outputs,
             fb::BuiltinOptions options_type = fb::BuiltinOptions::NONE,
             OptionsFn options = nullptr, int version = 1) {
    ops_.push_back({code, std::move(inputs), std::move(outputs), options_type,
                    std::move(options), version});
  }
  // A second subgraph (for WHILE and friends) is a second builder.
  void AddSubgraph(const OpModelBuilder* sub) { subs_.push_back(sub); }

  std::vector<uint8_t> Finish() const {
    FBB fbb;
    std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
    buffers.push_back(fb::CreateBuffer(fbb));
    std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
    std::vector<std::pair<fb::BuiltinOperator, int>> code_keys;
    std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs;
    std::vector<const OpModelBuilder*> all = {this};
    all.insert(all.end(), subs_.begin(), subs_.end());
    for (const OpModelBuilder* b : all) {
      subgraphs.push_back(b->BuildSubgraph(fbb, buffers, codes, code_keys));
    }
    auto model = fb::CreateModel(
        fbb, 3, fbb.CreateVector(codes), fbb.CreateVector(subgraphs),
        fbb.CreateString("kernel test"), fbb.CreateVector(buffers));
    fb::FinishModelBuffer(fbb, model);
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
  }

 private:
  struct T {
    TensorType type;
    Shape shape;
    std::vector<uint8_t> data;
    Shape signature;
    Quantization quant;
    bool is_variable;
    int64_t forced_buffer = -1;
  };
  struct O {
    fb::BuiltinOperator code;
    std::vector<int> inputs, outputs;
    fb::BuiltinOptions options_type;
    OptionsFn options;
    int version;
  };

  flatbuffers::Offset<fb::SubGraph> BuildSubgraph(
      FBB& fbb, std::vector<flatbuffers::Offset<fb::Buffer>>& buffers,
      std::vector<flatbuffers::Offset<fb::OperatorCode>>& codes,
      std::vector<std::pair<fb::BuiltinOperator, int>>& code_keys) const {
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const T& t = tensors_[i];
      uint32_t buffer = 0;
      if (!t.data.empty()) {
        fbb.ForceVectorAlignment(t.data.size(), 1, 16);
        buffers.push_back(fb::CreateBuffer(fbb, fbb.CreateVector(t.data)));
        buffer = static_cast<uint32_t>(buffers.size() - 1);
      }
      if (t.forced_buffer >= 0) buffer = static_cast<uint32_t>(t.forced_buffer);
      flatbuffers::Offset<fb::QuantizationParameters> q;
      if (!t.quant.empty()) {
        q = fb::CreateQuantizationParameters(
            fbb, 0, 0, fbb.CreateVector(t.quant.scale),
            fbb.CreateVector(t.quant.zero_point), fb::QuantizationDetails::NONE,
            0, t.quant.quantized_dimension);
      }
      flatbuffers::Offset<flatbuffers::Vector<int32_t>> sig;
      if (!t.signature.empty()) sig = fbb.CreateVector(t.signature);
      tensors.push_back(fb::CreateTensor(
          fbb, fbb.CreateVector(t.shape), t.type, buffer,
          fbb.CreateString("t" + std::to_string(i)), q, t.is_variable, 0, sig));
    }
    std::vector<flatbuffers::Offset<fb::Operator>> ops;
    for (const O& o : ops_) {
      uint32_t index = 0;
      auto key = std::make_pair(o.code, o.version);
      auto it = std::find(code_keys.begin(), code_keys.end(), key);
      if (it == code_keys.end()) {
        code_keys.push_back(key);
        codes.push_back(fb::CreateOperatorCode(
            fbb, static_cast<int8_t>(std::min(static_cast<int>(o.code), 127)),
            0, o.version, o.code));
        index = static_cast<uint32_t>(codes.size() - 1);
      } else {
        index = static_cast<uint32_t>(it - code_keys.begin());
      }
      flatbuffers::Offset<void> opts = o.options ? o.options(fbb) : 0;
      ops.push_back(fb::CreateOperator(fbb, index, fbb.CreateVector(o.inputs),
                                       fbb.CreateVector(o.outputs),
                                       o.options_type, opts));
    }
    return fb::CreateSubGraph(
        fbb, fbb.CreateVector(tensors), fbb.CreateVector(inputs_),
        fbb.CreateVector(outputs_), fbb.CreateVector(ops));
  }

  std::vector<T> tensors_;
  std::vector<O> ops_;
  std::vector<int> inputs_, outputs_;
  std::vector<const OpModelBuilder*> subs_;
};

// Loads and runs `bytes` with inputs by position; fails the test on error.
inline std::vector<NDArray> RunOrFail(const std::vector<uint8_t>& bytes,
                                      const std::vector<NDArray>& inputs,
                                      int threads = 1) {
  auto model = LiteRTModel::Load(bytes, {threads});
  EXPECT_TRUE(model.ok()) << model.status().message();
  if (!model.ok()) return {};
  auto out = model->Predict(inputs);
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  return *out;
}

// The seed of a randomized test: K2L_TEST_SEED if set, else `fallback`.
inline uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("K2L_TEST_SEED");
  return env ? std::strtoull(env, nullptr, 10) : fallback;
}

inline std::vector<float> RandomFloats(std::mt19937_64& rng, int64_t n,
                                       float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline Shape RandomShape(std::mt19937_64& rng, int rank, int lo = 1,
                         int hi = 6) {
  std::uniform_int_distribution<int> d(lo, hi);
  Shape s(rank);
  for (auto& x : s) x = d(rng);
  return s;
}

// Expects |got - want| <= atol + rtol * |want| element-wise.
inline void ExpectNear(const NDArray& got, const std::vector<double>& want,
                       double atol, double rtol) {
  ASSERT_EQ(got.dtype, TensorType::FLOAT32);
  ASSERT_EQ(static_cast<size_t>(NumElements(got.shape)), want.size());
  const float* g = got.as<float>();
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(g[i], want[i], atol + rtol * std::abs(want[i]))
        << "element " << i << " of shape " << ShapeString(got.shape);
  }
}

}  // namespace k2l::runtime::testing
