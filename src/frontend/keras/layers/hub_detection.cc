// RetinaNetObjectDetector's decode_predictions, which its predict() runs
// after the network, as a layer of keras2litert's own
// ("keras2litert>RetinaNetDecodePredictions", added by the RetinaNet
// builder). On the raw heads, box deltas [batch, anchors, 4] and class
// logits [batch, anchors, classes]:
//  - keras-hub's AnchorGenerator boxes for the export's image size, a
//    constant (per level, per cell row-major, per aspect ratio then scale);
//  - the deltas decoded in center_xywh encoding: center = delta * anchor
//    size + anchor center, size = exp(delta) * anchor size;
//  - keras-hub's NonMaxSuppression on yxyx boxes, class-agnostic, on the
//    highest class probability: NON_MAX_SUPPRESSION_V5 for each image of
//    the batch in a WHILE loop, then the kept boxes (in the task's
//    bounding_box_format), confidences, labels (argmax of the class
//    probabilities) and num_detections, padded with -1 past
//    num_detections as keras-hub's mask_invalid_detections pads them.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "frontend/keras/registry.h"
#include "frontend/keras/shared_lowering.h"

namespace k2l::keras {

namespace {

using ir::OpKind;
using ir::ValueId;
using nlohmann::json;

// keras-hub's anchors in center form, x then y: centers and sizes, [N, 2]
// each.
struct Anchors {
  std::vector<float> center;
  std::vector<float> size;
  int64_t count = 0;
};

Result<Anchors> MakeAnchors(LayerContext& ctx, const json& cfg, int64_t h,
                            int64_t w) {
  const json min_level = cfg.value("min_level", json());
  const json max_level = cfg.value("max_level", json());
  const json num_scales = cfg.value("num_scales", json());
  const json ratios = cfg.value("aspect_ratios", json());
  const json anchor_size = cfg.value("anchor_size", json());
  bool ok = min_level.is_number_integer() && max_level.is_number_integer() &&
            num_scales.is_number_integer() && anchor_size.is_number() &&
            ratios.is_array() && !ratios.empty();
  if (ok) {
    for (const json& r : ratios)
      ok = ok && r.is_number() && r.get<double>() > 0;
    ok = ok && min_level.get<int64_t>() >= 1 &&
         max_level.get<int64_t>() >= min_level.get<int64_t>() &&
         max_level.get<int64_t>() <= 9 && num_scales.get<int64_t>() >= 1 &&
         anchor_size.get<double>() > 0;
  }
  if (!ok) {
    return ctx.Invalid("its anchor_generator config " + cfg.dump() +
                           " is malformed (it needs min_level <= max_level, "
                           "a positive num_scales and anchor_size, and "
                           "positive aspect_ratios)",
                       "Save the task again with save_to_preset()");
  }
  const int64_t scales = num_scales.get<int64_t>();
  int64_t total = 0;
  for (int64_t level = min_level.get<int64_t>();
       level <= max_level.get<int64_t>(); ++level) {
    const int64_t step = int64_t{1} << level;
    total += ((h + step - 1) / step) * ((w + step - 1) / step) * scales *
             static_cast<int64_t>(ratios.size());
  }
  constexpr int64_t kMaxAnchors = int64_t{1} << 22;
  if (total > kMaxAnchors) {
    return ctx.Invalid(
        "the image size " + std::to_string(h) + "x" + std::to_string(w) +
            " gives " + std::to_string(total) + " anchors, more than the " +
            std::to_string(kMaxAnchors) + " keras2litert decodes in the graph",
        "Use a smaller image_size");
  }
  // generate_base_anchors, in float32 as keras-hub computes it.
  std::vector<float> h_ratio, w_ratio;
  for (const json& r : ratios) {
    const float hr = std::sqrt(static_cast<float>(r.get<double>()));
    h_ratio.push_back(hr);
    w_ratio.push_back(1.0f / hr);
  }
  Anchors a;
  for (int64_t level = min_level.get<int64_t>();
       level <= max_level.get<int64_t>(); ++level) {
    const int64_t step = int64_t{1} << level;
    const int64_t fy = (h + step - 1) / step, fx = (w + step - 1) / step;
    const int64_t sy = h / fy, sx = w / fx;
    std::vector<float> sizes;
    for (int64_t s = 0; s < scales; ++s) {
      sizes.push_back(static_cast<float>(static_cast<int64_t>(
          static_cast<double>(step) * anchor_size.get<double>() *
          std::pow(2.0,
                   static_cast<double>(s) / static_cast<double>(scales)))));
    }
    for (int64_t y = 0; y < fy; ++y) {
      for (int64_t x = 0; x < fx; ++x) {
        const float cx = static_cast<float>(x * sx);
        const float cy = static_cast<float>(y * sy);
        for (size_t r = 0; r < h_ratio.size(); ++r) {
          for (float size : sizes) {
            // Rounded half to even, as keras.ops.round.
            const float hw = std::nearbyint(w_ratio[r] * size / 2.0f);
            const float hh = std::nearbyint(h_ratio[r] * size / 2.0f);
            const float x1 = cx - hw, y1 = cy - hh, x2 = cx + hw, y2 = cy + hh;
            a.center.push_back((x1 + x2) / 2.0f);
            a.center.push_back((y1 + y2) / 2.0f);
            a.size.push_back(x2 - x1);
            a.size.push_back(y2 - y1);
            ++a.count;
          }
        }
      }
    }
  }
  return a;
}

const std::vector<std::string>& BoxFormats() {
  static const std::vector<std::string> f = {
      "xyxy",     "yxyx",     "xywh",     "center_xywh",    "center_yxhw",
      "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh"};
  return f;
}

Result<ValueId> Bin(LayerContext& ctx, OpKind k, ValueId a, ValueId b) {
  return ctx.Op(k, {a, b}, ir::BinaryAttrs{});
}

// Box `b` in `from` as xyxy, then in `to`, in float32 as keras'
// convert_format computes it (through xyxy).
std::vector<float> ConvertBox(std::vector<float> b, const std::string& from,
                              const std::string& to, float h, float w) {
  if (from == to) return b;
  auto base = [](const std::string& f) {
    return f.rfind("rel_", 0) == 0 ? f.substr(4) : f;
  };
  const bool both_rel = base(from) != from && base(to) != to;
  const std::string f = base(from);
  float x1, y1, x2, y2;
  if (f == "xyxy") {
    x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
  } else if (f == "yxyx") {
    y1 = b[0], x1 = b[1], y2 = b[2], x2 = b[3];
  } else if (f == "xywh") {
    x1 = b[0], y1 = b[1], x2 = b[0] + b[2], y2 = b[1] + b[3];
  } else {
    const bool yx = f == "center_yxhw";
    const float cx = yx ? b[1] : b[0], cy = yx ? b[0] : b[1];
    const float bw = yx ? b[3] : b[2], bh = yx ? b[2] : b[3];
    x1 = cx - bw / 2.0f, y1 = cy - bh / 2.0f;
    x2 = cx + bw / 2.0f, y2 = cy + bh / 2.0f;
  }
  if (f != from && !both_rel) x1 *= w, x2 *= w, y1 *= h, y2 *= h;
  const std::string t = base(to);
  const float bw = x2 - x1, bh = y2 - y1;
  const float cx = x1 + bw / 2.0f, cy = y1 + bh / 2.0f;
  std::vector<float> out;
  if (t == "xyxy") out = {x1, y1, x2, y2};
  if (t == "yxyx") out = {y1, x1, y2, x2};
  if (t == "xywh") out = {x1, y1, bw, bh};
  if (t == "center_xywh") out = {cx, cy, bw, bh};
  if (t == "center_yxhw") out = {cy, cx, bh, bw};
  if (t != to && !both_rel) {
    const bool yx = t == "yxyx" || t == "center_yxhw";
    for (size_t i = 0; i < 4; ++i) {
      out[i] /= ((i % 2 == 0) != yx) ? w : h;
    }
  }
  return out;
}

Result<std::string> BoxFormat(LayerContext& ctx, const json& v,
                              const std::string& what) {
  const auto& formats = BoxFormats();
  if (v.is_string()) {
    // keras.utils.bounding_boxes takes formats in any case.
    std::string f = v.get<std::string>();
    for (char& ch : f) ch = static_cast<char>(std::tolower(ch));
    if (std::find(formats.begin(), formats.end(), f) != formats.end()) {
      return f;
    }
  }
  std::string all;
  for (const auto& f : formats) all += (all.empty() ? "" : ", ") + f;
  return ctx.Invalid(what + " is " + v.dump() +
                         ", which keras.utils.bounding_boxes does not know",
                     "Use one of " + all);
}

// yxyx boxes [..., 4] in `format` (keras' convert_format from xyxy).
Result<ValueId> FromYxyx(LayerContext& ctx, ValueId yxyx,
                         const std::string& format, int64_t h, int64_t w) {
  const size_t rank = ctx.rank(yxyx);
  K2L_ASSIGN_OR_RETURN(
      auto parts,
      ctx.MultiOp(OpKind::kSplit,
                  {ctx.ConstInts({static_cast<int32_t>(rank - 1)}, {}), yxyx},
                  ir::SplitAttrs{4}));
  const ValueId y1 = parts[0], x1 = parts[1], y2 = parts[2], x2 = parts[3];
  std::vector<ValueId> out;
  const bool rel = format.rfind("rel_", 0) == 0;
  const std::string base = rel ? format.substr(4) : format;
  if (base == "xyxy") {
    out = {x1, y1, x2, y2};
  } else if (base == "yxyx") {
    out = {y1, x1, y2, x2};
  } else {
    K2L_ASSIGN_OR_RETURN(ValueId bw, Bin(ctx, OpKind::kSub, x2, x1));
    K2L_ASSIGN_OR_RETURN(ValueId bh, Bin(ctx, OpKind::kSub, y2, y1));
    if (base == "xywh") {
      out = {x1, y1, bw, bh};
    } else {
      const ValueId two = ctx.ConstFloat(2.0f);
      K2L_ASSIGN_OR_RETURN(ValueId hw, Bin(ctx, OpKind::kDiv, bw, two));
      K2L_ASSIGN_OR_RETURN(ValueId hh, Bin(ctx, OpKind::kDiv, bh, two));
      K2L_ASSIGN_OR_RETURN(ValueId cx, Bin(ctx, OpKind::kAdd, x1, hw));
      K2L_ASSIGN_OR_RETURN(ValueId cy, Bin(ctx, OpKind::kAdd, y1, hh));
      out = base == "center_xywh" ? std::vector<ValueId>{cx, cy, bw, bh}
                                  : std::vector<ValueId>{cy, cx, bh, bw};
    }
  }
  if (rel) {
    // Coordinates along x are divided by the width, along y by the height.
    const bool yx = base == "yxyx" || base == "center_yxhw";
    const ValueId fw = ctx.ConstFloat(static_cast<float>(w));
    const ValueId fh = ctx.ConstFloat(static_cast<float>(h));
    for (size_t i = 0; i < 4; ++i) {
      const bool is_x = (i % 2 == 0) != yx;
      K2L_ASSIGN_OR_RETURN(out[i],
                           Bin(ctx, OpKind::kDiv, out[i], is_x ? fw : fh));
    }
  }
  return ctx.Op(
      OpKind::kConcatenation, out,
      ir::ConcatAttrs{static_cast<int>(rank - 1), ir::Activation::kNone});
}

struct NmsSettings {
  int32_t max_detections = 100;
  float iou_threshold = 0.5f;
  float confidence_threshold = 0.5f;
};

// The survivors' slots 0 .. n-1 of one image and n disjoint unit boxes
// (slot j at rows 2j to 2j + 1), made at run time so that the file does
// not hold them.
struct StandIns {
  ValueId slots;
  ValueId boxes;
};

Result<StandIns> MakeStandIns(LayerContext& c, int32_t n) {
  StandIns r;
  K2L_ASSIGN_OR_RETURN(
      r.slots, c.Op(OpKind::kRange, {c.ConstInts({0}, {}), c.ConstInts({n}, {}),
                                     c.ConstInts({1}, {})}));
  K2L_ASSIGN_OR_RETURN(ValueId f, c.Op(OpKind::kCast, {r.slots}, ir::NoAttrs{},
                                       ir::DType::kFloat32));
  K2L_ASSIGN_OR_RETURN(f, c.Op(OpKind::kExpandDims, {f, c.ConstInts({1})}));
  K2L_ASSIGN_OR_RETURN(ValueId y1, Bin(c, OpKind::kMul, f, c.ConstFloat(2.0f)));
  K2L_ASSIGN_OR_RETURN(ValueId y2,
                       Bin(c, OpKind::kAdd, y1, c.ConstFloat(1.0f)));
  K2L_ASSIGN_OR_RETURN(ValueId x1, Bin(c, OpKind::kMul, f, c.ConstFloat(0.0f)));
  K2L_ASSIGN_OR_RETURN(ValueId x2,
                       Bin(c, OpKind::kAdd, x1, c.ConstFloat(1.0f)));
  K2L_ASSIGN_OR_RETURN(r.boxes,
                       c.Op(OpKind::kConcatenation, {y1, x1, y2, x2},
                            ir::ConcatAttrs{1, ir::Activation::kNone}));
  return r;
}

// keras-hub's NonMaxSuppression on each image of yxyx boxes [B, N, 4] with
// scores [B, N], in a WHILE loop over the batch: the kept indices [B, K]
// (0 past the count) and the counts [B].
Result<std::pair<ValueId, ValueId>> NmsPerImage(LayerContext& ctx,
                                                ValueId boxes, ValueId scores,
                                                const NmsSettings& s) {
  K2L_ASSIGN_OR_RETURN(ValueId batch, RuntimeDim(ctx, boxes, 0));
  K2L_ASSIGN_OR_RETURN(ValueId batch1, RuntimeDims(ctx, boxes, 0, 1));
  K2L_ASSIGN_OR_RETURN(
      ValueId dims,
      ctx.Op(OpKind::kConcatenation,
             {batch1, ctx.ConstInts({s.max_detections})}, ir::ConcatAttrs{0}));
  const ValueId zero = ctx.ConstInts({0}, {});
  K2L_ASSIGN_OR_RETURN(ValueId kept0, ctx.Op(OpKind::kFill, {dims, zero}));
  K2L_ASSIGN_OR_RETURN(ValueId count0, ctx.Op(OpKind::kFill, {batch1, zero}));
  const int32_t n = static_cast<int32_t>(ctx.shape(boxes)[1]);

  auto body =
      [&](LayerContext& c, ValueId i, ValueId,
          const std::vector<ValueId>& v) -> Result<std::vector<ValueId>> {
    // v: boxes, scores, kept indices, counts.
    K2L_ASSIGN_OR_RETURN(ValueId b,
                         c.Op(OpKind::kGather, {v[0], i}, ir::GatherAttrs{0}));
    K2L_ASSIGN_OR_RETURN(ValueId sc,
                         c.Op(OpKind::kGather, {v[1], i}, ir::GatherAttrs{0}));
    // keras-hub's tiled NMS selects greedily, but reports only the kept
    // boxes with a coordinate above 0 (a box entirely above and left of
    // the image is kept, and suppresses others, yet is never output). So:
    // every survivor first, in score order; then the first K of those
    // with a positive coordinate, by a second NMS over disjoint stand-in
    // boxes with the other survivors' scores zeroed.
    K2L_ASSIGN_OR_RETURN(
        auto all,
        c.MultiOp(OpKind::kNonMaxSuppressionV5,
                  {b, sc, c.ConstInts({n}, {}), c.ConstFloat(s.iou_threshold),
                   c.ConstFloat(s.confidence_threshold), c.ConstFloat(0.0f)},
                  ir::NoAttrs{}));
    K2L_ASSIGN_OR_RETURN(ValueId kept_boxes, c.Op(OpKind::kGather, {b, all[0]},
                                                  ir::GatherAttrs{0}));
    K2L_ASSIGN_OR_RETURN(
        ValueId positive,
        c.Op(OpKind::kGreater, {kept_boxes, c.ConstFloat(0.0f)}));
    K2L_ASSIGN_OR_RETURN(positive,
                         c.Op(OpKind::kReduceAny, {positive, c.ConstInts({1})},
                              ir::ReduceAttrs{false}));
    K2L_ASSIGN_OR_RETURN(StandIns stand_in, MakeStandIns(c, n));
    K2L_ASSIGN_OR_RETURN(ValueId filled,
                         c.Op(OpKind::kLess, {stand_in.slots, all[2]}));
    K2L_ASSIGN_OR_RETURN(ValueId shown,
                         c.Op(OpKind::kLogicalAnd, {positive, filled}));
    K2L_ASSIGN_OR_RETURN(
        ValueId shown_scores,
        c.Op(OpKind::kSelectV2, {shown, all[1], c.ConstFloat(0.0f)}));
    K2L_ASSIGN_OR_RETURN(
        auto firsts,
        c.MultiOp(
            OpKind::kNonMaxSuppressionV5,
            {stand_in.boxes, shown_scores, c.ConstInts({s.max_detections}, {}),
             c.ConstFloat(0.5f), c.ConstFloat(0.0f), c.ConstFloat(0.0f)},
            ir::NoAttrs{}));
    K2L_ASSIGN_OR_RETURN(
        ValueId picked,
        c.Op(OpKind::kGather, {all[0], firsts[0]}, ir::GatherAttrs{0}));
    // Row i of the kept indices and of the counts.
    K2L_ASSIGN_OR_RETURN(ValueId i1,
                         c.Op(OpKind::kReshape, {i, c.ConstInts({1})}));
    K2L_ASSIGN_OR_RETURN(ValueId start,
                         c.Op(OpKind::kConcatenation, {i1, c.ConstInts({0})},
                              ir::ConcatAttrs{0}));
    K2L_ASSIGN_OR_RETURN(
        ValueId row,
        c.Op(OpKind::kReshape, {picked, c.ConstInts({1, s.max_detections})}));
    std::vector<ValueId> next = v;
    K2L_ASSIGN_OR_RETURN(next[2],
                         c.Op(OpKind::kDynamicUpdateSlice, {v[2], row, start}));
    K2L_ASSIGN_OR_RETURN(ValueId n1,
                         c.Op(OpKind::kReshape, {firsts[2], c.ConstInts({1})}));
    K2L_ASSIGN_OR_RETURN(next[3],
                         c.Op(OpKind::kDynamicUpdateSlice, {v[3], n1, i1}));
    return next;
  };
  K2L_ASSIGN_OR_RETURN(auto res,
                       CountedLoop(ctx, ctx.name() + "_nms", batch,
                                   {boxes, scores, kept0, count0}, body));
  return std::make_pair(res[2], res[3]);
}

Result<std::vector<ValueId>> ConvertRetinaNetDecodePredictions(
    LayerContext& ctx) {
  if (ctx.num_inputs() != 2) {
    return ctx.Invalid("it takes the box deltas and the class logits, not " +
                           std::to_string(ctx.num_inputs()) + " inputs",
                       "Export the task with the RetinaNet builder");
  }
  K2L_ASSIGN_OR_RETURN(auto size, ctx.Ints("image_size", 2));
  const int64_t h = size[0], w = size[1];
  K2L_ASSIGN_OR_RETURN(
      std::string format,
      BoxFormat(ctx, ctx.config().value("bounding_box_format", json("yxyx")),
                "the task's bounding_box_format"));
  const json decoder = ctx.config().value("prediction_decoder", json());
  NmsSettings s;
  {
    const json md = decoder.value("max_detections", json(100));
    const json iou = decoder.value("iou_threshold", json(0.5));
    const json conf = decoder.value("confidence_threshold", json(0.5));
    if (!md.is_number_integer() || md.get<int64_t>() < 1 ||
        md.get<int64_t>() > (int64_t{1} << 24) || !iou.is_number() ||
        !conf.is_number()) {
      return ctx.Invalid(
          "its NonMaxSuppression config " + decoder.dump() +
              " is malformed (max_detections must be a positive int, the "
              "thresholds numbers)",
          "Save the task again with save_to_preset()");
    }
    s.max_detections = static_cast<int32_t>(md.get<int64_t>());
    s.iou_threshold = static_cast<float>(iou.get<double>());
    s.confidence_threshold = static_cast<float>(conf.get<double>());
  }
  const bool from_logits = decoder.value("from_logits", true) == true;
  // keras-hub pads past num_detections with -1 in the decoder's format and
  // converts the padding to the task's, like the boxes.
  K2L_ASSIGN_OR_RETURN(
      std::string decoder_format,
      BoxFormat(ctx, decoder.value("bounding_box_format", json(format)),
                "its NonMaxSuppression's bounding_box_format"));
  const std::vector<float> padding =
      ConvertBox({-1.0f, -1.0f, -1.0f, -1.0f}, decoder_format, format,
                 static_cast<float>(h), static_cast<float>(w));
  K2L_ASSIGN_OR_RETURN(
      Anchors anchors,
      MakeAnchors(ctx, ctx.config().value("anchor_generator", json::object()),
                  h, w));

  const ValueId deltas = ctx.input(0), logits = ctx.input(1);
  const ir::Shape ds = ctx.shape(deltas), ls = ctx.shape(logits);
  const int64_t n = anchors.count;
  if (ds.size() != 3 || ds[1] != n || ds[2] != 4 || ls.size() != 3 ||
      ls[1] != n || ls[2] == ir::kDynamic ||
      ctx.value(deltas).dtype != ir::DType::kFloat32 ||
      ctx.value(logits).dtype != ir::DType::kFloat32) {
    return ctx.Invalid(
        "its box deltas have shape " + ir::ShapeToString(ds) +
            " and its class logits " + ir::ShapeToString(ls) +
            "; the anchor "
            "generator gives " +
            std::to_string(n) + " anchors for a " + std::to_string(h) + "x" +
            std::to_string(w) + " image, so they must be float32 [batch, " +
            std::to_string(n) + ", 4] and [batch, " + std::to_string(n) +
            ", classes]",
        "Export the task at the image size its heads were built for");
  }
  const int64_t classes = ls[2];

  // Decode the deltas (dx, dy, dw, dh) against the anchors.
  auto slice2 = [&](int32_t from) {
    return ctx.Op(OpKind::kSlice, {deltas, ctx.ConstInts({0, 0, from}),
                                   ctx.ConstInts({-1, -1, 2})});
  };
  K2L_ASSIGN_OR_RETURN(ValueId dxy, slice2(0));
  K2L_ASSIGN_OR_RETURN(ValueId dwh, slice2(2));
  const ValueId a_c = ctx.ConstFloats(anchors.center, {n, 2});
  const ValueId a_s = ctx.ConstFloats(anchors.size, {n, 2});
  K2L_ASSIGN_OR_RETURN(ValueId c, Bin(ctx, OpKind::kMul, dxy, a_s));
  K2L_ASSIGN_OR_RETURN(c, Bin(ctx, OpKind::kAdd, c, a_c));
  K2L_ASSIGN_OR_RETURN(ValueId e, ctx.Op(OpKind::kExp, {dwh}));
  K2L_ASSIGN_OR_RETURN(ValueId wh, Bin(ctx, OpKind::kMul, e, a_s));
  K2L_ASSIGN_OR_RETURN(ValueId half,
                       Bin(ctx, OpKind::kDiv, wh, ctx.ConstFloat(2.0f)));
  K2L_ASSIGN_OR_RETURN(ValueId xy1, Bin(ctx, OpKind::kSub, c, half));
  K2L_ASSIGN_OR_RETURN(ValueId xy2, Bin(ctx, OpKind::kAdd, c, half));
  K2L_ASSIGN_OR_RETURN(ValueId xyxy,
                       ctx.Op(OpKind::kConcatenation, {xy1, xy2},
                              ir::ConcatAttrs{2, ir::Activation::kNone}));
  K2L_ASSIGN_OR_RETURN(
      ValueId yxyx, ctx.Op(OpKind::kGather, {xyxy, ctx.ConstInts({1, 0, 3, 2})},
                           ir::GatherAttrs{2}));

  ValueId probs = logits;
  if (from_logits) {
    K2L_ASSIGN_OR_RETURN(probs, ctx.Op(OpKind::kLogistic, {logits}));
  }
  K2L_ASSIGN_OR_RETURN(ValueId conf,
                       ctx.Op(OpKind::kReduceMax, {probs, ctx.ConstInts({2})},
                              ir::ReduceAttrs{false}));
  K2L_ASSIGN_OR_RETURN(auto kept, NmsPerImage(ctx, yxyx, conf, s));
  const auto [idx, count] = kept;

  // Flat indices b * N + idx into [B * N, ...].
  K2L_ASSIGN_OR_RETURN(ValueId batch, RuntimeDim(ctx, deltas, 0));
  K2L_ASSIGN_OR_RETURN(ValueId rows,
                       ctx.Op(OpKind::kRange, {ctx.ConstInts({0}, {}), batch,
                                               ctx.ConstInts({1}, {})}));
  K2L_ASSIGN_OR_RETURN(rows, Bin(ctx, OpKind::kMul, rows,
                                 ctx.ConstInts({static_cast<int32_t>(n)}, {})));
  K2L_ASSIGN_OR_RETURN(rows,
                       ctx.Op(OpKind::kExpandDims, {rows, ctx.ConstInts({1})}));
  K2L_ASSIGN_OR_RETURN(ValueId flat, Bin(ctx, OpKind::kAdd, idx, rows));
  auto take = [&](ValueId v, std::vector<int32_t> inner) -> Result<ValueId> {
    inner.insert(inner.begin(), -1);
    K2L_ASSIGN_OR_RETURN(ValueId r,
                         ctx.Op(OpKind::kReshape, {v, ctx.ConstInts(inner)}));
    return ctx.Op(OpKind::kGather, {r, flat}, ir::GatherAttrs{0});
  };
  K2L_ASSIGN_OR_RETURN(ValueId sel_boxes, take(yxyx, {4}));
  K2L_ASSIGN_OR_RETURN(ValueId sel_conf, take(conf, {}));
  K2L_ASSIGN_OR_RETURN(ValueId sel_probs,
                       take(probs, {static_cast<int32_t>(classes)}));

  // argmax over the classes, the first of equal maxima:
  // classes - max((p == max(p)) * (classes - c)).
  K2L_ASSIGN_OR_RETURN(
      ValueId top, ctx.Op(OpKind::kReduceMax, {sel_probs, ctx.ConstInts({2})},
                          ir::ReduceAttrs{true}));
  K2L_ASSIGN_OR_RETURN(ValueId is_top,
                       ctx.Op(OpKind::kGreaterEqual, {sel_probs, top}));
  K2L_ASSIGN_OR_RETURN(
      ValueId is_top_f,
      ctx.Op(OpKind::kCast, {is_top}, ir::NoAttrs{}, ir::DType::kFloat32));
  std::vector<float> rank(static_cast<size_t>(classes));
  for (int64_t k = 0; k < classes; ++k) {
    rank[static_cast<size_t>(k)] = static_cast<float>(classes - k);
  }
  K2L_ASSIGN_OR_RETURN(ValueId weighted, Bin(ctx, OpKind::kMul, is_top_f,
                                             ctx.ConstFloats(rank, {classes})));
  K2L_ASSIGN_OR_RETURN(
      ValueId best, ctx.Op(OpKind::kReduceMax, {weighted, ctx.ConstInts({2})},
                           ir::ReduceAttrs{false}));
  K2L_ASSIGN_OR_RETURN(ValueId label_f,
                       Bin(ctx, OpKind::kSub,
                           ctx.ConstFloat(static_cast<float>(classes)), best));
  K2L_ASSIGN_OR_RETURN(
      ValueId labels,
      ctx.Op(OpKind::kCast, {label_f}, ir::NoAttrs{}, ir::DType::kInt32));

  // -1 past num_detections.
  std::vector<int32_t> positions(static_cast<size_t>(s.max_detections));
  for (int32_t k = 0; k < s.max_detections; ++k) positions[k] = k;
  K2L_ASSIGN_OR_RETURN(
      ValueId count2, ctx.Op(OpKind::kExpandDims, {count, ctx.ConstInts({1})}));
  K2L_ASSIGN_OR_RETURN(
      ValueId valid,
      ctx.Op(OpKind::kLess,
             {ctx.ConstInts(positions, {1, s.max_detections}), count2}));
  K2L_ASSIGN_OR_RETURN(
      ValueId valid3, ctx.Op(OpKind::kExpandDims, {valid, ctx.ConstInts({2})}));
  K2L_ASSIGN_OR_RETURN(ValueId out_boxes,
                       FromYxyx(ctx, sel_boxes, format, h, w));
  const ValueId minus_one = ctx.ConstFloat(-1.0f);
  K2L_ASSIGN_OR_RETURN(
      out_boxes, ctx.Op(OpKind::kSelectV2,
                        {valid3, out_boxes, ctx.ConstFloats(padding, {4})}));
  K2L_ASSIGN_OR_RETURN(ValueId out_conf,
                       ctx.Op(OpKind::kSelectV2, {valid, sel_conf, minus_one}));
  K2L_ASSIGN_OR_RETURN(
      ValueId out_labels,
      ctx.Op(OpKind::kSelectV2, {valid, labels, ctx.ConstInts({-1}, {})}));
  return std::vector<ValueId>{out_boxes, out_conf, out_labels, count};
}

}  // namespace

Status RegisterHubDetectionLayers(Registry& r) {
  return r.Register(
      "keras2litert>RetinaNetDecodePredictions",
      ConvertRetinaNetDecodePredictions,
      "as SLICE, MUL, ADD, EXP, DIV, SUB, GATHER, LOGISTIC, REDUCE_MAX, "
      "WHILE over NON_MAX_SUPPRESSION_V5 per image, RANGE, GREATER_EQUAL, "
      "CAST, LESS, SELECT_V2",
      "added by keras2litert for RetinaNetObjectDetector's predict() "
      "decoding; the anchors are constants for the export's image size");
}

}  // namespace k2l::keras
