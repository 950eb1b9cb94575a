#include "lightning/version.h"

namespace lightning {

const char* version_string() noexcept { return "0.1.0"; }

}  // namespace lightning
