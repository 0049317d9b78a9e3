// How Keras masks flow through layers. A mask is made by Masking or by
// Embedding(mask_zero=True) and rides beside the tensor: Keras passes it to
// every later layer whose call takes a `mask`, and keeps it on the outputs of
// layers that support masking. The file never records this, so the
// converter replays it from these rules, which follow Keras 3's layers.
#pragma once

#include <string>

namespace k2l::keras {

enum class MaskRule {
  kDrop,     // the layer neither reads nor keeps a mask
  kPass,     // the output keeps the first input's mask unchanged
  kConsume,  // the layer's call reads the mask; its converter must apply it
             // (or the conversion is refused) and sets the output masks
  kCombine,  // the layer merges its inputs' masks; refused when any is set
};

MaskRule MaskRuleFor(const std::string& class_name);

// Layers whose call takes query_mask/value_mask/key_mask, which Keras fills
// from implicit masks without recording them, even in Keras 3 files.
bool TakesImplicitSequenceMasks(const std::string& class_name);

}  // namespace k2l::keras
