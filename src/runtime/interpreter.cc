#include "runtime/interpreter.h"

#include <pthreadpool.h>

#include <algorithm>
#include <cstring>

namespace k2l::runtime {

// ---------------------------------------------------------------------------
// OpContext

const Tensor& OpContext::input(int i) const {
  return sg_.tensor(node_.inputs[i]);
}
Tensor& OpContext::mutable_input(int i) { return sg_.tensor(node_.inputs[i]); }
Tensor& OpContext::output(int i) { return sg_.tensor(node_.outputs[i]); }

std::string OpContext::Describe() const {
  return BuiltinName(node_.kernel->code) + " (operator #" +
         std::to_string(node_.index) + " of subgraph " +
         std::to_string(sg_.index()) + ")";
}

Status OpContext::Error(const std::string& why) const {
  return Status::Invalid(Describe() + ": " + why);
}

Status OpContext::ResizeOutput(int i, Shape shape) {
  for (int32_t d : shape) {
    if (d < 0) {
      return Error("output " + std::to_string(i) + " would have shape " +
                   ShapeString(shape) + " with a negative dimension");
    }
  }
  Tensor& t = output(i);
  if (ElementSize(t.type) == 0) {
    return Error("output '" + t.name + "' has type " + TypeName(t.type) +
                 ", which the runtime does not hold in memory");
  }
  t.Allocate(std::move(shape));
  return Status::Ok();
}

bool OpContext::ValueKnown(int i) const {
  return input(i).is_constant() || running_;
}

Interpreter& OpContext::interpreter() { return sg_.interpreter(); }
int OpContext::threads() const { return sg_.interpreter().num_threads(); }

namespace {
struct ParallelTask {
  const std::function<void(int64_t, int64_t)>* fn;
  int64_t n;
  int64_t chunk;
};
void RunChunk(void* arg, size_t i) {
  auto* t = static_cast<ParallelTask*>(arg);
  int64_t begin = static_cast<int64_t>(i) * t->chunk;
  (*t->fn)(begin, std::min(t->n, begin + t->chunk));
}
}  // namespace

void OpContext::ParallelFor(
    int64_t n, int64_t min_chunk,
    const std::function<void(int64_t, int64_t)>& fn) const {
  if (n <= 0) return;
  pthreadpool_t pool = sg_.interpreter().threadpool();
  int threads = sg_.interpreter().num_threads();
  if (pool == nullptr || threads <= 1 || n <= min_chunk) {
    fn(0, n);
    return;
  }
  int64_t chunk =
      std::max<int64_t>(min_chunk, (n + threads * 4 - 1) / (threads * 4));
  ParallelTask task{&fn, n, chunk};
  size_t tasks = static_cast<size_t>((n + chunk - 1) / chunk);
  pthreadpool_parallelize_1d(pool, &RunChunk, &task, tasks, 0);
}

// ---------------------------------------------------------------------------
// Subgraph

Status Subgraph::Build(const ModelFile& file, const OpResolver& resolver) {
  const fb::Model& m = file.model();
  const fb::SubGraph* sg = m.subgraphs()->Get(index_);
  name_ = sg->name() ? sg->name()->str() : "";
  size_t nt = sg->tensors() ? sg->tensors()->size() : 0;
  tensors_.resize(nt);
  for (size_t i = 0; i < nt; ++i) {
    const fb::Tensor* ft = sg->tensors()->Get(i);
    Tensor& t = tensors_[i];
    t.name = ft->name() ? ft->name()->str() : "";
    t.type = ft->type();
    if (ft->shape()) t.shape.assign(ft->shape()->begin(), ft->shape()->end());
    if (ft->shape_signature() &&
        ft->shape_signature()->size() == t.shape.size())
      t.shape_signature.assign(ft->shape_signature()->begin(),
                               ft->shape_signature()->end());
    else
      t.shape_signature = t.shape;
    t.is_variable = ft->is_variable();
    if (const fb::QuantizationParameters* q = ft->quantization()) {
      if (q->scale())
        t.quant.scale.assign(q->scale()->begin(), q->scale()->end());
      if (q->zero_point())
        t.quant.zero_point.assign(q->zero_point()->begin(),
                                  q->zero_point()->end());
      t.quant.quantized_dimension = q->quantized_dimension();
    }
    std::string label = "tensor %" + std::to_string(i) + " '" + t.name +
                        "' of subgraph " + std::to_string(index_);
    if (ft->sparsity() != nullptr) {
      return Status::Invalid(label +
                             " is sparse, which the runtime does not support "
                             "yet. Export the model with dense weights");
    }
    BufferView data = file.buffer(ft->buffer());
    if (data.size > 0) {
      if (ElementSize(t.type) == 0) {
        return Status::Invalid(label + " is a constant of type " +
                               TypeName(t.type) +
                               ", which the runtime does not support");
      }
      if (t.is_variable) {
        // LiteRT refuses this too: variables start at zero.
        return Status::Invalid(label +
                               " is a variable tensor with initial data, "
                               "which LiteRT does not support. Drop the "
                               "data: variables start at zero");
      }
      bool aligned =
          reinterpret_cast<uintptr_t>(data.data) % ElementSize(t.type) == 0;
      if (!aligned) {
        // Misaligned constants are copied once so kernels can read them as
        // their element type.
        t.Allocate(t.shape);
        std::memcpy(t.mutable_raw(), data.data, data.size);
      } else {
        t.SetConstant(data.data);
      }
    }
  }
  if (sg->inputs()) inputs_.assign(sg->inputs()->begin(), sg->inputs()->end());
  if (sg->outputs())
    outputs_.assign(sg->outputs()->begin(), sg->outputs()->end());

  size_t nops = sg->operators() ? sg->operators()->size() : 0;
  nodes_.resize(nops);
  std::vector<std::string> missing;
  for (size_t o = 0; o < nops; ++o) {
    const fb::Operator* op = sg->operators()->Get(o);
    const fb::OperatorCode* oc = m.operator_codes()->Get(op->opcode_index());
    fb::BuiltinOperator code = ModelFile::Code(*oc);
    Node& node = nodes_[o];
    node.op = op;
    node.index = static_cast<int>(o);
    node.version = std::max(1, oc->version());
    if (op->inputs())
      node.inputs.assign(op->inputs()->begin(), op->inputs()->end());
    if (op->outputs())
      node.outputs.assign(op->outputs()->begin(), op->outputs()->end());
    if (code == fb::BuiltinOperator::CUSTOM) {
      missing.push_back("CUSTOM op '" +
                        (oc->custom_code() ? oc->custom_code()->str() : "") +
                        "' (operator #" + std::to_string(o) + ")");
      continue;
    }
    node.kernel = resolver.Find(code, node.version);
    if (node.kernel == nullptr) {
      bool other_version = resolver.Find(code, 1) != nullptr;
      missing.push_back(
          BuiltinName(code) + " version " + std::to_string(node.version) +
          " (operator #" + std::to_string(o) + ")" +
          (other_version ? " [other versions are supported]" : ""));
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 20; ++i)
      list += (i ? ", " : "") + missing[i];
    if (missing.size() > 20)
      list += ", and " + std::to_string(missing.size() - 20) + " more";
    return Status::Invalid(
        "subgraph " + std::to_string(index_) + " uses operators this runtime " +
        "has no kernel for: " + list +
        ". Run the model with ai-edge-litert, or ask for the kernel");
  }
  return Status::Ok();
}

Status Subgraph::ResizeInput(int tensor, const Shape& shape) {
  if (tensor < 0 || tensor >= static_cast<int>(tensors_.size()))
    return Status::Invalid("no tensor " + std::to_string(tensor));
  Tensor& t = tensors_[tensor];
  if (t.shape == shape) return Status::Ok();
  const Shape& sig = t.shape_signature;
  bool fits = sig.size() == shape.size();
  for (size_t i = 0; fits && i < shape.size(); ++i)
    fits = shape[i] >= 0 && (sig[i] == -1 || sig[i] == shape[i]);
  if (!fits) {
    return Status::Invalid(
        "input '" + t.name + "' cannot take shape " + ShapeString(shape) +
        ": its signature is " + ShapeString(sig) +
        " (-1 marks a dimension that may change). Give it a shape that "
        "matches");
  }
  t.shape = shape;
  allocated_ = false;
  return Status::Ok();
}

Status Subgraph::AllocateTensors() {
  for (int i : inputs_) {
    Tensor& t = tensors_[i];
    if (!t.is_constant() && ElementSize(t.type) > 0) t.Allocate(t.shape);
  }
  for (Tensor& t : tensors_) {
    t.dynamic = false;
    if (t.is_variable && ElementSize(t.type) > 0) t.Allocate(t.shape);
  }
  ResetVariableTensors();
  for (Node& node : nodes_) {
    node.deferred = false;
    bool dynamic_input = false;
    for (int i : node.inputs)
      if (i >= 0 && tensors_[i].dynamic) dynamic_input = true;
    if (dynamic_input) {
      node.deferred = true;
    } else {
      OpContext ctx(*this, node, /*running=*/false);
      K2L_RETURN_IF_ERROR(node.kernel->prepare(ctx));
    }
    if (node.deferred) {
      for (int o : node.outputs) tensors_[o].dynamic = true;
    }
  }
  allocated_ = true;
  return Status::Ok();
}

void Subgraph::ResetVariableTensors() {
  for (Tensor& t : tensors_) {
    if (!t.is_variable || t.mutable_raw() == nullptr) continue;
    int value = 0;
    if (t.type == TensorType::INT8 && !t.quant.zero_point.empty())
      value = static_cast<int>(t.quant.zero_point[0]);
    std::memset(t.mutable_raw(), value, t.bytes());
  }
}

Status Subgraph::Invoke() {
  if (invoking_) {
    return Status::Invalid("subgraph " + std::to_string(index_) +
                           " is invoked while it is already running: a "
                           "control-flow op calls it recursively");
  }
  if (!allocated_) K2L_RETURN_IF_ERROR(AllocateTensors());
  invoking_ = true;
  Status status = Status::Ok();
  for (Node& node : nodes_) {
    OpContext ctx(*this, node, /*running=*/true);
    if (node.deferred) status = node.kernel->prepare(ctx);
    if (status.ok()) status = node.kernel->eval(ctx);
    if (!status.ok()) break;
  }
  invoking_ = false;
  return status;
}

// ---------------------------------------------------------------------------
// Interpreter

Result<std::unique_ptr<Interpreter>> Interpreter::Create(
    std::shared_ptr<const ModelFile> file, InterpreterOptions options) {
  std::unique_ptr<Interpreter> interp(new Interpreter());
  interp->file_ = std::move(file);
  interp->options_ = options;
  if (options.num_threads < 1) {
    return Status::Invalid("num_threads is " +
                           std::to_string(options.num_threads) +
                           "; give 1 or more");
  }
  if (options.num_threads > 1) {
    interp->pool_ = pthreadpool_create(options.num_threads);
  }
  const auto& subgraphs = *interp->file_->model().subgraphs();
  for (size_t s = 0; s < subgraphs.size(); ++s) {
    interp->subgraphs_.push_back(
        std::make_unique<Subgraph>(*interp, static_cast<int>(s)));
  }
  const OpResolver& resolver =
      options.resolver ? *options.resolver : BuiltinKernels();
  for (auto& sg : interp->subgraphs_) {
    Status s = sg->Build(*interp->file_, resolver);
    if (!s.ok())
      return s.WithContext("cannot load '" + interp->file_->name() + "'");
  }
  return interp;
}

Interpreter::~Interpreter() {
  if (pool_ != nullptr) pthreadpool_destroy(pool_);
}

}  // namespace k2l::runtime
