// Library version (semantic versioning).
#pragma once

#define LIGHTNING_VERSION_MAJOR 0
#define LIGHTNING_VERSION_MINOR 1
#define LIGHTNING_VERSION_PATCH 0

namespace lightning {
// "0.1.0"
const char* version_string() noexcept;
}  // namespace lightning
