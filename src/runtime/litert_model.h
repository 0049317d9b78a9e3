// LiteRTModel: load any `.tflite`, describe it the way tf.lite.Interpreter
// does, and run it, by position, by name or per signature.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/interpreter.h"
#include "runtime/tensor.h"

namespace k2l::runtime {

// A host array: what callers pass in and get back.
struct NDArray {
  TensorType dtype = TensorType::FLOAT32;
  Shape shape;
  std::vector<uint8_t> data;

  template <typename T>
  static NDArray Of(TensorType dtype, Shape shape, const std::vector<T>& v) {
    NDArray a{dtype, std::move(shape), {}};
    a.data.resize(v.size() * sizeof(T));
    if (!a.data.empty()) std::memcpy(a.data.data(), v.data(), a.data.size());
    return a;
  }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data.data());
  }
};

struct TensorDetails {
  std::string name;
  int index = 0;  // tensor index in its subgraph
  Shape shape;
  Shape shape_signature;
  TensorType dtype = TensorType::FLOAT32;
  Quantization quantization;
};

struct SignatureInfo {
  std::string key;
  int subgraph = 0;
  // Signature names in file order, each with its tensor index.
  std::vector<std::pair<std::string, int>> inputs;
  std::vector<std::pair<std::string, int>> outputs;
};

struct LoadOptions {
  int num_threads = 1;
};

class LiteRTModel {
 public:
  // Verifies, validates and prepares the model: a corrupt file, an op
  // without a kernel or an inconsistent shape is an error here.
  static Result<LiteRTModel> Load(const std::string& path,
                                  LoadOptions options = {});
  static Result<LiteRTModel> Load(std::vector<uint8_t> bytes,
                                  LoadOptions options = {});

  // The main subgraph's inputs and outputs (like tf.lite.Interpreter).
  std::vector<TensorDetails> input_details() const;
  std::vector<TensorDetails> output_details() const;
  std::vector<SignatureInfo> signatures() const;

  // Resizes input `position` (or by name) of the main subgraph.
  Status ResizeInput(int position, const Shape& shape);
  Status ResizeInput(const std::string& name, const Shape& shape);
  Status AllocateTensors();

  // Runs the main subgraph with inputs by position. An input whose shape
  // differs from the current one resizes it first.
  Result<std::vector<NDArray>> Predict(const std::vector<NDArray>& inputs);
  // Runs by input name. With a signature key (or, when the model has
  // signatures and none is given, its first one) names are the signature's;
  // otherwise they are the main subgraph's tensor names.
  Result<std::map<std::string, NDArray>> Predict(
      const std::map<std::string, NDArray>& inputs,
      const std::string& signature_key = "");

  // The entry point a run by name uses: the signature `key`, or with an
  // empty key the first signature; a model without signatures has one
  // unnamed entry, the main subgraph, named by its tensors.
  Result<SignatureInfo> ResolveEntry(const std::string& key) const;

  // Writes the model's bytes atomically.
  Status Save(const std::string& path) const;
  const std::vector<uint8_t>& bytes() const { return file_->bytes(); }
  Interpreter& interpreter() { return *interp_; }

 private:
  static Result<LiteRTModel> FromFile(std::shared_ptr<const ModelFile> file,
                                      LoadOptions options);
  Result<std::vector<NDArray>> Run(Subgraph& sg, const std::vector<int>& ins,
                                   const std::vector<const NDArray*>& values,
                                   const std::vector<int>& outs);
  std::shared_ptr<const ModelFile> file_;
  std::unique_ptr<Interpreter> interp_;
};

}  // namespace k2l::runtime
