#include "litert/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "litert/op_table.h"

namespace k2l::litert {

namespace {

using FBB = flatbuffers::FlatBufferBuilder;

// "1.14.0" < "2.3.0", comparing numerically part by part.
bool VersionLess(std::string_view a, std::string_view b) {
  std::istringstream sa{std::string(a)}, sb{std::string(b)};
  for (int i = 0; i < 3; ++i) {
    int x = 0, y = 0;
    char dot;
    sa >> x;
    sb >> y;
    sa >> dot;
    sb >> dot;
    if (x != y) return x < y;
  }
  return false;
}

struct BufferKey {
  size_t hash;
  size_t size;
};

class ModelWriter {
 public:
  // The builder starts at the size of all constant data, so it never grows
  // by copying the weights.
  explicit ModelWriter(const ir::Graph& g) : g_(g), fbb_(InitialSize(g)) {}

  static size_t InitialSize(const ir::Graph& g) {
    size_t n = 1 << 16;
    auto add = [&n](const ir::Graph& sg) {
      for (ir::ValueId id = 0; id < static_cast<ir::ValueId>(sg.num_values());
           ++id) {
        if (sg.value(id).is_constant()) {
          n += sg.value(id).constant->bytes().size() + 16;
        }
      }
    };
    add(g);
    for (int i = 1; i <= g.num_subgraphs(); ++i) add(g.subgraph(i));
    return n;
  }

  // Builds the model into the builder; Data()/Size() then view it.
  Status Build(WriteStats* stats) {
    fbb_.ForceDefaults(false);
    // buffers[0]: the empty sentinel every non-constant tensor points at.
    buffers_.push_back(fb::CreateBuffer(fbb_));
    std::string min_runtime = "1.5.0";
    std::vector<flatbuffers::Offset<fb::SubGraph>> subgraphs;
    std::vector<flatbuffers::Offset<fb::TensorMap>> sig_in, sig_out;
    K2L_ASSIGN_OR_RETURN(auto main_sg,
                         BuildSubgraph(g_, min_runtime, &sig_in, &sig_out));
    subgraphs.push_back(main_sg);
    for (int i = 1; i <= g_.num_subgraphs(); ++i) {
      K2L_ASSIGN_OR_RETURN(auto sg, BuildSubgraph(g_.subgraph(i), min_runtime,
                                                  nullptr, nullptr));
      subgraphs.push_back(sg);
    }

    // min_runtime_version: a NUL-padded 16-byte string, as LiteRT's own
    // converter writes it.
    std::vector<uint8_t> rt(16, 0);
    std::memcpy(rt.data(), min_runtime.data(),
                std::min<size_t>(min_runtime.size(), 15));
    int rt_buffer = AddBuffer(rt.data(), rt.size());
    auto meta =
        fb::CreateMetadata(fbb_, fbb_.CreateString("min_runtime_version"),
                           static_cast<uint32_t>(rt_buffer));

    auto sig = fb::CreateSignatureDef(
        fbb_, fbb_.CreateVector(sig_in), fbb_.CreateVector(sig_out),
        fbb_.CreateString("serving_default"), /*subgraph_index=*/0);

    auto opcodes = fbb_.CreateVector(opcodes_);
    auto subgraph_vec = fbb_.CreateVector(subgraphs);
    auto description = fbb_.CreateString("keras2litert");
    auto buffers = fbb_.CreateVector(buffers_);
    auto metadata = fbb_.CreateVector(std::vector{meta});
    auto sigs = fbb_.CreateVector(std::vector{sig});
    fb::ModelBuilder mb(fbb_);
    mb.add_version(3);
    mb.add_operator_codes(opcodes);
    mb.add_subgraphs(subgraph_vec);
    mb.add_description(description);
    mb.add_buffers(buffers);
    mb.add_metadata(metadata);
    mb.add_signature_defs(sigs);
    fb::FinishModelBuffer(fbb_, mb.Finish());

    if (stats != nullptr) {
      stats->file_bytes = fbb_.GetSize();
      stats->constant_bytes = constant_bytes_;
      stats->num_buffers = buffers_.size();
      stats->num_tensors = num_tensors_;
      stats->op_counts = op_counts_;
    }
    return Status::Ok();
  }

  const uint8_t* Data() const { return fbb_.GetBufferPointer(); }
  size_t Size() const { return fbb_.GetSize(); }

 private:
  // Writes one subgraph: its tensors, operators and ports. The main graph
  // also fills the signature's tensor maps.
  Result<flatbuffers::Offset<fb::SubGraph>> BuildSubgraph(
      const ir::Graph& g, std::string& min_runtime,
      std::vector<flatbuffers::Offset<fb::TensorMap>>* sig_in,
      std::vector<flatbuffers::Offset<fb::TensorMap>>* sig_out) {
    cur_ = &g;
    tensors_.clear();
    tensor_of_.assign(g.num_values(), -1);
    std::vector<flatbuffers::Offset<fb::Operator>> ops;
    for (const ir::Op& op : g.ops()) {
      const OpTableEntry& e = LookupOp(op.kind);
      int version = e.version(g, op);
      K2L_ASSIGN_OR_RETURN(int opcode, OpcodeIndex(e.code, version));
      if (VersionLess(min_runtime, e.min_runtime)) min_runtime = e.min_runtime;
      std::vector<int32_t> ins, outs;
      for (ir::ValueId v : op.inputs) {
        if (v == ir::kNoValue) {
          ins.push_back(-1);
        } else {
          K2L_ASSIGN_OR_RETURN(int t, Tensor(v));
          ins.push_back(t);
        }
      }
      for (ir::ValueId v : op.outputs) {
        K2L_ASSIGN_OR_RETURN(int t, Tensor(v));
        outs.push_back(t);
      }
      WrittenOptions o = e.write_options(fbb_, g, op);
      auto in_vec = fbb_.CreateVector(ins);
      auto out_vec = fbb_.CreateVector(outs);
      fb::OperatorBuilder b(fbb_);
      b.add_opcode_index(static_cast<uint32_t>(opcode));
      b.add_inputs(in_vec);
      b.add_outputs(out_vec);
      if (o.type != fb::BuiltinOptions::NONE) {
        b.add_builtin_options_type(o.type);
        b.add_builtin_options(o.offset);
      }
      ops.push_back(b.Finish());
      ++op_counts_[fb::EnumNameBuiltinOperator(e.code)];
    }

    std::vector<int32_t> sub_inputs, sub_outputs;
    for (const ir::Port& p : g.inputs()) {
      K2L_ASSIGN_OR_RETURN(int t, Tensor(p.value, p.name));
      sub_inputs.push_back(t);
      if (sig_in) {
        sig_in->push_back(
            fb::CreateTensorMap(fbb_, fbb_.CreateString(p.name), t));
      }
    }
    for (const ir::Port& p : g.outputs()) {
      K2L_ASSIGN_OR_RETURN(int t, Tensor(p.value, p.name));
      sub_outputs.push_back(t);
      if (sig_out) {
        sig_out->push_back(
            fb::CreateTensorMap(fbb_, fbb_.CreateString(p.name), t));
      }
    }

    auto tensors = fbb_.CreateVector(tensors_);
    auto sg_in = fbb_.CreateVector(sub_inputs);
    auto sg_out = fbb_.CreateVector(sub_outputs);
    auto sg_ops = fbb_.CreateVector(ops);
    auto sg_name = fbb_.CreateString(g.name());
    fb::SubGraphBuilder sgb(fbb_);
    sgb.add_tensors(tensors);
    sgb.add_inputs(sg_in);
    sgb.add_outputs(sg_out);
    sgb.add_operators(sg_ops);
    sgb.add_name(sg_name);
    num_tensors_ += tensors_.size();
    return sgb.Finish();
  }

  Result<int> OpcodeIndex(fb::BuiltinOperator code, int version) {
    auto key = std::make_pair(static_cast<int>(code), version);
    auto it = opcode_index_.find(key);
    if (it != opcode_index_.end()) return it->second;
    int c = static_cast<int>(code);
    fb::OperatorCodeBuilder b(fbb_);
    // Old runtimes read the int8 field; codes above 127 are marked with the
    // placeholder 127 and the real code lives in builtin_code.
    b.add_deprecated_builtin_code(static_cast<int8_t>(std::min(c, 127)));
    b.add_builtin_code(code);
    b.add_version(version);
    opcodes_.push_back(b.Finish());
    int index = static_cast<int>(opcodes_.size() - 1);
    opcode_index_[key] = index;
    return index;
  }

  int AddBuffer(const uint8_t* data, size_t size) {
    size_t h = ir::SampledHash({data, size});
    auto range = buffer_by_hash_.equal_range(h);
    for (auto it = range.first; it != range.second; ++it) {
      const auto& [ptr, len] = buffer_data_[it->second];
      if (len == size && std::memcmp(ptr, data, size) == 0) return it->second;
    }
    fbb_.ForceVectorAlignment(size, sizeof(uint8_t), 16);
    auto vec = fbb_.CreateVector(data, size);
    buffers_.push_back(fb::CreateBuffer(fbb_, vec));
    int index = static_cast<int>(buffers_.size() - 1);
    buffer_data_[index] = {data, size};
    buffer_by_hash_.emplace(h, index);
    constant_bytes_ += size;
    return index;
  }

  // The tensor index of `v`, creating the tensor on first use. `name`
  // overrides the value's own name (graph ports use their signature names).
  Result<int> Tensor(ir::ValueId v, const std::string& name = "") {
    if (tensor_of_[v] >= 0) return tensor_of_[v];
    const ir::Value& val = cur_->value(v);
    std::vector<int32_t> shape, signature;
    bool dynamic = false;
    for (int64_t d : val.shape) {
      if (d > INT32_MAX) {
        return Status::Invalid("tensor '" + val.name + "' has a dim of " +
                               std::to_string(d) +
                               ", beyond LiteRT's int32 dims");
      }
      dynamic |= d == ir::kDynamic;
      shape.push_back(d == ir::kDynamic ? 1 : static_cast<int32_t>(d));
      signature.push_back(static_cast<int32_t>(d));
    }
    uint32_t buffer = 0;
    if (val.is_constant()) {
      auto bytes = val.constant->bytes();
      buffer = static_cast<uint32_t>(AddBuffer(bytes.data(), bytes.size()));
    }
    auto shape_vec = fbb_.CreateVector(shape);
    auto sig_vec = dynamic
                       ? fbb_.CreateVector(signature)
                       : flatbuffers::Offset<flatbuffers::Vector<int32_t>>();
    auto name_str = fbb_.CreateString(name.empty() ? val.name : name);
    fb::TensorBuilder b(fbb_);
    b.add_shape(shape_vec);
    b.add_type(ToTensorType(val.dtype));
    b.add_buffer(buffer);
    b.add_name(name_str);
    if (dynamic) b.add_shape_signature(sig_vec);
    tensors_.push_back(b.Finish());
    tensor_of_[v] = static_cast<int>(tensors_.size() - 1);
    return tensor_of_[v];
  }

  const ir::Graph& g_;
  const ir::Graph* cur_ = nullptr;  // the subgraph being written
  size_t num_tensors_ = 0;
  FBB fbb_;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers_;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors_;
  std::vector<flatbuffers::Offset<fb::OperatorCode>> opcodes_;
  std::map<std::pair<int, int>, int> opcode_index_;
  std::unordered_multimap<size_t, int> buffer_by_hash_;
  std::map<int, std::pair<const uint8_t*, size_t>> buffer_data_;
  std::vector<int> tensor_of_;
  std::map<std::string, int> op_counts_;
  size_t constant_bytes_ = 0;
};

}  // namespace

Result<std::vector<uint8_t>> Serialize(const ir::Graph& g, WriteStats* stats) {
  ModelWriter w(g);
  K2L_RETURN_IF_ERROR(w.Build(stats));
  return std::vector<uint8_t>(w.Data(), w.Data() + w.Size());
}

Status SerializeToFile(const ir::Graph& g, const std::string& path,
                       WriteStats* stats) {
  ModelWriter w(g);
  K2L_RETURN_IF_ERROR(w.Build(stats));
  return WriteFileAtomically(path, w.Data(), w.Size());
}

}  // namespace k2l::litert
