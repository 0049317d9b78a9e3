#include "runtime/litert_model.h"

#include <cstring>

#include "core/file_io.h"

namespace k2l::runtime {

namespace {

TensorDetails Details(const Tensor& t, int index) {
  return {t.name, index, t.shape, t.shape_signature, t.type, t.quant};
}

}  // namespace

Result<LiteRTModel> LiteRTModel::Load(const std::string& path,
                                      LoadOptions options) {
  K2L_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path));
  K2L_ASSIGN_OR_RETURN(auto file, ModelFile::Read(std::move(bytes), path));
  return FromFile(std::move(file), options);
}

Result<LiteRTModel> LiteRTModel::Load(std::vector<uint8_t> bytes,
                                      LoadOptions options) {
  K2L_ASSIGN_OR_RETURN(auto file, ModelFile::Read(std::move(bytes), "<bytes>"));
  return FromFile(std::move(file), options);
}

Result<LiteRTModel> LiteRTModel::FromFile(std::shared_ptr<const ModelFile> file,
                                          LoadOptions options) {
  LiteRTModel m;
  m.file_ = file;
  K2L_ASSIGN_OR_RETURN(m.interp_,
                       Interpreter::Create(file, {options.num_threads}));
  // Prepare every signature's subgraph (and the main one) now, so shape and
  // type errors surface at load.
  std::vector<int> to_prepare = {0};
  for (const auto& sig : m.signatures()) to_prepare.push_back(sig.subgraph);
  for (int s : to_prepare) {
    Subgraph& sg = m.interp_->subgraph(s);
    if (sg.allocated()) continue;
    Status st = sg.AllocateTensors();
    if (st.ok()) continue;
    // With a dynamic input dimension, the placeholder size (1) may be one
    // the model cannot take (a slice of 2 along it, say); the real shapes
    // come with the first Predict, which prepares again and reports then.
    bool dynamic = false;
    for (int i : sg.inputs())
      for (int32_t d : sg.tensor(i).shape_signature) dynamic |= d < 0;
    if (!dynamic) return st.WithContext("cannot load '" + file->name() + "'");
  }
  return m;
}

std::vector<TensorDetails> LiteRTModel::input_details() const {
  std::vector<TensorDetails> out;
  Subgraph& sg = interp_->subgraph(0);
  for (int i : sg.inputs()) out.push_back(Details(sg.tensor(i), i));
  return out;
}

std::vector<TensorDetails> LiteRTModel::output_details() const {
  std::vector<TensorDetails> out;
  Subgraph& sg = interp_->subgraph(0);
  for (int i : sg.outputs()) out.push_back(Details(sg.tensor(i), i));
  return out;
}

std::vector<SignatureInfo> LiteRTModel::signatures() const {
  std::vector<SignatureInfo> out;
  const auto* defs = file_->model().signature_defs();
  if (defs == nullptr) return out;
  for (const fb::SignatureDef* d : *defs) {
    SignatureInfo s;
    s.key = d->signature_key() ? d->signature_key()->str() : "";
    s.subgraph = static_cast<int>(d->subgraph_index());
    if (d->inputs()) {
      for (const fb::TensorMap* m : *d->inputs())
        s.inputs.emplace_back(m->name() ? m->name()->str() : "",
                              static_cast<int>(m->tensor_index()));
    }
    if (d->outputs()) {
      for (const fb::TensorMap* m : *d->outputs())
        s.outputs.emplace_back(m->name() ? m->name()->str() : "",
                               static_cast<int>(m->tensor_index()));
    }
    out.push_back(std::move(s));
  }
  return out;
}

Status LiteRTModel::ResizeInput(int position, const Shape& shape) {
  Subgraph& sg = interp_->subgraph(0);
  if (position < 0 || position >= static_cast<int>(sg.inputs().size())) {
    return Status::Invalid("input position " + std::to_string(position) +
                           " is out of range: the model has " +
                           std::to_string(sg.inputs().size()) + " inputs");
  }
  return sg.ResizeInput(sg.inputs()[position], shape);
}

Status LiteRTModel::ResizeInput(const std::string& name, const Shape& shape) {
  Subgraph& sg = interp_->subgraph(0);
  std::string names;
  for (size_t p = 0; p < sg.inputs().size(); ++p) {
    const Tensor& t = sg.tensor(sg.inputs()[p]);
    if (t.name == name) return ResizeInput(static_cast<int>(p), shape);
    names += (p ? ", " : "") + t.name;
  }
  return Status::Invalid("the model has no input named '" + name +
                         "'; its inputs are: " + names);
}

Status LiteRTModel::AllocateTensors() {
  return interp_->subgraph(0).AllocateTensors();
}

Result<std::vector<NDArray>> LiteRTModel::Run(
    Subgraph& sg, const std::vector<int>& ins,
    const std::vector<const NDArray*>& values, const std::vector<int>& outs) {
  for (size_t i = 0; i < ins.size(); ++i) {
    Tensor& t = sg.tensor(ins[i]);
    const NDArray& v = *values[i];
    if (v.dtype != t.type) {
      return Status::Invalid("input '" + t.name + "' takes " +
                             TypeName(t.type) + " but was given " +
                             TypeName(v.dtype) + ". Cast the array");
    }
    size_t need = NumElements(v.shape) * ElementSize(v.dtype);
    if (v.data.size() != need) {
      return Status::Invalid("input '" + t.name + "': the array of shape " +
                             ShapeString(v.shape) + " holds " +
                             std::to_string(v.data.size()) + " bytes, not " +
                             std::to_string(need));
    }
    if (t.shape != v.shape)
      K2L_RETURN_IF_ERROR(sg.ResizeInput(ins[i], v.shape));
  }
  if (!sg.allocated()) K2L_RETURN_IF_ERROR(sg.AllocateTensors());
  for (size_t i = 0; i < ins.size(); ++i) {
    Tensor& t = sg.tensor(ins[i]);
    if (t.mutable_raw() == nullptr) {
      return Status::Invalid("input '" + t.name +
                             "' is a constant and cannot be fed");
    }
    if (!values[i]->data.empty())
      std::memcpy(t.mutable_raw(), values[i]->data.data(),
                  values[i]->data.size());
  }
  K2L_RETURN_IF_ERROR(sg.Invoke());
  std::vector<NDArray> result;
  for (int o : outs) {
    const Tensor& t = sg.tensor(o);
    NDArray a{t.type, t.shape, {}};
    a.data.resize(t.bytes());
    if (t.bytes() > 0) std::memcpy(a.data.data(), t.raw(), t.bytes());
    result.push_back(std::move(a));
  }
  return result;
}

Result<std::vector<NDArray>> LiteRTModel::Predict(
    const std::vector<NDArray>& inputs) {
  Subgraph& sg = interp_->subgraph(0);
  if (inputs.size() != sg.inputs().size()) {
    return Status::Invalid("the model takes " +
                           std::to_string(sg.inputs().size()) + " inputs but " +
                           std::to_string(inputs.size()) + " were given");
  }
  std::vector<const NDArray*> values;
  for (const auto& a : inputs) values.push_back(&a);
  return Run(sg, sg.inputs(), values, sg.outputs());
}

Result<std::map<std::string, NDArray>> LiteRTModel::Predict(
    const std::map<std::string, NDArray>& inputs,
    const std::string& signature_key) {
  K2L_ASSIGN_OR_RETURN(SignatureInfo entry, ResolveEntry(signature_key));
  const auto& in_map = entry.inputs;
  const auto& out_map = entry.outputs;
  const int subgraph = entry.subgraph;
  std::vector<int> ins, outs;
  std::vector<const NDArray*> values;
  std::string names;
  for (const auto& [name, idx] : in_map)
    names += (names.empty() ? "" : ", ") + name;
  // A name the model does not have first: it is usually a misspelling of
  // the one that then seems missing.
  for (const auto& [name, v] : inputs) {
    bool known = false;
    for (const auto& p : in_map) known |= p.first == name;
    if (!known) {
      return Status::Invalid("the model has no input named '" + name +
                             "'; it takes: " + names);
    }
  }
  for (const auto& [name, idx] : in_map) {
    auto it = inputs.find(name);
    if (it == inputs.end()) {
      return Status::Invalid("input '" + name +
                             "' was not given; the model "
                             "takes: " +
                             names);
    }
    ins.push_back(idx);
    values.push_back(&it->second);
  }
  for (const auto& p : out_map) outs.push_back(p.second);
  K2L_ASSIGN_OR_RETURN(auto arrays,
                       Run(interp_->subgraph(subgraph), ins, values, outs));
  std::map<std::string, NDArray> result;
  for (size_t i = 0; i < out_map.size(); ++i)
    result[out_map[i].first] = std::move(arrays[i]);
  return result;
}

Result<SignatureInfo> LiteRTModel::ResolveEntry(const std::string& key) const {
  auto sigs = signatures();
  if (key.empty() && sigs.empty()) {
    SignatureInfo main;
    Subgraph& sg = interp_->subgraph(0);
    for (int i : sg.inputs()) main.inputs.emplace_back(sg.tensor(i).name, i);
    for (int i : sg.outputs()) main.outputs.emplace_back(sg.tensor(i).name, i);
    return main;
  }
  std::string keys;
  for (const auto& s : sigs) {
    if (key.empty() || s.key == key) return s;
    keys += (keys.empty() ? "" : ", ") + s.key;
  }
  return Status::Invalid("the model has no signature '" + key + "'; it has: " +
                         (keys.empty() ? std::string("none") : keys) +
                         ". Name one of those, or none to run the first");
}

Status LiteRTModel::Save(const std::string& path) const {
  return WriteFileAtomically(path, file_->bytes());
}

}  // namespace k2l::runtime
