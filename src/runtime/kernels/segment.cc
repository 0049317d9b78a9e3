// UNSORTED_SEGMENT_{SUM,PROD,MAX,MIN} and SEGMENT_SUM: reduce the rows of
// `data` into the segment each row's id names.
#include <algorithm>
#include <limits>

#include "runtime/kernels/register.h"
#include "runtime/kernels/util.h"

namespace k2l::runtime::kernels {

namespace {

enum class Reduce { kSum, kProd, kMax, kMin };

template <typename T>
T Initial(Reduce r) {
  switch (r) {
    case Reduce::kSum:
      return T(0);
    case Reduce::kProd:
      return T(1);
    case Reduce::kMax:
      return std::numeric_limits<T>::lowest();
    case Reduce::kMin:
      return std::numeric_limits<T>::max();
  }
  return T(0);
}

template <typename T>
T Combine(Reduce r, T a, T b) {
  switch (r) {
    case Reduce::kSum:
      return a + b;
    case Reduce::kProd:
      return a * b;
    case Reduce::kMax:
      return std::max(a, b);
    case Reduce::kMin:
      return std::min(a, b);
  }
  return a;
}

// The number of output rows: num_segments for the unsorted ops, the largest
// id + 1 for SEGMENT_SUM (whose ids are sorted).
Result<int32_t> OutputRows(OpContext& ctx, bool sorted) {
  const Tensor& ids = ctx.input(1);
  if (sorted) {
    int32_t rows = 0;
    const int32_t* v = ids.data<int32_t>();
    for (int64_t i = 0; i < ids.num_elements(); ++i) {
      if (v[i] < 0 || (i > 0 && v[i] < v[i - 1])) {
        return ctx.Error("segment_ids must be sorted and non-negative; id " +
                         std::to_string(v[i]) + " at position " +
                         std::to_string(i) + " is not");
      }
      rows = std::max(rows, v[i] + 1);
    }
    return rows;
  }
  const Tensor& n = ctx.input(2);
  if (n.num_elements() < 1) return ctx.Error("num_segments is empty");
  int32_t rows = n.data<int32_t>()[0];
  if (rows < 0) {
    return ctx.Error("num_segments is " + std::to_string(rows) +
                     "; it must not be negative");
  }
  return rows;
}

template <bool kSorted>
Status SegmentPrepare(OpContext& ctx) {
  K2L_RETURN_IF_ERROR(CheckArity(ctx, kSorted ? 2 : 3, kSorted ? 2 : 3, 1));
  const Tensor& data = ctx.input(0);
  const Tensor& ids = ctx.input(1);
  K2L_RETURN_IF_ERROR(
      CheckType(ctx, data, "data", {TensorType::FLOAT32, TensorType::INT32}));
  K2L_RETURN_IF_ERROR(CheckType(ctx, ids, "segment_ids", {TensorType::INT32}));
  if (!kSorted)
    K2L_RETURN_IF_ERROR(
        CheckType(ctx, ctx.input(2), "num_segments", {TensorType::INT32}));
  if (ctx.output(0).type != data.type)
    return ctx.Error("the output type differs from the data type");
  bool ids_prefix = ids.rank() >= 1 && ids.rank() <= data.rank();
  for (int i = 0; ids_prefix && i < ids.rank(); ++i)
    ids_prefix = ids.dim(i) == data.dim(i);
  if (!ids_prefix) {
    return ctx.Error("segment_ids has shape " + ShapeString(ids.shape) +
                     ", which is not a leading part of the data's shape " +
                     ShapeString(data.shape));
  }
  if (!ctx.ValueKnown(1) || (!kSorted && !ctx.ValueKnown(2))) {
    ctx.Defer();
    return Status::Ok();
  }
  K2L_ASSIGN_OR_RETURN(int32_t rows, OutputRows(ctx, kSorted));
  Shape out = {rows};
  out.insert(out.end(), data.shape.begin() + ids.rank(), data.shape.end());
  return ctx.ResizeOutput(0, out);
}

template <typename T>
Status SegmentEval(OpContext& ctx, Reduce r) {
  const Tensor& data = ctx.input(0);
  const Tensor& ids = ctx.input(1);
  Tensor& out = ctx.output(0);
  int64_t rows = out.dim(0);
  int64_t inner = rows == 0 ? 0 : out.num_elements() / rows;
  T* o = out.mutable_data<T>();
  std::fill(o, o + out.num_elements(), Initial<T>(r));
  const T* d = data.data<T>();
  const int32_t* id = ids.data<int32_t>();
  for (int64_t i = 0; i < ids.num_elements(); ++i) {
    if (id[i] < 0) continue;  // dropped, as in LiteRT
    if (id[i] >= rows) {
      return ctx.Error("segment id " + std::to_string(id[i]) + " at position " +
                       std::to_string(i) + " is out of range [0, " +
                       std::to_string(rows) + ")");
    }
    T* row = o + id[i] * inner;
    const T* src = d + i * inner;
    for (int64_t k = 0; k < inner; ++k) row[k] = Combine(r, row[k], src[k]);
  }
  return Status::Ok();
}

template <Reduce kReduce>
Status Eval(OpContext& ctx) {
  if (ctx.input(0).type == TensorType::INT32)
    return SegmentEval<int32_t>(ctx, kReduce);
  return SegmentEval<float>(ctx, kReduce);
}

}  // namespace

Status RegisterSegmentKernels(OpResolver& r) {
  using Op = fb::BuiltinOperator;
  K2L_RETURN_IF_ERROR(r.Add({Op::UNSORTED_SEGMENT_SUM, 1, 1,
                             SegmentPrepare<false>, Eval<Reduce::kSum>}));
  K2L_RETURN_IF_ERROR(r.Add({Op::UNSORTED_SEGMENT_PROD, 1, 1,
                             SegmentPrepare<false>, Eval<Reduce::kProd>}));
  K2L_RETURN_IF_ERROR(r.Add({Op::UNSORTED_SEGMENT_MAX, 1, 1,
                             SegmentPrepare<false>, Eval<Reduce::kMax>}));
  K2L_RETURN_IF_ERROR(r.Add({Op::UNSORTED_SEGMENT_MIN, 1, 1,
                             SegmentPrepare<false>, Eval<Reduce::kMin>}));
  K2L_RETURN_IF_ERROR(
      r.Add({Op::SEGMENT_SUM, 1, 1, SegmentPrepare<true>, Eval<Reduce::kSum>}));
  return Status::Ok();
}

}  // namespace k2l::runtime::kernels
