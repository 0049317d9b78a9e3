// The Python binding `keras2litert._core`. It only converts types: every
// behaviour lives in the C++ library or in the pure-Python facade
// (python/keras2litert). A Status becomes ValueError (bad input) or
// RuntimeError (internal); arrays cross as numpy arrays.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "api/export.h"
#include "core/status.h"
#include "runtime/litert_model.h"

namespace py = pybind11;

namespace {

using k2l::Result;
using k2l::Status;
using k2l::runtime::NDArray;
using k2l::runtime::TensorType;

[[noreturn]] void Throw(const Status& s) {
  if (s.code() == k2l::StatusCode::kInvalidInput) {
    throw py::value_error(s.message());
  }
  throw std::runtime_error(s.message());
}

void Check(const Status& s) {
  if (!s.ok()) Throw(s);
}

template <typename T>
T Unwrap(Result<T> r) {
  if (!r.ok()) Throw(r.status());
  return std::move(r).value();
}

// ---- export -------------------------------------------------------------

// (name, dtype, shape or None); -1 stands for a dynamic dimension.
using PySpec = std::tuple<std::string, std::string,
                          std::optional<std::vector<int64_t>>>;

// Keras-Hub export parameters: the lengths (or None) and the live task's
// class hierarchy.
struct PyHub {
  std::optional<int64_t> sequence_length;
  std::vector<std::string> task_ancestors;
  std::optional<int64_t> encoder_sequence_length;
  std::optional<int64_t> decoder_sequence_length;
  std::optional<std::pair<int64_t, int64_t>> image_size;
  std::optional<bool> include_preprocessing;
};

k2l::ExportOptions MakeOptions(const std::vector<PySpec>& specs,
                               const PyHub& hub) {
  k2l::ExportOptions o;
  o.hub.sequence_length = hub.sequence_length;
  o.hub.encoder_sequence_length = hub.encoder_sequence_length;
  o.hub.decoder_sequence_length = hub.decoder_sequence_length;
  o.hub.image_size = hub.image_size;
  o.hub.include_preprocessing = hub.include_preprocessing;
  o.hub.task_ancestors = hub.task_ancestors;
  for (const auto& [name, dtype, shape] : specs) {
    k2l::InputSpec s;
    s.name = name;
    s.dtype = dtype;
    if (shape) {
      k2l::ir::Shape dims;
      for (int64_t d : *shape) dims.push_back(d < 0 ? k2l::ir::kDynamic : d);
      s.shape = dims;
    }
    o.input_signature.push_back(std::move(s));
  }
  return o;
}

py::dict ReportToDict(const std::string& output, const k2l::ExportReport& r) {
  py::dict d;
  d["source_format"] = r.source_format;
  py::list ins, outs, stages;
  for (const auto& p : r.inputs) ins.append(py::make_tuple(p.name, p.type));
  for (const auto& p : r.outputs) outs.append(py::make_tuple(p.name, p.type));
  for (const auto& [s, ms] : r.stage_ms) stages.append(py::make_tuple(s, ms));
  d["inputs"] = ins;
  d["outputs"] = outs;
  d["op_counts"] = r.op_counts;
  d["file_bytes"] = r.file_bytes;
  d["constant_bytes"] = r.constant_bytes;
  d["stage_ms"] = stages;
  d["warnings"] = r.warnings;
  d["notes"] = r.notes;
  d["summary"] = k2l::FormatSummary(output, r);
  return d;
}

// Runs an export with the GIL released. Python callbacks (progress, IR
// dumps) run with the GIL held; the first exception one raises is re-raised
// after the export.
py::dict RunExport(
    const std::string& output, const std::vector<PySpec>& specs,
    const PyHub& hub, const py::object& progress, const py::object& dump_ir,
    const std::function<Result<k2l::ExportReport>(const k2l::ExportOptions&)>&
        run) {
  k2l::ExportOptions options = MakeOptions(specs, hub);
  std::optional<py::error_already_set> callback_error;
  auto call = [&](const py::object& fn, auto&&... args) {
    py::gil_scoped_acquire gil;
    if (callback_error) return;
    try {
      fn(args...);
    } catch (py::error_already_set& e) {
      callback_error = std::move(e);
    }
  };
  if (!progress.is_none()) {
    options.progress = [&](const std::string& stage, int done, int total) {
      call(progress, stage, done, total);
    };
  }
  if (!dump_ir.is_none()) {
    options.dump_ir = [&](const std::string& pass, const std::string& text) {
      call(dump_ir, pass, text);
    };
  }
  Result<k2l::ExportReport> r = Status::Internal("export did not run");
  {
    py::gil_scoped_release nogil;
    r = run(options);
  }
  if (callback_error) throw std::move(*callback_error);
  return ReportToDict(output, Unwrap(std::move(r)));
}

// ---- runtime ------------------------------------------------------------

TensorType TypeFromName(const std::string& name) {
  for (int t = int(TensorType::MIN); t <= int(TensorType::MAX); ++t) {
    if (name == k2l::runtime::TypeName(TensorType(t))) return TensorType(t);
  }
  throw py::value_error("arrays of dtype " + name +
                        " cannot be passed to a LiteRT model");
}

NDArray ToNDArray(const py::array& a, const std::string& what) {
  py::array c = py::array::ensure(a, py::array::c_style);
  if (!c) throw py::value_error(what + ": not an array");
  NDArray n;
  n.dtype = TypeFromName(py::str(c.dtype()).cast<std::string>());
  for (py::ssize_t i = 0; i < c.ndim(); ++i) n.shape.push_back(c.shape(i));
  n.data.resize(size_t(c.nbytes()));
  if (!n.data.empty()) std::memcpy(n.data.data(), c.data(), n.data.size());
  return n;
}

py::array FromNDArray(NDArray a) {
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  py::dtype dt(std::string(k2l::runtime::TypeName(a.dtype)));
  auto* owned = new std::vector<uint8_t>(std::move(a.data));
  py::capsule keep(owned, [](void* p) {
    delete static_cast<std::vector<uint8_t>*>(p);
  });
  return py::array(dt, shape, owned->data(), keep);
}

py::array_t<int32_t> ShapeArray(const k2l::runtime::Shape& s) {
  py::array_t<int32_t> a(py::ssize_t(s.size()));
  for (size_t i = 0; i < s.size(); ++i) a.mutable_at(i) = int32_t(s[i]);
  return a;
}

py::dict DetailsToDict(const k2l::runtime::TensorDetails& t) {
  py::dict d;
  d["name"] = t.name;
  d["index"] = t.index;
  d["shape"] = ShapeArray(t.shape);
  d["shape_signature"] = ShapeArray(t.shape_signature);
  d["dtype"] = std::string(k2l::runtime::TypeName(t.dtype));
  const auto& q = t.quantization;
  d["quantization"] = py::make_tuple(q.scale.empty() ? 0.0f : q.scale[0],
                                     q.zero_point.empty() ? 0 : q.zero_point[0]);
  py::array_t<float> scales(py::ssize_t(q.scale.size()));
  py::array_t<int32_t> zps(py::ssize_t(q.zero_point.size()));
  for (size_t i = 0; i < q.scale.size(); ++i) scales.mutable_at(i) = q.scale[i];
  for (size_t i = 0; i < q.zero_point.size(); ++i)
    zps.mutable_at(i) = int32_t(q.zero_point[i]);
  py::dict qp;
  qp["scales"] = scales;
  qp["zero_points"] = zps;
  qp["quantized_dimension"] = q.quantized_dimension;
  d["quantization_parameters"] = qp;
  return d;
}

class PyModel {
 public:
  explicit PyModel(k2l::runtime::LiteRTModel m) : m_(std::move(m)) {}

  static PyModel Load(const std::string& path, int threads) {
    k2l::runtime::LoadOptions o;
    o.num_threads = threads;
    return PyModel(Unwrap(k2l::runtime::LiteRTModel::Load(path, o)));
  }
  static PyModel FromBytes(const py::buffer& data, int threads) {
    py::buffer_info info = data.request();
    const auto* p = static_cast<const uint8_t*>(info.ptr);
    std::vector<uint8_t> bytes(p, p + info.size * info.itemsize);
    k2l::runtime::LoadOptions o;
    o.num_threads = threads;
    return PyModel(
        Unwrap(k2l::runtime::LiteRTModel::Load(std::move(bytes), o)));
  }

  py::list InputDetails() const {
    py::list l;
    for (const auto& d : m_.input_details()) l.append(DetailsToDict(d));
    return l;
  }
  py::list OutputDetails() const {
    py::list l;
    for (const auto& d : m_.output_details()) l.append(DetailsToDict(d));
    return l;
  }
  py::list Signatures() const {
    py::list l;
    for (const auto& s : m_.signatures()) {
      py::dict d;
      d["key"] = s.key;
      d["subgraph"] = s.subgraph;
      d["inputs"] = s.inputs;
      d["outputs"] = s.outputs;
      l.append(d);
    }
    return l;
  }
  void ResizeInputAt(int position, const std::vector<int64_t>& shape) {
    Check(m_.ResizeInput(position, k2l::runtime::Shape(shape.begin(),
                                                         shape.end())));
  }
  void ResizeInputNamed(const std::string& name,
                        const std::vector<int64_t>& shape) {
    Check(m_.ResizeInput(name,
                         k2l::runtime::Shape(shape.begin(), shape.end())));
  }
  void AllocateTensors() { Check(m_.AllocateTensors()); }

  py::list Predict(const std::vector<py::array>& inputs) {
    std::vector<NDArray> in;
    for (size_t i = 0; i < inputs.size(); ++i) {
      in.push_back(ToNDArray(inputs[i], "input " + std::to_string(i)));
    }
    Result<std::vector<NDArray>> r = Status::Internal("did not run");
    {
      py::gil_scoped_release nogil;
      r = m_.Predict(in);
    }
    py::list out;
    for (NDArray& a : Unwrap(std::move(r))) out.append(FromNDArray(std::move(a)));
    return out;
  }
  py::dict PredictNamed(const std::map<std::string, py::array>& inputs,
                        const std::string& key) {
    std::map<std::string, NDArray> in;
    for (const auto& [name, a] : inputs) {
      in.emplace(name, ToNDArray(a, "input '" + name + "'"));
    }
    Result<std::map<std::string, NDArray>> r = Status::Internal("did not run");
    {
      py::gil_scoped_release nogil;
      r = m_.Predict(in, key);
    }
    py::dict out;
    for (auto& [name, a] : Unwrap(std::move(r))) {
      out[py::str(name)] = FromNDArray(std::move(a));
    }
    return out;
  }
  void Save(const std::string& path) const { Check(m_.Save(path)); }
  py::bytes Bytes() const {
    const auto& b = m_.bytes();
    return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
  }

 private:
  k2l::runtime::LiteRTModel m_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "keras2litert's C++ core; use the keras2litert package instead.";

  m.def(
      "export_path",
      [](const std::string& source, const std::string& output,
         const std::vector<PySpec>& specs, const py::object& progress,
         const py::object& dump_ir, std::optional<int64_t> sequence_length,
         const std::vector<std::string>& task_ancestors,
         std::optional<int64_t> encoder_sequence_length,
         std::optional<int64_t> decoder_sequence_length,
         std::optional<std::pair<int64_t, int64_t>> image_size,
         std::optional<bool> include_preprocessing) {
        return RunExport(output, specs,
                         {sequence_length, task_ancestors,
                          encoder_sequence_length, decoder_sequence_length,
                          image_size, include_preprocessing},
                         progress, dump_ir,
                         [&](const k2l::ExportOptions& o) {
                           return k2l::ExportLiteRT(source, output, o);
                         });
      },
      py::arg("source"), py::arg("output"), py::arg("input_signature"),
      py::arg("progress"), py::arg("dump_ir"),
      py::arg("sequence_length") = py::none(),
      py::arg("task_ancestors") = std::vector<std::string>(),
      py::arg("encoder_sequence_length") = py::none(),
      py::arg("decoder_sequence_length") = py::none(),
      py::arg("image_size") = py::none(),
      py::arg("include_preprocessing") = py::none());
  m.def(
      "export_bytes",
      [](const py::buffer& data, const std::string& name,
         const std::string& output, const std::vector<PySpec>& specs,
         const py::object& progress, const py::object& dump_ir) {
        // Read in place: the buffer stays alive (and unchanged) for the call.
        py::buffer_info info = data.request();
        std::span<const uint8_t> bytes(static_cast<const uint8_t*>(info.ptr),
                                       size_t(info.size * info.itemsize));
        return RunExport(output, specs, PyHub{}, progress, dump_ir,
                         [&](const k2l::ExportOptions& o) {
                           return k2l::ExportLiteRTFromBytes(bytes, name,
                                                             output, o);
                         });
      },
      py::arg("data"), py::arg("name"), py::arg("output"),
      py::arg("input_signature"), py::arg("progress"), py::arg("dump_ir"));
  m.def("format_progress", &k2l::FormatProgress, py::arg("stage"),
        py::arg("done"), py::arg("total"));

  py::class_<PyModel>(m, "Model")
      .def_static("load", &PyModel::Load, py::arg("path"),
                  py::arg("num_threads"))
      .def_static("from_bytes", &PyModel::FromBytes, py::arg("data"),
                  py::arg("num_threads"))
      .def("input_details", &PyModel::InputDetails)
      .def("output_details", &PyModel::OutputDetails)
      .def("signatures", &PyModel::Signatures)
      .def("resize_input", &PyModel::ResizeInputAt, py::arg("position"),
           py::arg("shape"))
      .def("resize_input", &PyModel::ResizeInputNamed, py::arg("name"),
           py::arg("shape"))
      .def("allocate_tensors", &PyModel::AllocateTensors)
      .def("predict", &PyModel::Predict, py::arg("inputs"))
      .def("predict_named", &PyModel::PredictNamed, py::arg("inputs"),
           py::arg("signature_key"))
      .def("save", &PyModel::Save, py::arg("path"))
      .def("bytes", &PyModel::Bytes);
}
