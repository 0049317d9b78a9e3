// The interpreter: subgraphs of tensors and nodes built from a validated
// model file, prepared once (AllocateTensors) and invoked many times.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/kernel.h"
#include "runtime/model_reader.h"
#include "runtime/tensor.h"

struct pthreadpool;

namespace k2l::runtime {

class Subgraph {
 public:
  Subgraph(Interpreter& interp, int index) : interp_(interp), index_(index) {}

  int index() const { return index_; }
  const std::string& name() const { return name_; }
  std::vector<Tensor>& tensors() { return tensors_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  Tensor& tensor(int i) { return tensors_[i]; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  Interpreter& interpreter() { return interp_; }

  // Sets the shape of input tensor `tensor`; checked against its
  // shape_signature. Takes effect at the next AllocateTensors.
  Status ResizeInput(int tensor, const Shape& shape);
  // Runs every kernel's Prepare in order and sizes every tensor.
  Status AllocateTensors();
  bool allocated() const { return allocated_; }
  // Runs the nodes; inputs must hold data. Refused while this subgraph is
  // already running (a control-flow op calling it recursively).
  Status Invoke();
  // Sets every variable tensor to zero (int8: its zero point), as LiteRT
  // does whenever it (re)allocates tensors.
  void ResetVariableTensors();

 private:
  friend class Interpreter;
  Status Build(const ModelFile& file, const OpResolver& resolver);

  Interpreter& interp_;
  int index_;
  std::string name_;
  std::vector<Tensor> tensors_;
  std::vector<Node> nodes_;
  std::vector<int> inputs_, outputs_;
  bool allocated_ = false;
  bool invoking_ = false;
};

struct InterpreterOptions {
  // Threads for kernels that split their work; 1 runs on the caller only.
  int num_threads = 1;
  // The kernels operators resolve to; null means BuiltinKernels(). Tests use
  // it to add stand-in kernels.
  const OpResolver* resolver = nullptr;
};

class Interpreter {
 public:
  // Builds every subgraph and resolves every operator to a kernel, so an op
  // the runtime lacks is reported here, before anything runs.
  static Result<std::unique_ptr<Interpreter>> Create(
      std::shared_ptr<const ModelFile> file, InterpreterOptions options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  int num_subgraphs() const { return static_cast<int>(subgraphs_.size()); }
  Subgraph& subgraph(int i) { return *subgraphs_[i]; }
  const ModelFile& file() const { return *file_; }
  int num_threads() const { return options_.num_threads; }
  pthreadpool* threadpool() const { return pool_; }

 private:
  Interpreter() = default;
  std::shared_ptr<const ModelFile> file_;
  InterpreterOptions options_;
  std::vector<std::unique_ptr<Subgraph>> subgraphs_;
  pthreadpool* pool_ = nullptr;
};

}  // namespace k2l::runtime
