// Printable renderings of binary keys for error messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lightning {

// Printable ASCII kept, other bytes as \xNN; at most max_bytes of input shown,
// then "...(N bytes)". Quoted: "key".
std::string describe_key(std::string_view key, std::size_t max_bytes = 48);

}  // namespace lightning
