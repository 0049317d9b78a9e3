// ResNet (keras_hub.models.ResNetBackbone and ResNetImageClassifier), as
// keras-hub 0.32 builds it, channels last: a stem of convolutions, a max
// pool (after zero padding; ResNet v2 pads with -inf instead), stacks of
// basic or bottleneck blocks (their _vd forms average-pool the strided
// shortcut), post-activation (v1) or pre-activation (v2, with a final
// BatchNormalization and ReLU), then the ImageClassifier head. Convolutions
// take any image size, so the image size is free.
#include <limits>

#include "frontend/hub/builders/vision.h"
#include "frontend/hub/hyperparams.h"
#include "frontend/keras/layer_configs.h"

namespace k2l::hub {

namespace {

class ResNetGraph {
 public:
  ResNetGraph(GraphBuilder& g, bool bottleneck, bool vd, bool preact)
      : g_(g), bottleneck_(bottleneck), vd_(vd), preact_(preact) {}

  json Conv(const std::string& name, const json& x, int64_t filters,
            int64_t kernel, int64_t stride, const char* padding) {
    return g_.Call("Conv2D", name,
                   keras::Conv2DConfig(filters, kernel, stride, padding, false),
                   json::array({x}));
  }
  json BatchNorm(const std::string& name, const json& x) {
    return g_.Call("BatchNormalization", name,
                   keras::BatchNormConfig(1e-5, 0.9), json::array({x}));
  }
  json Relu(const std::string& name, const json& x) {
    return g_.Call("Activation", name, {{"activation", "relu"}},
                   json::array({x}));
  }
  json ZeroPad(const std::string& name, const json& x, int64_t p) {
    return g_.Call("ZeroPadding2D", name,
                   {{"padding", {{p, p}, {p, p}}},
                    {"data_format", "channels_last"}},
                   json::array({x}));
  }
  json Add(const std::string& name, const json& a, const json& b) {
    return g_.Call("Add", name, json::object(),
                   json::array({json::array({a, b})}));
  }

  // apply_basic_block / apply_bottleneck_block and their _vd forms.
  json Block(const json& in, int64_t filters, int64_t stride,
             bool conv_shortcut, const std::string& name) {
    json x = in;
    json preact;
    if (preact_) {
      preact = Relu(name + "_pre_activation_relu",
                    BatchNorm(name + "_pre_activation_bn", x));
    }
    const int64_t out_filters = bottleneck_ ? 4 * filters : filters;
    json shortcut = x;
    if (conv_shortcut) {
      int64_t shortcut_stride = stride;
      if (preact_) {
        shortcut = preact;
        if (vd_) shortcut_stride = 1;
      } else if (vd_) {
        shortcut_stride = 1;
        if (stride > 1) {
          shortcut = g_.Call("AveragePooling2D", name + "_0_pool",
                             {{"pool_size", {2, 2}},
                              {"strides", {stride, stride}},
                              {"padding", "same"},
                              {"data_format", "channels_last"}},
                             json::array({x}));
        }
      }
      shortcut = Conv(name + "_0_conv", shortcut, out_filters, 1,
                      shortcut_stride, "valid");
      if (!preact_) shortcut = BatchNorm(name + "_0_bn", shortcut);
    }
    if (preact_) x = preact;
    const char* strided = stride > 1 ? "valid" : "same";
    std::string last;
    if (!bottleneck_) {
      if (stride > 1) x = ZeroPad(name + "_1_pad", x, 1);
      x = Conv(name + "_1_conv", x, filters, 3, stride, strided);
      x = Relu(name + "_1_relu", BatchNorm(name + "_1_bn", x));
      x = Conv(name + "_2_conv", x, filters, 3, 1, "same");
      last = "_2_bn";
    } else {
      x = Conv(name + "_1_conv", x, filters, 1, 1, "valid");
      x = Relu(name + "_1_relu", BatchNorm(name + "_1_bn", x));
      if (stride > 1) x = ZeroPad(name + "_2_pad", x, 1);
      x = Conv(name + "_2_conv", x, filters, 3, stride, strided);
      x = Relu(name + "_2_relu", BatchNorm(name + "_2_bn", x));
      x = Conv(name + "_3_conv", x, out_filters, 1, 1, "valid");
      last = "_3_bn";
    }
    if (preact_) return Add(name + "_out", shortcut, x);
    x = BatchNorm(name + last, x);
    return Relu(name + "_out", Add(name + "_add", shortcut, x));
  }

 private:
  GraphBuilder& g_;
  bool bottleneck_, vd_, preact_;
};

}  // namespace

Result<json> ResNetBackboneGraph(const json& config, const BuildInput& in,
                                 const std::string& name,
                                 bool pyramid_outputs, int last_level) {
  const std::string owner = "ResNetBackbone";
  Hyperparams hp(config, owner);
  K2L_ASSIGN_OR_RETURN(auto stem_filters, hp.IntList("input_conv_filters"));
  K2L_ASSIGN_OR_RETURN(auto stem_kernels,
                       hp.IntList("input_conv_kernel_sizes"));
  K2L_ASSIGN_OR_RETURN(auto filters, hp.IntList("stackwise_num_filters"));
  K2L_ASSIGN_OR_RETURN(auto blocks, hp.IntList("stackwise_num_blocks"));
  K2L_ASSIGN_OR_RETURN(auto strides, hp.IntList("stackwise_num_strides"));
  K2L_ASSIGN_OR_RETURN(std::string block_type, hp.String("block_type"));
  K2L_ASSIGN_OR_RETURN(bool preact, hp.BoolOr("use_pre_activation", false));
  const std::string fix =
      ". The preset's config.json is inconsistent; save it again with "
      "save_to_preset()";
  if (stem_filters.size() != stem_kernels.size()) {
    return Status::Invalid(owner + ": input_conv_filters and "
                           "input_conv_kernel_sizes differ in length" + fix);
  }
  if (filters.size() != blocks.size() || filters.size() != strides.size()) {
    return Status::Invalid(owner + ": stackwise_num_filters, "
                           "stackwise_num_blocks and stackwise_num_strides "
                           "differ in length" + fix);
  }
  if (block_type != "basic_block" && block_type != "bottleneck_block" &&
      block_type != "basic_block_vd" && block_type != "bottleneck_block_vd") {
    return Status::Invalid(owner + ": block_type '" + block_type +
                           "' is none of basic_block, bottleneck_block, "
                           "basic_block_vd and bottleneck_block_vd" + fix);
  }
  const json& fmt = config.value("data_format", json("channels_last"));
  if (!fmt.is_null() && fmt != "channels_last") {
    return Status::Invalid(owner + ": data_format " + fmt.dump() +
                           " is not converted; keras2litert builds "
                           "channels_last (NHWC) networks. Build the "
                           "backbone with data_format=\"channels_last\"");
  }
  const bool bottleneck = block_type.rfind("bottleneck", 0) == 0;
  const bool vd = block_type.size() > 3 &&
                  block_type.compare(block_type.size() - 3, 3, "_vd") == 0;

  GraphBuilder g(name);
  json image = g.Input("input_layer", "float32",
                       {in.image_height, in.image_width, in.channels});
  ResNetGraph r(g, bottleneck, vd, preact);
  json x = r.ZeroPad("conv1_pad", image, (stem_kernels[0] - 1) / 2);
  x = r.Conv("conv1_conv", x, stem_filters[0], stem_kernels[0], 2, "valid");
  for (size_t i = 1; i < stem_filters.size(); ++i) {
    const std::string n = std::to_string(i);
    x = r.Relu("conv" + n + "_relu", r.BatchNorm("conv" + n + "_bn", x));
    x = r.Conv("conv" + std::to_string(i + 1) + "_conv", x, stem_filters[i],
               stem_kernels[i], 1, "same");
  }
  const std::string n = std::to_string(stem_filters.size());
  if (preact) {
    // ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=-inf).
    x = g.CallOp("keras.src.ops.numpy", "Pad", "pad", json::array({x}),
                 {{"pad_width", {{0, 0}, {1, 1}, {1, 1}, {0, 0}}},
                  {"mode", "constant"}},
                 {{"constant_values", -std::numeric_limits<double>::infinity()}});
  } else {
    x = r.Relu("conv" + n + "_relu", r.BatchNorm("conv" + n + "_bn", x));
    x = r.ZeroPad("pool1_pad", x, 1);
  }
  x = g.Call("MaxPooling2D", "pool1_pool",
             {{"pool_size", {3, 3}},
              {"strides", {2, 2}},
              {"padding", "valid"},
              {"data_format", "channels_last"}},
             json::array({x}));
  json pyramid = json::object();
  for (size_t s = 0; s < filters.size(); ++s) {
    // A pyramid that stops early leaves the later stacks out of the model.
    if (pyramid_outputs && static_cast<int>(s) + 2 > last_level) break;
    const bool first_shortcut = block_type != "basic_block" || s > 0;
    for (int64_t b = 0; b < blocks[s]; ++b) {
      x = r.Block(x, filters[s], b == 0 ? strides[s] : 1,
                  b == 0 && first_shortcut,
                  "stack" + std::to_string(s) + "_block" + std::to_string(b));
    }
    pyramid["P" + std::to_string(s + 2)] = x;
  }
  if (pyramid_outputs) return g.Build({{"input_layer", image}}, pyramid);
  if (preact) x = r.Relu("post_relu", r.BatchNorm("post_bn", x));
  return g.Build({{"input_layer", image}}, x);
}

Result<TaskGraph> BuildResNetImageClassifier(const BuildInput& in) {
  const std::string name = NameOr(in.backbone, "res_net_backbone");
  K2L_ASSIGN_OR_RETURN(json backbone,
                       ResNetBackboneGraph(in.backbone, in, name,
                                           /*pyramid_outputs=*/false));
  return ImageClassifierTask(in, std::move(backbone), name);
}

}  // namespace k2l::hub
