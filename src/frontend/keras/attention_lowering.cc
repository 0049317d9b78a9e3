#include "frontend/keras/attention_lowering.h"

#include <cfloat>
#include <cstdlib>

#include "frontend/keras/activations.h"

namespace k2l::keras {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

bool IsKerasTensor(const json& j) {
  return j.is_object() && j.value("class_name", "") == "__keras_tensor__";
}

Result<bool> CallFlag(LayerContext& ctx, const std::string& key) {
  const json& kw = ctx.kwargs();
  if (!kw.is_object() || !kw.contains(key) || kw[key].is_null()) return false;
  if (!kw[key].is_boolean()) {
    return ctx.Invalid(
        "its call argument " + key + "=" + kw[key].dump() + " is not a boolean",
        "Pass " + key + "=True or False");
  }
  return kw[key].get<bool>();
}

Result<ValueId> CallTensor(LayerContext& ctx, size_t pos,
                           const std::string& key) {
  const json& args = ctx.args();
  if (args.is_array() && pos < args.size() && !args[pos].is_null()) {
    if (!IsKerasTensor(args[pos])) {
      return ctx.Invalid("its positional argument " + std::to_string(pos) +
                             " (" + key + ") is " + args[pos].dump() +
                             ", not a tensor",
                         "Pass " + key + " as a tensor, by keyword");
    }
    size_t before = 0;
    for (size_t i = 0; i < pos; ++i) before += IsKerasTensor(args[i]) ? 1 : 0;
    return ctx.input(before);
  }
  return ctx.KwargInput(key);
}

bool CallGiven(LayerContext& ctx, size_t pos, const std::string& key) {
  const json& args = ctx.args();
  const json& kw = ctx.kwargs();
  return (args.is_array() && pos < args.size() && !args[pos].is_null()) ||
         (kw.is_object() && kw.contains(key) && !kw[key].is_null()) ||
         ctx.KwargInputs(key).has_value();
}

Status RefuseCaches(LayerContext& ctx, size_t first) {
  const char* caches[] = {
      "self_attention_cache", "self_attention_cache_update_index",
      "cross_attention_cache", "cross_attention_cache_update_index"};
  for (size_t i = 0; i < 4; ++i) {
    if (CallGiven(ctx, first + i, caches[i])) {
      return ctx.Invalid(
          std::string("it is called with ") + caches[i] +
              ": a key/value cache is not supported",
          "Export the model without a cache: it computes the full sequence "
          "in one call (cached generation steps are not supported yet)");
    }
  }
  return Status::Ok();
}

Status RefuseQuantized(LayerContext& ctx) {
  if (!ctx.Has("dtype")) return Status::Ok();
  const json& d = ctx.config()["dtype"];
  if (d.is_object() &&
      d.value("class_name", "").find("Quantized") != std::string::npos) {
    return ctx.Invalid(
        "it is quantized (dtype policy " + d.value("class_name", "") + ")",
        "Convert the float model, saved before quantize(): "
        "quantized Keras layers are not converted");
  }
  return Status::Ok();
}

Result<ValueId> AsBoolMask(LayerContext& ctx, ValueId m) {
  if (ctx.value(m).dtype == ir::DType::kBool) return m;
  return ctx.Op(OpKind::kCast, {m}, ir::NoAttrs{}, ir::DType::kBool);
}

ValueId ConstantMask(LayerContext& ctx, int64_t t, int64_t s, bool causal,
                     int64_t window, ir::Shape shape) {
  std::vector<uint8_t> v(static_cast<size_t>(t * s));
  for (int64_t i = 0; i < t; ++i) {
    for (int64_t j = 0; j < s; ++j) {
      bool keep =
          (!causal || j <= i) && (window <= 0 || std::abs(i - j) < window);
      v[static_cast<size_t>(i * s + j)] = keep ? 1 : 0;
    }
  }
  return ctx.Const(
      ir::TensorData::FromVector(ir::DType::kBool, std::move(shape), v),
      causal ? "causal_mask" : "window_mask");
}

Result<ValueId> AndMasks(LayerContext& ctx, ValueId a, ValueId b) {
  if (a == ir::kNoValue) return b;
  if (b == ir::kNoValue) return a;
  ValueId no = ctx.Const(
      ir::TensorData::FromVector(ir::DType::kBool, {}, std::vector<uint8_t>{0}),
      "false");
  return ctx.Op(OpKind::kSelectV2, {a, b, no});
}

Result<ValueId> MaskedSoftmax(LayerContext& ctx, ValueId scores, ValueId mask,
                              SoftmaxPath path) {
  if (mask != ir::kNoValue) {
    float fill = path == SoftmaxPath::kSoftmaxLayer
                     ? -1e9f
                     : static_cast<float>(-0.7 * static_cast<double>(FLT_MAX));
    K2L_ASSIGN_OR_RETURN(scores, ctx.Op(OpKind::kSelectV2,
                                        {mask, scores, ctx.ConstFloat(fill)}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId p, LowerSoftmax(ctx, scores, -1, false));
  if (mask != ir::kNoValue && path == SoftmaxPath::kSoftmaxLayer) {
    K2L_ASSIGN_OR_RETURN(
        p, ctx.Op(OpKind::kSelectV2, {mask, p, ctx.ConstFloat(0.0f)}));
  }
  return p;
}

}  // namespace k2l::keras
