#include "runtime/tensor.h"

#include <cstring>
#include <new>
#include <sstream>

namespace k2l::runtime {

size_t ElementSize(TensorType t) {
  switch (t) {
    case TensorType::FLOAT32:
    case TensorType::INT32:
    case TensorType::UINT32:
      return 4;
    case TensorType::FLOAT16:
    case TensorType::INT16:
    case TensorType::UINT16:
    case TensorType::BFLOAT16:
      return 2;
    case TensorType::UINT8:
    case TensorType::INT8:
    case TensorType::BOOL:
      return 1;
    case TensorType::INT64:
    case TensorType::UINT64:
    case TensorType::FLOAT64:
    case TensorType::COMPLEX64:
      return 8;
    case TensorType::COMPLEX128:
      return 16;
    default:
      return 0;
  }
}

const char* TypeName(TensorType t) {
  switch (t) {
    case TensorType::FLOAT32:
      return "float32";
    case TensorType::FLOAT16:
      return "float16";
    case TensorType::INT32:
      return "int32";
    case TensorType::UINT8:
      return "uint8";
    case TensorType::INT64:
      return "int64";
    case TensorType::STRING:
      return "string";
    case TensorType::BOOL:
      return "bool";
    case TensorType::INT16:
      return "int16";
    case TensorType::COMPLEX64:
      return "complex64";
    case TensorType::INT8:
      return "int8";
    case TensorType::FLOAT64:
      return "float64";
    case TensorType::COMPLEX128:
      return "complex128";
    case TensorType::UINT64:
      return "uint64";
    case TensorType::UINT32:
      return "uint32";
    case TensorType::UINT16:
      return "uint16";
    case TensorType::BFLOAT16:
      return "bfloat16";
    default: {
      const char* n = fb::EnumNameTensorType(t);
      return (n && *n) ? n : "unknown";
    }
  }
}

int64_t NumElements(const Shape& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

std::string ShapeString(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

uint8_t* AlignedBuffer::Reserve(size_t bytes) {
  if (bytes <= capacity_ && data_) return data_.get();
  // Round up so that vector loads past the last element stay in bounds.
  size_t size = ((bytes + 63) / 64) * 64 + 64;
  void* p = std::aligned_alloc(64, size);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, size);
  data_.reset(static_cast<uint8_t*>(p));
  capacity_ = size;
  return data_.get();
}

void Tensor::Allocate(Shape new_shape) {
  shape = std::move(new_shape);
  constant_ = nullptr;
  data_ = storage_.Reserve(bytes());
}

}  // namespace k2l::runtime
