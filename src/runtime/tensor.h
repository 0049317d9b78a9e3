// A runtime tensor: type, current shape, quantization, and either a view on
// a constant buffer of the model or storage owned by the interpreter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "litert/schema_generated.h"

namespace k2l::runtime {

namespace fb = k2l::litert::fb;
using TensorType = fb::TensorType;

// Bytes per element, or 0 for a type the runtime does not hold in memory
// (STRING, RESOURCE, VARIANT and the sub-byte types).
size_t ElementSize(TensorType t);
// "float32", "int8", ... (numpy's spelling, as tf.lite's details use).
const char* TypeName(TensorType t);

using Shape = std::vector<int32_t>;
int64_t NumElements(const Shape& s);
std::string ShapeString(const Shape& s);

struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  bool empty() const { return scale.empty(); }
  bool per_tensor() const { return scale.size() == 1; }
};

// 64-byte aligned, growable storage. Contents are not preserved on growth.
class AlignedBuffer {
 public:
  uint8_t* Reserve(size_t bytes);
  uint8_t* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t capacity_ = 0;
};

class Tensor {
 public:
  std::string name;
  TensorType type = TensorType::FLOAT32;
  Shape shape;
  // -1 marks a dimension that may change with ResizeInput or at run time.
  Shape shape_signature;
  Quantization quant;
  bool is_variable = false;

  bool is_constant() const { return constant_ != nullptr; }
  int rank() const { return static_cast<int>(shape.size()); }
  int32_t dim(int i) const { return shape[i]; }
  int64_t num_elements() const { return NumElements(shape); }
  size_t bytes() const { return num_elements() * ElementSize(type); }

  const uint8_t* raw() const { return constant_ ? constant_ : data_; }
  // Writable data; null for a constant.
  uint8_t* mutable_raw() { return constant_ ? nullptr : data_; }

  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(raw());
  }
  template <typename T>
  T* mutable_data() {
    return reinterpret_cast<T*>(mutable_raw());
  }

  // Makes the tensor a view on constant bytes (from the model file).
  void SetConstant(const uint8_t* bytes) { constant_ = bytes; }
  // Sets the shape and makes room for it in owned storage.
  void Allocate(Shape new_shape);
  // Its shape is only known once its producer runs.
  bool dynamic = false;

 private:
  const uint8_t* constant_ = nullptr;
  uint8_t* data_ = nullptr;
  AlignedBuffer storage_;
};

}  // namespace k2l::runtime
