// Image preprocessing layers with a fixed output: Resizing and CenterCrop.
// Keras resizes like jax.image.resize without antialiasing: half-pixel
// centers, for bilinear and for nearest alike.
#include <algorithm>

#include "frontend/keras/registry.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;

// [N, H, W, C] with H and W known, as both layers need.
Result<ir::Shape> StaticImageShape(LayerContext& ctx, ValueId x) {
  const ir::Shape xs = ctx.shape(x);
  if (xs.size() != 4 || xs[1] == ir::kDynamic || xs[2] == ir::kDynamic) {
    return ctx.Invalid("its input " + ir::ShapeToString(xs) +
                           " is not an image batch with fixed height and width",
                       "Give the model's Input fixed spatial dimensions");
  }
  return xs;
}

Result<ValueId> Crop(LayerContext& ctx, ValueId x, int64_t top, int64_t left,
                     int64_t height, int64_t width) {
  return ctx.Op(OpKind::kSlice,
                {x,
                 ctx.ConstInts({0, static_cast<int32_t>(top),
                                static_cast<int32_t>(left), 0}),
                 ctx.ConstInts({-1, static_cast<int32_t>(height),
                                static_cast<int32_t>(width), -1})});
}

Result<std::vector<ValueId>> ConvertResizing(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("resizes"));
  K2L_ASSIGN_OR_RETURN(int64_t th, ctx.Int("height"));
  K2L_ASSIGN_OR_RETURN(int64_t tw, ctx.Int("width"));
  K2L_ASSIGN_OR_RETURN(
      std::string interp,
      ctx.Choice("interpolation", {"bilinear", "nearest"}, "bilinear"));
  K2L_ASSIGN_OR_RETURN(bool crop, ctx.BoolOr("crop_to_aspect_ratio", false));
  K2L_ASSIGN_OR_RETURN(bool pad, ctx.BoolOr("pad_to_aspect_ratio", false));
  K2L_ASSIGN_OR_RETURN(bool antialias, ctx.BoolOr("antialias", false));
  if (pad) {
    return {ctx.Invalid("pad_to_aspect_ratio=True is not supported yet",
                        "Use crop_to_aspect_ratio, or pad before resizing")};
  }
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(ir::Shape xs, StaticImageShape(ctx, x));
  int64_t h = xs[1], w = xs[2];
  if (crop) {
    // The centred box of the target's aspect ratio, as Keras computes it.
    int64_t ch = static_cast<int64_t>(static_cast<double>(w * th) / tw);
    ch = std::max<int64_t>(std::min(h, ch), 1);
    int64_t cw = static_cast<int64_t>(static_cast<double>(h * tw) / th);
    cw = std::max<int64_t>(std::min(w, cw), 1);
    int64_t top = static_cast<int64_t>(static_cast<double>(h - ch) / 2);
    int64_t left = static_cast<int64_t>(static_cast<double>(w - cw) / 2);
    K2L_ASSIGN_OR_RETURN(x, Crop(ctx, x, top, left, ch, cw));
    h = ch;
    w = cw;
  }
  if (antialias && (th < h || tw < w)) {
    return {
        ctx.Invalid("antialias=True while downsizing has no LiteRT "
                    "builtin",
                    "Use antialias=False (Keras' default)")};
  }
  ir::ResizeAttrs a;
  a.half_pixel_centers = true;
  OpKind kind = interp == "bilinear" ? OpKind::kResizeBilinear
                                     : OpKind::kResizeNearestNeighbor;
  K2L_ASSIGN_OR_RETURN(ValueId y,
                       ctx.Op(kind,
                              {x, ctx.ConstInts({static_cast<int32_t>(th),
                                                 static_cast<int32_t>(tw)})},
                              a));
  return std::vector<ValueId>{y};
}

Result<std::vector<ValueId>> ConvertCenterCrop(LayerContext& ctx) {
  K2L_RETURN_IF_ERROR(ctx.RequireChannelsLast("crops"));
  K2L_ASSIGN_OR_RETURN(int64_t th, ctx.Int("height"));
  K2L_ASSIGN_OR_RETURN(int64_t tw, ctx.Int("width"));
  ValueId x = ctx.input();
  K2L_ASSIGN_OR_RETURN(ir::Shape xs, StaticImageShape(ctx, x));
  if (xs[1] < th || xs[2] < tw) {
    return {ctx.Invalid("its input " + ir::ShapeToString(xs) +
                            " is smaller than the crop " + std::to_string(th) +
                            "x" + std::to_string(tw) +
                            ", where Keras would resize instead",
                        "Crop to a size within the input, or add a Resizing "
                        "layer before the crop")};
  }
  K2L_ASSIGN_OR_RETURN(
      ValueId y, Crop(ctx, x, (xs[1] - th) / 2, (xs[2] - tw) / 2, th, tw));
  return std::vector<ValueId>{y};
}

}  // namespace

Status RegisterImagePreprocessingLayers(Registry& r) {
  K2L_RETURN_IF_ERROR(
      r.Register("Resizing", ConvertResizing,
                 "RESIZE_BILINEAR or RESIZE_NEAREST_NEIGHBOR (+SLICE to crop)",
                 "pad_to_aspect_ratio=True, antialias=True when downsizing, "
                 "and data_format='channels_first' are refused"));
  K2L_RETURN_IF_ERROR(r.Register("CenterCrop", ConvertCenterCrop, "SLICE",
                                 kRefusesChannelsFirst));
  return Status::Ok();
}

}  // namespace k2l::keras
