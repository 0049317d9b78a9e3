#include "litert/op_table.h"

namespace k2l::litert {

namespace {

using FBB = flatbuffers::FlatBufferBuilder;
using ir::Graph;
using ir::Op;

fb::ActivationFunctionType Act(ir::Activation a) {
  switch (a) {
    case ir::Activation::kNone:
      return fb::ActivationFunctionType::NONE;
    case ir::Activation::kRelu:
      return fb::ActivationFunctionType::RELU;
    case ir::Activation::kReluN1To1:
      return fb::ActivationFunctionType::RELU_N1_TO_1;
    case ir::Activation::kRelu6:
      return fb::ActivationFunctionType::RELU6;
    case ir::Activation::kTanh:
      return fb::ActivationFunctionType::TANH;
  }
  return fb::ActivationFunctionType::NONE;
}

fb::Padding Pad(ir::Padding p) {
  return p == ir::Padding::kSame ? fb::Padding::SAME : fb::Padding::VALID;
}

template <typename T>
const T& A(const Op& op) {
  return std::get<T>(op.attrs);
}

WrittenOptions None(FBB&, const Graph&, const Op&) { return {}; }

template <typename Offset>
WrittenOptions Opt(fb::BuiltinOptions type, Offset off) {
  return {type, off.Union()};
}

WrittenOptions FullyConnected(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::FullyConnectedAttrs>(op);
  fb::FullyConnectedOptionsBuilder b(f);
  b.add_fused_activation_function(Act(a.activation));
  b.add_keep_num_dims(a.keep_num_dims);
  return Opt(fb::BuiltinOptions::FullyConnectedOptions, b.Finish());
}

WrittenOptions Conv2D(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::Conv2DAttrs>(op);
  fb::Conv2DOptionsBuilder b(f);
  b.add_padding(Pad(a.padding));
  b.add_stride_h(a.stride_h);
  b.add_stride_w(a.stride_w);
  b.add_dilation_h_factor(a.dilation_h);
  b.add_dilation_w_factor(a.dilation_w);
  b.add_fused_activation_function(Act(a.activation));
  return Opt(fb::BuiltinOptions::Conv2DOptions, b.Finish());
}

WrittenOptions DepthwiseConv2D(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::DepthwiseConv2DAttrs>(op);
  fb::DepthwiseConv2DOptionsBuilder b(f);
  b.add_padding(Pad(a.padding));
  b.add_stride_h(a.stride_h);
  b.add_stride_w(a.stride_w);
  b.add_dilation_h_factor(a.dilation_h);
  b.add_dilation_w_factor(a.dilation_w);
  b.add_depth_multiplier(a.depth_multiplier);
  b.add_fused_activation_function(Act(a.activation));
  return Opt(fb::BuiltinOptions::DepthwiseConv2DOptions, b.Finish());
}

WrittenOptions TransposeConv(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::TransposeConvAttrs>(op);
  fb::TransposeConvOptionsBuilder b(f);
  b.add_padding(Pad(a.padding));
  b.add_stride_h(a.stride_h);
  b.add_stride_w(a.stride_w);
  b.add_fused_activation_function(Act(a.activation));
  return Opt(fb::BuiltinOptions::TransposeConvOptions, b.Finish());
}

WrittenOptions Conv3D(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::Conv3DAttrs>(op);
  fb::Conv3DOptionsBuilder b(f);
  b.add_padding(Pad(a.padding));
  b.add_stride_d(a.stride_d);
  b.add_stride_h(a.stride_h);
  b.add_stride_w(a.stride_w);
  b.add_dilation_d_factor(a.dilation_d);
  b.add_dilation_h_factor(a.dilation_h);
  b.add_dilation_w_factor(a.dilation_w);
  b.add_fused_activation_function(Act(a.activation));
  return Opt(fb::BuiltinOptions::Conv3DOptions, b.Finish());
}

WrittenOptions Pool2D(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::Pool2DAttrs>(op);
  fb::Pool2DOptionsBuilder b(f);
  b.add_padding(Pad(a.padding));
  b.add_stride_h(a.stride_h);
  b.add_stride_w(a.stride_w);
  b.add_filter_height(a.filter_h);
  b.add_filter_width(a.filter_w);
  b.add_fused_activation_function(Act(a.activation));
  return Opt(fb::BuiltinOptions::Pool2DOptions, b.Finish());
}

WrittenOptions BatchMatMul(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::BatchMatMulAttrs>(op);
  fb::BatchMatMulOptionsBuilder b(f);
  b.add_adj_x(a.adj_x);
  b.add_adj_y(a.adj_y);
  return Opt(fb::BuiltinOptions::BatchMatMulOptions, b.Finish());
}

WrittenOptions AddOpt(FBB& f, const Graph&, const Op& op) {
  fb::AddOptionsBuilder b(f);
  b.add_fused_activation_function(Act(A<ir::BinaryAttrs>(op).activation));
  return Opt(fb::BuiltinOptions::AddOptions, b.Finish());
}
WrittenOptions SubOpt(FBB& f, const Graph&, const Op& op) {
  fb::SubOptionsBuilder b(f);
  b.add_fused_activation_function(Act(A<ir::BinaryAttrs>(op).activation));
  return Opt(fb::BuiltinOptions::SubOptions, b.Finish());
}
WrittenOptions MulOpt(FBB& f, const Graph&, const Op& op) {
  fb::MulOptionsBuilder b(f);
  b.add_fused_activation_function(Act(A<ir::BinaryAttrs>(op).activation));
  return Opt(fb::BuiltinOptions::MulOptions, b.Finish());
}
WrittenOptions DivOpt(FBB& f, const Graph&, const Op& op) {
  fb::DivOptionsBuilder b(f);
  b.add_fused_activation_function(Act(A<ir::BinaryAttrs>(op).activation));
  return Opt(fb::BuiltinOptions::DivOptions, b.Finish());
}

WrittenOptions Gelu(FBB& f, const Graph&, const Op& op) {
  fb::GeluOptionsBuilder b(f);
  b.add_approximate(A<ir::GeluAttrs>(op).approximate);
  return Opt(fb::BuiltinOptions::GeluOptions, b.Finish());
}

WrittenOptions LeakyRelu(FBB& f, const Graph&, const Op& op) {
  fb::LeakyReluOptionsBuilder b(f);
  b.add_alpha(A<ir::LeakyReluAttrs>(op).alpha);
  return Opt(fb::BuiltinOptions::LeakyReluOptions, b.Finish());
}

WrittenOptions Softmax(FBB& f, const Graph&, const Op& op) {
  fb::SoftmaxOptionsBuilder b(f);
  b.add_beta(A<ir::SoftmaxAttrs>(op).beta);
  return Opt(fb::BuiltinOptions::SoftmaxOptions, b.Finish());
}

WrittenOptions LogSoftmax(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::LogSoftmaxOptions,
             fb::LogSoftmaxOptionsBuilder(f).Finish());
}

WrittenOptions Reducer(FBB& f, const Graph&, const Op& op) {
  fb::ReducerOptionsBuilder b(f);
  b.add_keep_dims(A<ir::ReduceAttrs>(op).keep_dims);
  return Opt(fb::BuiltinOptions::ReducerOptions, b.Finish());
}

WrittenOptions Concatenation(FBB& f, const Graph& g, const Op& op) {
  const auto& a = A<ir::ConcatAttrs>(op);
  int rank = static_cast<int>(g.value(op.inputs[0]).shape.size());
  fb::ConcatenationOptionsBuilder b(f);
  b.add_axis(a.axis < 0 ? a.axis + rank : a.axis);
  b.add_fused_activation_function(Act(a.activation));
  return Opt(fb::BuiltinOptions::ConcatenationOptions, b.Finish());
}

WrittenOptions ReshapeOpt(FBB& f, const Graph&, const Op&) {
  // The new shape travels as the second input, which newer runtimes prefer.
  return Opt(fb::BuiltinOptions::ReshapeOptions,
             fb::ReshapeOptionsBuilder(f).Finish());
}
WrittenOptions TransposeOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::TransposeOptions,
             fb::TransposeOptionsBuilder(f).Finish());
}
WrittenOptions PadOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::PadOptions, fb::PadOptionsBuilder(f).Finish());
}

WrittenOptions PadV2Opt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::PadV2Options,
             fb::PadV2OptionsBuilder(f).Finish());
}
WrittenOptions SliceOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::SliceOptions,
             fb::SliceOptionsBuilder(f).Finish());
}
WrittenOptions StridedSlice(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::StridedSliceAttrs>(op);
  fb::StridedSliceOptionsBuilder b(f);
  b.add_begin_mask(a.begin_mask);
  b.add_end_mask(a.end_mask);
  b.add_ellipsis_mask(a.ellipsis_mask);
  b.add_new_axis_mask(a.new_axis_mask);
  b.add_shrink_axis_mask(a.shrink_axis_mask);
  return Opt(fb::BuiltinOptions::StridedSliceOptions, b.Finish());
}
WrittenOptions Gather(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::GatherAttrs>(op);
  fb::GatherOptionsBuilder b(f);
  b.add_axis(a.axis);
  b.add_batch_dims(a.batch_dims);
  return Opt(fb::BuiltinOptions::GatherOptions, b.Finish());
}
WrittenOptions TileOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::TileOptions,
             fb::TileOptionsBuilder(f).Finish());
}
WrittenOptions ExpandDimsOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::ExpandDimsOptions,
             fb::ExpandDimsOptionsBuilder(f).Finish());
}
WrittenOptions Squeeze(FBB& f, const Graph&, const Op& op) {
  auto dims = f.CreateVector(A<ir::SqueezeAttrs>(op).axes);
  fb::SqueezeOptionsBuilder b(f);
  b.add_squeeze_dims(dims);
  return Opt(fb::BuiltinOptions::SqueezeOptions, b.Finish());
}
WrittenOptions RangeOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::RangeOptions, fb::CreateRangeOptions(f));
}

WrittenOptions Fill(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::FillOptions, fb::CreateFillOptions(f));
}

WrittenOptions BroadcastToOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::BroadcastToOptions,
             fb::BroadcastToOptionsBuilder(f).Finish());
}
WrittenOptions DynamicUpdateSlice(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::DynamicUpdateSliceOptions,
             fb::CreateDynamicUpdateSliceOptions(f));
}

WrittenOptions While(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::WhileAttrs>(op);
  return Opt(fb::BuiltinOptions::WhileOptions,
             fb::CreateWhileOptions(f, a.cond, a.body));
}

WrittenOptions Split(FBB& f, const Graph&, const Op& op) {
  fb::SplitOptionsBuilder b(f);
  b.add_num_splits(A<ir::SplitAttrs>(op).num_splits);
  return Opt(fb::BuiltinOptions::SplitOptions, b.Finish());
}
WrittenOptions ShapeOpt(FBB& f, const Graph&, const Op&) {
  fb::ShapeOptionsBuilder b(f);
  b.add_out_type(fb::TensorType::INT32);
  return Opt(fb::BuiltinOptions::ShapeOptions, b.Finish());
}
WrittenOptions CastOpt(FBB& f, const Graph& g, const Op& op) {
  fb::CastOptionsBuilder b(f);
  b.add_in_data_type(ToTensorType(g.value(op.inputs[0]).dtype));
  b.add_out_data_type(ToTensorType(g.value(op.outputs[0]).dtype));
  return Opt(fb::BuiltinOptions::CastOptions, b.Finish());
}
WrittenOptions ResizeBilinear(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::ResizeAttrs>(op);
  fb::ResizeBilinearOptionsBuilder b(f);
  b.add_align_corners(a.align_corners);
  b.add_half_pixel_centers(a.half_pixel_centers);
  return Opt(fb::BuiltinOptions::ResizeBilinearOptions, b.Finish());
}
WrittenOptions ResizeNearest(FBB& f, const Graph&, const Op& op) {
  const auto& a = A<ir::ResizeAttrs>(op);
  fb::ResizeNearestNeighborOptionsBuilder b(f);
  b.add_align_corners(a.align_corners);
  b.add_half_pixel_centers(a.half_pixel_centers);
  return Opt(fb::BuiltinOptions::ResizeNearestNeighborOptions, b.Finish());
}
WrittenOptions MaxMin(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::MaximumMinimumOptions,
             fb::MaximumMinimumOptionsBuilder(f).Finish());
}
WrittenOptions SelectV2(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::SelectV2Options,
             fb::SelectV2OptionsBuilder(f).Finish());
}
WrittenOptions PowOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::PowOptions, fb::PowOptionsBuilder(f).Finish());
}
WrittenOptions SqDiff(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::SquaredDifferenceOptions,
             fb::SquaredDifferenceOptionsBuilder(f).Finish());
}
WrittenOptions HardSwishOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::HardSwishOptions,
             fb::HardSwishOptionsBuilder(f).Finish());
}
WrittenOptions ExpOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::ExpOptions, fb::ExpOptionsBuilder(f).Finish());
}
WrittenOptions AbsOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::AbsOptions, fb::AbsOptionsBuilder(f).Finish());
}
WrittenOptions NegOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::NegOptions, fb::NegOptionsBuilder(f).Finish());
}
WrittenOptions SquareOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::SquareOptions,
             fb::SquareOptionsBuilder(f).Finish());
}
WrittenOptions GreaterOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::GreaterOptions,
             fb::GreaterOptionsBuilder(f).Finish());
}
WrittenOptions GreaterEqualOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::GreaterEqualOptions,
             fb::GreaterEqualOptionsBuilder(f).Finish());
}
WrittenOptions NotEqualOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::NotEqualOptions,
             fb::NotEqualOptionsBuilder(f).Finish());
}
WrittenOptions LogicalAndOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::LogicalAndOptions,
             fb::LogicalAndOptionsBuilder(f).Finish());
}
WrittenOptions LessOpt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::LessOptions,
             fb::LessOptionsBuilder(f).Finish());
}

WrittenOptions NonMaxSuppressionV5Opt(FBB& f, const Graph&, const Op&) {
  return Opt(fb::BuiltinOptions::NonMaxSuppressionV5Options,
             fb::NonMaxSuppressionV5OptionsBuilder(f).Finish());
}

int V1(const Graph&, const Op&) { return 1; }
// LiteRT registers BROADCAST_TO from version 2 (version 1 was rolled back).
int V2(const Graph&, const Op&) { return 2; }

// FULLY_CONNECTED with keep_num_dims needs version 5.
int FullyConnectedVersion(const Graph&, const Op& op) {
  return A<ir::FullyConnectedAttrs>(op).keep_num_dims ? 5 : 1;
}
// TRANSPOSE_CONV with a bias input needs version 3.
int TransposeConvVersion(const Graph&, const Op& op) {
  return op.inputs.size() > 3 && op.inputs[3] != ir::kNoValue ? 3 : 1;
}
// Reductions/elementwise ops whose rank exceeds 4 need newer versions;
// version 1 covers what we emit today.

using BO = fb::BuiltinOperator;

// clang-format off
const OpTableEntry kTable[] = {
#define K2L_ROW(kind, code, rt, ver, opts) \
  {ir::OpKind::k##kind, BO::code, rt, ver, opts},
    // One row per op, in the order of ir/ops.def (checked by a unit test).
    K2L_ROW(FullyConnected, FULLY_CONNECTED, "1.5.0", FullyConnectedVersion, FullyConnected)
    K2L_ROW(Conv2D, CONV_2D, "1.5.0", V1, Conv2D)
    K2L_ROW(DepthwiseConv2D, DEPTHWISE_CONV_2D, "1.5.0", V1, DepthwiseConv2D)
    K2L_ROW(TransposeConv, TRANSPOSE_CONV, "1.9.0", TransposeConvVersion, TransposeConv)
    K2L_ROW(Conv3D, CONV_3D, "2.5.0", V1, Conv3D)
    K2L_ROW(Conv3DTranspose, CONV_3D_TRANSPOSE, "2.5.0", V1, Conv3D)
    K2L_ROW(AveragePool2D, AVERAGE_POOL_2D, "1.5.0", V1, Pool2D)
    K2L_ROW(MaxPool2D, MAX_POOL_2D, "1.5.0", V1, Pool2D)
    K2L_ROW(BatchMatMul, BATCH_MATMUL, "2.3.0", V1, BatchMatMul)
    K2L_ROW(Add, ADD, "1.5.0", V1, AddOpt)
    K2L_ROW(Sub, SUB, "1.6.0", V1, SubOpt)
    K2L_ROW(Mul, MUL, "1.5.0", V1, MulOpt)
    K2L_ROW(Div, DIV, "1.6.0", V1, DivOpt)
    K2L_ROW(Maximum, MAXIMUM, "1.14.0", V1, MaxMin)
    K2L_ROW(Minimum, MINIMUM, "1.14.0", V1, MaxMin)
    K2L_ROW(Pow, POW, "1.14.0", V1, PowOpt)
    K2L_ROW(SquaredDifference, SQUARED_DIFFERENCE, "1.13.1", V1, SqDiff)
    K2L_ROW(Greater, GREATER, "1.14.0", V1, GreaterOpt)
    K2L_ROW(GreaterEqual, GREATER_EQUAL, "1.14.0", V1, GreaterEqualOpt)
    K2L_ROW(Less, LESS, "1.14.0", V1, LessOpt)
    K2L_ROW(SelectV2, SELECT_V2, "2.2.0", V1, SelectV2)
    K2L_ROW(Relu, RELU, "1.5.0", V1, None)
    K2L_ROW(Relu6, RELU6, "1.5.0", V1, None)
    K2L_ROW(ReluN1To1, RELU_N1_TO_1, "1.5.0", V1, None)
    K2L_ROW(Logistic, LOGISTIC, "1.5.0", V1, None)
    K2L_ROW(Tanh, TANH, "1.14.0", V1, None)
    K2L_ROW(Gelu, GELU, "2.9.0", V1, Gelu)
    K2L_ROW(HardSwish, HARD_SWISH, "1.15.0", V1, HardSwishOpt)
    K2L_ROW(Elu, ELU, "1.14.0", V1, None)
    K2L_ROW(LeakyRelu, LEAKY_RELU, "1.13.1", V1, LeakyRelu)
    K2L_ROW(Prelu, PRELU, "1.9.0", V1, None)
    K2L_ROW(Exp, EXP, "1.7.0", V1, ExpOpt)
    K2L_ROW(Log, LOG, "1.14.0", V1, None)
    K2L_ROW(Abs, ABS, "1.13.1", V1, AbsOpt)
    K2L_ROW(Neg, NEG, "1.9.0", V1, NegOpt)
    K2L_ROW(Sqrt, SQRT, "1.14.0", V1, None)
    K2L_ROW(Rsqrt, RSQRT, "1.14.0", V1, None)
    K2L_ROW(Square, SQUARE, "1.14.0", V1, SquareOpt)
    K2L_ROW(Cast, CAST, "1.5.0", V1, CastOpt)
    K2L_ROW(Softmax, SOFTMAX, "1.5.0", V1, Softmax)
    K2L_ROW(LogSoftmax, LOG_SOFTMAX, "1.14.0", V1, LogSoftmax)
    K2L_ROW(Mean, MEAN, "1.6.0", V1, Reducer)
    K2L_ROW(Sum, SUM, "1.10.0", V1, Reducer)
    K2L_ROW(ReduceMax, REDUCE_MAX, "1.11.0", V1, Reducer)
    K2L_ROW(ReduceMin, REDUCE_MIN, "1.11.0", V1, Reducer)
    K2L_ROW(Reshape, RESHAPE, "1.5.0", V1, ReshapeOpt)
    K2L_ROW(Transpose, TRANSPOSE, "1.6.0", V1, TransposeOpt)
    K2L_ROW(Concatenation, CONCATENATION, "1.5.0", V1, Concatenation)
    K2L_ROW(Pad, PAD, "1.5.0", V1, PadOpt)
    K2L_ROW(PadV2, PADV2, "1.9.0", V1, PadV2Opt)
    K2L_ROW(Slice, SLICE, "1.14.0", V1, SliceOpt)
    K2L_ROW(StridedSlice, STRIDED_SLICE, "1.6.0", V1, StridedSlice)
    K2L_ROW(Gather, GATHER, "1.6.0", V1, Gather)
    K2L_ROW(Tile, TILE, "1.10.1", V1, TileOpt)
    K2L_ROW(ExpandDims, EXPAND_DIMS, "1.10.0", V1, ExpandDimsOpt)
    K2L_ROW(Squeeze, SQUEEZE, "1.6.0", V1, Squeeze)
    K2L_ROW(Split, SPLIT, "1.5.0", V1, Split)
    K2L_ROW(Shape, SHAPE, "1.10.0", V1, ShapeOpt)
    K2L_ROW(ResizeNearestNeighbor, RESIZE_NEAREST_NEIGHBOR, "1.13.1", V1, ResizeNearest)
    K2L_ROW(ResizeBilinear, RESIZE_BILINEAR, "1.7.0", V1, ResizeBilinear)
    K2L_ROW(Fill, FILL, "1.13.0", V1, Fill)
    K2L_ROW(DynamicUpdateSlice, DYNAMIC_UPDATE_SLICE, "2.9.0", V1, DynamicUpdateSlice)
    K2L_ROW(BroadcastTo, BROADCAST_TO, "2.5.0", V2, BroadcastToOpt)
    K2L_ROW(While, WHILE, "1.15.0", V1, While)
    K2L_ROW(NotEqual, NOT_EQUAL, "1.14.0", V1, NotEqualOpt)
    K2L_ROW(LogicalAnd, LOGICAL_AND, "1.14.0", V1, LogicalAndOpt)
    K2L_ROW(ReduceAny, REDUCE_ANY, "1.11.0", V1, Reducer)
    K2L_ROW(Range, RANGE, "1.13.0", V1, RangeOpt)
    K2L_ROW(NonMaxSuppressionV5, NON_MAX_SUPPRESSION_V5, "2.1.0", V1, NonMaxSuppressionV5Opt)
#undef K2L_ROW
};
// clang-format on

constexpr size_t kNumOps = 0
#define K2L_OP(name, attrs) +1
#include "ir/ops.def"
#undef K2L_OP
    ;
static_assert(sizeof(kTable) / sizeof(kTable[0]) == kNumOps,
              "op_table.cc must have one row per op in ir/ops.def");

}  // namespace

const OpTableEntry& LookupOp(ir::OpKind kind) {
  return kTable[static_cast<size_t>(kind)];
}

fb::TensorType ToTensorType(ir::DType t) {
  switch (t) {
    case ir::DType::kFloat32:
      return fb::TensorType::FLOAT32;
    case ir::DType::kFloat16:
      return fb::TensorType::FLOAT16;
    case ir::DType::kBFloat16:
      return fb::TensorType::BFLOAT16;
    case ir::DType::kFloat64:
      return fb::TensorType::FLOAT64;
    case ir::DType::kInt8:
      return fb::TensorType::INT8;
    case ir::DType::kUInt8:
      return fb::TensorType::UINT8;
    case ir::DType::kInt16:
      return fb::TensorType::INT16;
    case ir::DType::kInt32:
      return fb::TensorType::INT32;
    case ir::DType::kInt64:
      return fb::TensorType::INT64;
    case ir::DType::kBool:
      return fb::TensorType::BOOL;
  }
  return fb::TensorType::FLOAT32;
}

}  // namespace k2l::litert
