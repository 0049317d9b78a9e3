#include "api/run.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include "runtime/npy.h"

namespace k2l {

namespace {

using runtime::NDArray;
using runtime::TensorType;

}  // namespace

NDArray RandomInput(TensorType type, const runtime::Shape& shape,
                    std::mt19937_64& rng) {
  NDArray a{type, shape, {}};
  int64_t n = runtime::NumElements(shape);
  a.data.resize(n * runtime::ElementSize(type));
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int> small(0, 9);
  for (int64_t i = 0; i < n; ++i) {
    switch (type) {
      case TensorType::FLOAT32:
        reinterpret_cast<float*>(a.data.data())[i] = normal(rng);
        break;
      case TensorType::INT32:
        reinterpret_cast<int32_t*>(a.data.data())[i] = small(rng);
        break;
      case TensorType::INT64:
        reinterpret_cast<int64_t*>(a.data.data())[i] = small(rng);
        break;
      case TensorType::INT8:
        reinterpret_cast<int8_t*>(a.data.data())[i] = static_cast<int8_t>(
            std::uniform_int_distribution<int>(-128, 127)(rng));
        break;
      case TensorType::UINT8:
        a.data[i] = static_cast<uint8_t>(
            std::uniform_int_distribution<int>(0, 255)(rng));
        break;
      case TensorType::BOOL:
        a.data[i] = small(rng) % 2;
        break;
      default:
        break;  // other types stay zero
    }
  }
  return a;
}

namespace {

std::string FileSafe(std::string name) {
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.'))
      c = '_';
  return name.empty() ? "output" : name;
}

}  // namespace

std::string DescribeArray(const NDArray& a) {
  std::ostringstream os;
  os << runtime::TypeName(a.dtype) << runtime::ShapeString(a.shape);
  int64_t n = runtime::NumElements(a.shape);
  if (n > 0 && a.dtype == TensorType::FLOAT32) {
    const float* v = a.as<float>();
    double lo = v[0], hi = v[0], sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min<double>(lo, v[i]);
      hi = std::max<double>(hi, v[i]);
      sum += v[i];
    }
    os << " min " << lo << " max " << hi << " mean " << sum / n;
  }
  return os.str();
}

Result<RunResult> RunModel(const std::string& tflite_path,
                           const RunOptions& options) {
  K2L_ASSIGN_OR_RETURN(auto model,
                       runtime::LiteRTModel::Load(
                           tflite_path, {std::max(1, options.num_threads)}));
  RunResult result;
  // Input names and their tensors.
  K2L_ASSIGN_OR_RETURN(runtime::SignatureInfo entry,
                       model.ResolveEntry(options.signature_key));
  result.signature_key = entry.key;
  const auto& in_map = entry.inputs;
  const int subgraph = entry.subgraph;
  std::string names;
  for (const auto& p : in_map) names += (names.empty() ? "" : ", ") + p.first;

  std::map<std::string, NDArray> feeds;
  for (const auto& [name, path] : options.inputs) {
    std::string key = name;
    if (key.empty()) {
      if (in_map.size() != 1) {
        return Status::Invalid("--input '" + path +
                               "' has no name but the "
                               "model takes " +
                               std::to_string(in_map.size()) + " inputs (" +
                               names + "); write NAME=FILE.npy");
      }
      key = in_map[0].first;
    }
    if (std::none_of(in_map.begin(), in_map.end(),
                     [&](const auto& p) { return p.first == key; })) {
      return Status::Invalid("the model has no input named '" + key +
                             "'; it takes: " + names);
    }
    K2L_ASSIGN_OR_RETURN(NDArray a, runtime::ReadNpy(path));
    feeds[key] = std::move(a);
  }
  std::mt19937_64 rng(options.seed);
  runtime::Subgraph& sg = model.interpreter().subgraph(subgraph);
  for (const auto& [name, index] : in_map) {
    if (feeds.count(name)) continue;
    const runtime::Tensor& t = sg.tensor(index);
    feeds[name] = RandomInput(t.type, t.shape, rng);
  }
  for (const auto& [name, index] : in_map)
    result.inputs.emplace_back(name, feeds[name]);

  std::vector<std::pair<std::string, NDArray>> outputs;
  if (!result.signature_key.empty()) {
    K2L_ASSIGN_OR_RETURN(auto outs, model.Predict(feeds, result.signature_key));
    for (const auto& [name, idx] : entry.outputs)
      outputs.emplace_back(name, std::move(outs[name]));
  } else {
    std::vector<NDArray> ordered;
    for (const auto& [name, idx] : in_map) ordered.push_back(feeds[name]);
    K2L_ASSIGN_OR_RETURN(auto outs, model.Predict(ordered));
    auto details = model.output_details();
    for (size_t i = 0; i < outs.size(); ++i)
      outputs.emplace_back(details[i].name, std::move(outs[i]));
  }
  if (!options.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.output_dir, ec);
    if (ec) {
      return Status::Invalid("cannot create the output folder '" +
                             options.output_dir + "': " + ec.message());
    }
    for (const auto& [name, a] : outputs) {
      std::string path = (std::filesystem::path(options.output_dir) /
                          (FileSafe(name) + ".npy"))
                             .string();
      K2L_RETURN_IF_ERROR(runtime::WriteNpy(path, a));
      result.written.push_back(path);
    }
  }
  result.outputs = std::move(outputs);
  return result;
}

}  // namespace k2l
