// EinsumDense: einsum(equation, x, kernel) + bias, then the activation.
#include "frontend/keras/activations.h"
#include "frontend/keras/einsum.h"
#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::ValueId;

Result<std::vector<ValueId>> ConvertEinsumDense(LayerContext& ctx) {
  K2L_ASSIGN_OR_RETURN(std::string equation, ctx.String("equation"));
  if (ctx.Has("lora_rank")) {
    return {ctx.Invalid("LoRA is enabled on it (lora_rank is set)",
                        "Merge the LoRA weights first, or save the model "
                        "without LoRA")};
  }
  if (ctx.Has("quantization_config")) {
    return {ctx.Invalid("it is quantized in Keras",
                        "Export the float model; quantize with the "
                        "converter's options instead")};
  }
  K2L_ASSIGN_OR_RETURN(std::string bias_axes, ctx.StringOr("bias_axes", ""));
  std::vector<std::string> names = {"kernel"};
  if (!bias_axes.empty()) names.push_back("bias");
  K2L_ASSIGN_OR_RETURN(auto w, ctx.Weights(names));
  std::optional<ir::TensorData> bias;
  if (!bias_axes.empty()) bias = w[1];
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       LowerEinsum(ctx, ctx.input(), equation, w[0], bias));
  K2L_ASSIGN_OR_RETURN(y, ApplyConfigActivation(ctx, y));
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterEinsumDenseLayers(Registry& r) {
  return r.Register(
      "EinsumDense", ConvertEinsumDense,
      "FULLY_CONNECTED, with RESHAPE and TRANSPOSE as the equation needs",
      "the equation must contract input dims with kernel dims (no letter in "
      "input, kernel and output at once; '...' only leading); LoRA and "
      "Keras-quantized layers are refused");
}

}  // namespace k2l::keras
