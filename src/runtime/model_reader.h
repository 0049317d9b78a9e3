// Reads a `.tflite` file into a validated view. The flatbuffer verifier runs
// before any field is read; then every index (tensor, buffer, opcode,
// subgraph) is checked against its table and every constant buffer against
// the size of its tensor, so the interpreter can trust what it reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "litert/schema_generated.h"

namespace k2l::runtime {

namespace fb = k2l::litert::fb;

struct BufferView {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class ModelFile {
 public:
  // `name` is used in messages (a path, or "<bytes>").
  static Result<std::shared_ptr<const ModelFile>> Read(
      std::vector<uint8_t> bytes, const std::string& name);

  const fb::Model& model() const { return *model_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  const std::string& name() const { return name_; }
  // The data of buffer `i` (inline or by offset); empty for none.
  BufferView buffer(uint32_t i) const { return buffers_[i]; }
  // The effective builtin code of an operator code (the larger of the
  // deprecated int8 field and the int32 one).
  static fb::BuiltinOperator Code(const fb::OperatorCode& oc);

 private:
  Status Validate();
  std::vector<uint8_t> bytes_;
  std::string name_;
  const fb::Model* model_ = nullptr;
  std::vector<BufferView> buffers_;
};

}  // namespace k2l::runtime
