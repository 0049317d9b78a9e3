#include "litert/inspect.h"

#include <cstring>
#include <map>
#include <sstream>

#include "litert/schema_generated.h"

namespace k2l::litert {

namespace fb = k2l::litert::fb;

namespace {

std::string OpName(const fb::OperatorCode* oc) {
  int code = std::max<int>(oc->deprecated_builtin_code(),
                           static_cast<int>(oc->builtin_code()));
  if (code == static_cast<int>(fb::BuiltinOperator::CUSTOM)) {
    return std::string("CUSTOM:") +
           (oc->custom_code() ? oc->custom_code()->str() : "?");
  }
  const char* name =
      fb::EnumNameBuiltinOperator(static_cast<fb::BuiltinOperator>(code));
  if (name == nullptr || *name == '\0')
    return "BUILTIN_" + std::to_string(code);
  return name;
}

template <typename V>
std::string Dims(const V* v) {
  std::ostringstream os;
  os << "[";
  if (v != nullptr) {
    for (size_t i = 0; i < v->size(); ++i) os << (i ? ", " : "") << v->Get(i);
  }
  os << "]";
  return os.str();
}

}  // namespace

Result<std::string> DescribeModel(const std::vector<uint8_t>& bytes,
                                  const std::string& name) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (bytes.size() < 8 || !fb::ModelBufferHasIdentifier(bytes.data()) ||
      !fb::VerifyModelBuffer(verifier)) {
    return Status::Invalid("'" + name +
                           "' is not a valid LiteRT model: the flatbuffer "
                           "verifier rejects it (wrong identifier, truncated "
                           "or corrupt). Re-export the model");
  }
  const fb::Model* m = fb::GetModel(bytes.data());
  std::ostringstream os;
  os << name << ": " << bytes.size() << " bytes, schema version "
     << m->version();
  if (m->description()) os << ", \"" << m->description()->str() << "\"";
  os << "\n";

  auto codes = m->operator_codes();
  auto subgraphs = m->subgraphs();
  auto buffers = m->buffers();
  size_t nsub = subgraphs ? subgraphs->size() : 0;
  for (size_t s = 0; s < nsub; ++s) {
    const fb::SubGraph* sg = subgraphs->Get(s);
    os << "\nsubgraph " << s;
    if (sg->name()) os << " '" << sg->name()->str() << "'";
    os << "\n";
    std::map<std::string, int> counts;
    size_t nops = sg->operators() ? sg->operators()->size() : 0;
    os << "  operators (" << nops << "):\n";
    for (size_t i = 0; i < nops; ++i) {
      const fb::Operator* op = sg->operators()->Get(i);
      std::string opname = "?";
      if (codes && op->opcode_index() < codes->size()) {
        const fb::OperatorCode* oc = codes->Get(op->opcode_index());
        opname = OpName(oc) + " v" + std::to_string(oc->version());
      }
      ++counts[opname];
      os << "    #" << i << " " << opname << " in=" << Dims(op->inputs())
         << " out=" << Dims(op->outputs()) << "\n";
    }
    os << "  op counts:\n";
    for (const auto& [n, c] : counts) os << "    " << n << ": " << c << "\n";
    size_t nt = sg->tensors() ? sg->tensors()->size() : 0;
    os << "  tensors (" << nt << "):\n";
    for (size_t i = 0; i < nt; ++i) {
      const fb::Tensor* t = sg->tensors()->Get(i);
      os << "    %" << i << " '" << (t->name() ? t->name()->str() : "") << "' "
         << fb::EnumNameTensorType(t->type()) << Dims(t->shape());
      if (t->shape_signature())
        os << " signature=" << Dims(t->shape_signature());
      if (buffers && t->buffer() > 0 && t->buffer() < buffers->size()) {
        const fb::Buffer* b = buffers->Get(t->buffer());
        size_t size = b->data() ? b->data()->size() : b->size();
        os << " buffer=" << t->buffer() << " (" << size << " bytes)";
      }
      if (t->quantization() && t->quantization()->scale() &&
          t->quantization()->scale()->size() > 0) {
        os << " quantized(scale=" << t->quantization()->scale()->Get(0) << ")";
      }
      os << "\n";
    }
    os << "  inputs " << Dims(sg->inputs()) << " outputs "
       << Dims(sg->outputs()) << "\n";
  }

  if (m->signature_defs()) {
    os << "\nsignatures:\n";
    for (const fb::SignatureDef* sig : *m->signature_defs()) {
      os << "  '" << (sig->signature_key() ? sig->signature_key()->str() : "")
         << "' (subgraph " << sig->subgraph_index() << ")\n";
      auto maps = [&](const char* what, const auto* v) {
        if (!v) return;
        for (const fb::TensorMap* tm : *v) {
          os << "    " << what << " " << (tm->name() ? tm->name()->str() : "")
             << " -> %" << tm->tensor_index() << "\n";
        }
      };
      maps("input ", sig->inputs());
      maps("output", sig->outputs());
    }
  }

  size_t total = 0;
  size_t nbuf = buffers ? buffers->size() : 0;
  for (size_t i = 0; i < nbuf; ++i) {
    const fb::Buffer* b = buffers->Get(i);
    total += b->data() ? b->data()->size() : b->size();
  }
  os << "\nbuffers: " << nbuf << ", " << total << " bytes of data\n";
  if (m->metadata()) {
    os << "metadata:\n";
    for (const fb::Metadata* md : *m->metadata()) {
      os << "  " << (md->name() ? md->name()->str() : "");
      if (buffers && md->buffer() < nbuf) {
        const fb::Buffer* b = buffers->Get(md->buffer());
        if (b->data() && md->name() &&
            md->name()->str() == "min_runtime_version") {
          const char* d = reinterpret_cast<const char*>(b->data()->data());
          os << " = " << std::string(d, strnlen(d, b->data()->size()));
        }
      }
      os << "\n";
    }
  }
  return os.str();
}

}  // namespace k2l::litert
