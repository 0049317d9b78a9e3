// Typed attribute structs, one per op kind (see ops.def).
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

namespace k2l::ir {

// Activation fused into an op's output, as LiteRT's fused_activation_function.
enum class Activation : uint8_t { kNone, kRelu, kReluN1To1, kRelu6, kTanh };
enum class Padding : uint8_t { kSame, kValid };

struct NoAttrs {
  bool operator==(const NoAttrs&) const = default;
};
struct BinaryAttrs {
  Activation activation = Activation::kNone;
  bool operator==(const BinaryAttrs&) const = default;
};
struct FullyConnectedAttrs {
  Activation activation = Activation::kNone;
  // Rank>2 inputs keep their leading dims (Dense on sequences).
  bool keep_num_dims = false;
  bool operator==(const FullyConnectedAttrs&) const = default;
};
struct Conv2DAttrs {
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  Activation activation = Activation::kNone;
  bool operator==(const Conv2DAttrs&) const = default;
};
struct DepthwiseConv2DAttrs {
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int depth_multiplier = 1;
  Activation activation = Activation::kNone;
  bool operator==(const DepthwiseConv2DAttrs&) const = default;
};
struct Conv3DAttrs {
  Padding padding = Padding::kValid;
  int stride_d = 1, stride_h = 1, stride_w = 1;
  int dilation_d = 1, dilation_h = 1, dilation_w = 1;
  Activation activation = Activation::kNone;
  bool operator==(const Conv3DAttrs&) const = default;
};
struct TransposeConvAttrs {
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  Activation activation = Activation::kNone;
  bool operator==(const TransposeConvAttrs&) const = default;
};
struct Pool2DAttrs {
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  int filter_h = 1, filter_w = 1;
  Activation activation = Activation::kNone;
  bool operator==(const Pool2DAttrs&) const = default;
};
struct BatchMatMulAttrs {
  bool adj_x = false, adj_y = false;
  bool operator==(const BatchMatMulAttrs&) const = default;
};
struct GeluAttrs {
  bool approximate = false;
  bool operator==(const GeluAttrs&) const = default;
};
struct LeakyReluAttrs {
  float alpha = 0.2f;
  bool operator==(const LeakyReluAttrs&) const = default;
};
struct SoftmaxAttrs {
  float beta = 1.0f;
  bool operator==(const SoftmaxAttrs&) const = default;
};
struct ReduceAttrs {
  bool keep_dims = false;
  bool operator==(const ReduceAttrs&) const = default;
};
struct ConcatAttrs {
  int axis = 0;
  Activation activation = Activation::kNone;
  bool operator==(const ConcatAttrs&) const = default;
};
struct StridedSliceAttrs {
  int begin_mask = 0, end_mask = 0, ellipsis_mask = 0;
  int new_axis_mask = 0, shrink_axis_mask = 0;
  bool operator==(const StridedSliceAttrs&) const = default;
};
struct GatherAttrs {
  int axis = 0;
  int batch_dims = 0;
  bool operator==(const GatherAttrs&) const = default;
};
struct SqueezeAttrs {
  std::vector<int> axes;
  bool operator==(const SqueezeAttrs&) const = default;
};
struct SplitAttrs {
  int num_splits = 1;
  bool operator==(const SplitAttrs&) const = default;
};
struct ResizeAttrs {
  bool align_corners = false;
  bool half_pixel_centers = false;
  bool operator==(const ResizeAttrs&) const = default;
};
struct WhileAttrs {
  // Subgraph indices in the main graph (1-based; see Graph::AddSubgraph).
  int cond = 0;
  int body = 0;
  bool operator==(const WhileAttrs&) const = default;
};

using Attrs = std::variant<NoAttrs, BinaryAttrs, FullyConnectedAttrs,
                           Conv2DAttrs, DepthwiseConv2DAttrs, Conv3DAttrs,
                           TransposeConvAttrs, Pool2DAttrs, BatchMatMulAttrs,
                           GeluAttrs, LeakyReluAttrs, SoftmaxAttrs, ReduceAttrs,
                           ConcatAttrs, StridedSliceAttrs, GatherAttrs,
                           SqueezeAttrs, SplitAttrs, ResizeAttrs, WhileAttrs>;

}  // namespace k2l::ir
