// Every Keras layer class with its status, for docs/supported_layers.md and
// for error messages: the registry says what converts (fully, or partly
// with its limits); this catalog says why the remaining classes do not.
#pragma once

#include <string>
#include <vector>

#include "frontend/keras/registry.h"

namespace k2l::keras {

struct CatalogEntry {
  std::string class_name;
  std::string status;  // "supported", "partial" or "unsupported"
  std::string ops;     // builtin ops, for supported and partial classes
  std::string notes;   // limits (partial) or the reason (unsupported)
};

// Registered classes and the known unregistered ones, sorted by class name.
std::vector<CatalogEntry> LayerCatalog(const Registry& registry);

// Why a known Keras class does not convert, or "" when it is not known.
std::string WhyUnsupported(const std::string& class_name);

}  // namespace k2l::keras
