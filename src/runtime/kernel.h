// The interface every kernel implements, in the shape LiteRT's own kernels
// have: Prepare checks types, shapes and quantization once and sizes the
// outputs; Eval computes, calling pure templated math in reference/.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/tensor.h"

namespace k2l::runtime {

class Subgraph;
class Interpreter;

// Per-node state a kernel computes in Prepare and reads in Eval.
struct OpData {
  virtual ~OpData() = default;
};

// One operator of a subgraph, as the interpreter holds it.
struct Node {
  const fb::Operator* op = nullptr;
  const struct KernelRegistration* kernel = nullptr;
  int index = 0;  // position in the subgraph's operator list
  int version = 1;
  std::vector<int> inputs;  // -1 marks an omitted optional input
  std::vector<int> outputs;
  std::unique_ptr<OpData> data;
  // Prepare needs input values that only exist at run time, so it runs
  // again right before each Eval.
  bool deferred = false;
};

class OpContext {
 public:
  OpContext(Subgraph& sg, Node& node, bool running)
      : sg_(sg), node_(node), running_(running) {}

  int num_inputs() const { return static_cast<int>(node_.inputs.size()); }
  int num_outputs() const { return static_cast<int>(node_.outputs.size()); }
  bool has_input(int i) const {
    return i < num_inputs() && node_.inputs[i] >= 0;
  }
  const Tensor& input(int i) const;
  // For kernels that update a variable tensor in place.
  Tensor& mutable_input(int i);
  Tensor& output(int i);

  const fb::Operator& op() const { return *node_.op; }
  template <typename T>
  const T* options() const {
    return node_.op->builtin_options_as<T>();
  }
  int version() const { return node_.version; }
  // "CONV_2D (operator #5 of subgraph 0)".
  std::string Describe() const;
  // An invalid-input status naming this operator, then `why`.
  Status Error(const std::string& why) const;

  // Gives output `i` this shape and storage for it.
  Status ResizeOutput(int i, Shape shape);
  // Whether input `i`'s values can be read now: a constant, or (while
  // running) a tensor already computed.
  bool ValueKnown(int i) const;
  // Called from Prepare when an output's shape depends on input values that
  // only exist at run time; Prepare then runs again before each Eval.
  void Defer() { node_.deferred = true; }
  bool running() const { return running_; }

  template <typename T>
  T& data() {
    if (!node_.data) node_.data = std::make_unique<T>();
    return static_cast<T&>(*node_.data);
  }

  Subgraph& subgraph() { return sg_; }
  Interpreter& interpreter();
  int threads() const;
  // Runs fn(begin, end) over [0, n) split across the interpreter's threads.
  void ParallelFor(int64_t n, int64_t min_chunk,
                   const std::function<void(int64_t, int64_t)>& fn) const;

 private:
  Subgraph& sg_;
  Node& node_;
  bool running_;
};

struct KernelRegistration {
  fb::BuiltinOperator code;
  int min_version;
  int max_version;
  Status (*prepare)(OpContext& ctx);
  Status (*eval)(OpContext& ctx);
};

// Maps (builtin code, version) to a kernel. Registration is explicit and a
// second registration of the same code and overlapping versions is refused.
class OpResolver {
 public:
  Status Add(const KernelRegistration& reg);
  const KernelRegistration* Find(fb::BuiltinOperator code, int version) const;

 private:
  std::vector<KernelRegistration> regs_;
};

// The resolver with every kernel of the runtime (built once).
const OpResolver& BuiltinKernels();

// "CONV_2D", or "BUILTIN_<n>" for a code our schema does not name.
std::string BuiltinName(fb::BuiltinOperator code);

}  // namespace k2l::runtime
