#include "runtime/model_reader.h"

#include <algorithm>

#include "runtime/tensor.h"

namespace k2l::runtime {

namespace {

constexpr uint32_t kSchemaVersion = 3;

std::string TensorLabel(int sg, size_t t, const fb::Tensor* tensor) {
  std::string s = "tensor %" + std::to_string(t);
  if (tensor && tensor->name()) s += " '" + tensor->name()->str() + "'";
  return s + " of subgraph " + std::to_string(sg);
}

}  // namespace

fb::BuiltinOperator ModelFile::Code(const fb::OperatorCode& oc) {
  return static_cast<fb::BuiltinOperator>(std::max<int32_t>(
      oc.deprecated_builtin_code(), static_cast<int32_t>(oc.builtin_code())));
}

Result<std::shared_ptr<const ModelFile>> ModelFile::Read(
    std::vector<uint8_t> bytes, const std::string& name) {
  auto file = std::shared_ptr<ModelFile>(new ModelFile());
  file->bytes_ = std::move(bytes);
  file->name_ = name;
  Status s = file->Validate();
  if (!s.ok()) {
    return s.WithContext("cannot load '" + name + "'");
  }
  return std::shared_ptr<const ModelFile>(std::move(file));
}

Status ModelFile::Validate() {
  const auto& b = bytes_;
  if (b.size() < 8) {
    return Status::Invalid(
        "the file is " + std::to_string(b.size()) +
        " bytes, too short to be a LiteRT model (truncated?). Re-export or "
        "re-download it");
  }
  if (!fb::ModelBufferHasIdentifier(b.data())) {
    return Status::Invalid(
        "the file identifier at bytes 4..8 is not 'TFL3', so this is not a "
        "LiteRT (.tflite) flatbuffer. Check that the path names a .tflite "
        "file");
  }
  // Files over 2 GB keep buffers after the flatbuffer; the verifier only
  // sees the flatbuffer part, which must itself be under 2 GB.
  flatbuffers::Verifier::Options opts;
  opts.max_tables = 100000000;
  size_t fb_size = std::min<size_t>(b.size(), FLATBUFFERS_MAX_BUFFER_SIZE - 1);
  flatbuffers::Verifier verifier(b.data(), fb_size, opts);
  if (!fb::VerifyModelBuffer(verifier)) {
    return Status::Invalid(
        "the flatbuffer verifier rejects the file: a table, vector or "
        "string points outside it (truncated or corrupt). Re-export the "
        "model");
  }
  model_ = fb::GetModel(b.data());
  if (model_->version() != kSchemaVersion) {
    return Status::Invalid("schema version " +
                           std::to_string(model_->version()) +
                           " is not supported (only 3). Re-export the model "
                           "with a current converter");
  }

  // Buffers: inline data, or [offset, offset + size) past the flatbuffer.
  const auto* buffers = model_->buffers();
  size_t nbuf = buffers ? buffers->size() : 0;
  buffers_.resize(nbuf);
  for (size_t i = 0; i < nbuf; ++i) {
    const fb::Buffer* buf = buffers->Get(i);
    if (buf->data() && buf->data()->size() > 0) {
      buffers_[i] = {buf->data()->data(), buf->data()->size()};
    } else if (buf->offset() > 1) {
      uint64_t off = buf->offset(), size = buf->size();
      if (off > b.size() || size > b.size() - off) {
        return Status::Invalid(
            "buffer " + std::to_string(i) + " claims bytes [" +
            std::to_string(off) + ", " + std::to_string(off + size) +
            ") but the file has " + std::to_string(b.size()) +
            " (truncated?). Re-export the model");
      }
      buffers_[i] = {b.data() + off, size};
    }
  }

  const auto* codes = model_->operator_codes();
  size_t ncodes = codes ? codes->size() : 0;
  const auto* subgraphs = model_->subgraphs();
  if (subgraphs == nullptr || subgraphs->size() == 0) {
    return Status::Invalid(
        "the model has no subgraph, so there is nothing to run. Re-export "
        "the model");
  }
  for (size_t s = 0; s < subgraphs->size(); ++s) {
    const fb::SubGraph* sg = subgraphs->Get(s);
    const auto* tensors = sg->tensors();
    size_t nt = tensors ? tensors->size() : 0;
    for (size_t t = 0; t < nt; ++t) {
      const fb::Tensor* tensor = tensors->Get(t);
      std::string label = TensorLabel(s, t, tensor);
      if (tensor->buffer() >= nbuf) {
        return Status::Invalid(label + " refers to buffer " +
                               std::to_string(tensor->buffer()) +
                               " but the model has " + std::to_string(nbuf) +
                               " buffers (corrupt file). Re-export the model");
      }
      int64_t elements = 1;
      if (tensor->shape()) {
        for (int32_t d : *tensor->shape()) {
          if (d < 0) {
            return Status::Invalid(label + " has a negative dimension " +
                                   std::to_string(d) +
                                   " in its shape (corrupt file). Re-export "
                                   "the model");
          }
          elements *= d;
          if (elements > (int64_t{1} << 40)) {
            return Status::Invalid(label +
                                   " is impossibly large (corrupt file)");
          }
        }
      }
      BufferView data = buffers_[tensor->buffer()];
      if (data.size == 0 || tensor->sparsity() != nullptr) continue;
      size_t esize = ElementSize(tensor->type());
      if (esize == 0) continue;  // strings and friends carry their own size
      uint64_t need = static_cast<uint64_t>(elements) * esize;
      if (data.size != need) {
        return Status::Invalid(label + " (" + TypeName(tensor->type()) + ", " +
                               std::to_string(elements) + " elements) needs " +
                               std::to_string(need) + " bytes but its buffer " +
                               std::to_string(tensor->buffer()) + " holds " +
                               std::to_string(data.size) +
                               " (corrupt file). Re-export the model");
      }
    }
    auto check_index = [&](int32_t idx, const std::string& where,
                           bool optional) -> Status {
      if ((optional && idx == -1) ||
          (idx >= 0 && static_cast<size_t>(idx) < nt))
        return Status::Ok();
      return Status::Invalid(where + " refers to tensor " +
                             std::to_string(idx) + " but subgraph " +
                             std::to_string(s) + " has " + std::to_string(nt) +
                             " tensors (corrupt file). Re-export the model");
    };
    std::string sgname = "subgraph " + std::to_string(s);
    if (sg->inputs()) {
      for (int32_t i : *sg->inputs())
        K2L_RETURN_IF_ERROR(check_index(i, sgname + "'s inputs", false));
    }
    if (sg->outputs()) {
      for (int32_t i : *sg->outputs())
        K2L_RETURN_IF_ERROR(check_index(i, sgname + "'s outputs", false));
    }
    const auto* ops = sg->operators();
    size_t nops = ops ? ops->size() : 0;
    for (size_t o = 0; o < nops; ++o) {
      const fb::Operator* op = ops->Get(o);
      std::string where = "operator #" + std::to_string(o) + " of subgraph " +
                          std::to_string(s);
      if (op->opcode_index() >= ncodes) {
        return Status::Invalid(where + " uses operator code " +
                               std::to_string(op->opcode_index()) +
                               " but the model has " + std::to_string(ncodes) +
                               " (corrupt file). Re-export the model");
      }
      if (op->inputs()) {
        for (int32_t i : *op->inputs())
          K2L_RETURN_IF_ERROR(check_index(i, where + "'s inputs", true));
      }
      if (op->outputs()) {
        for (int32_t i : *op->outputs())
          K2L_RETURN_IF_ERROR(check_index(i, where + "'s outputs", false));
      }
      if (op->intermediates()) {
        for (int32_t i : *op->intermediates())
          K2L_RETURN_IF_ERROR(check_index(i, where + "'s intermediates", true));
      }
    }
  }

  if (model_->signature_defs()) {
    for (const fb::SignatureDef* sig : *model_->signature_defs()) {
      std::string key = sig->signature_key() ? sig->signature_key()->str() : "";
      if (sig->subgraph_index() >= subgraphs->size()) {
        return Status::Invalid("signature '" + key + "' runs subgraph " +
                               std::to_string(sig->subgraph_index()) +
                               " but the model has " +
                               std::to_string(subgraphs->size()) +
                               " (corrupt file). Re-export the model");
      }
      const fb::SubGraph* sg = subgraphs->Get(sig->subgraph_index());
      size_t nt = sg->tensors() ? sg->tensors()->size() : 0;
      for (const auto* maps : {sig->inputs(), sig->outputs()}) {
        if (!maps) continue;
        for (const fb::TensorMap* m : *maps) {
          if (m->tensor_index() >= nt) {
            return Status::Invalid(
                "signature '" + key + "' maps '" +
                (m->name() ? m->name()->str() : "") + "' to tensor " +
                std::to_string(m->tensor_index()) + " but its subgraph has " +
                std::to_string(nt) +
                " tensors (corrupt file). Re-export the "
                "model");
          }
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace k2l::runtime
