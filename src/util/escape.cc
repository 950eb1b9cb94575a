#include "util/escape.h"

#include <cstdio>

namespace lightning {

std::string describe_key(std::string_view key, std::size_t max_bytes) {
  std::string out = "\"";
  std::size_t shown = key.size() < max_bytes ? key.size() : max_bytes;
  for (std::size_t i = 0; i < shown; ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += "\"";
  if (shown < key.size()) out += "...(" + std::to_string(key.size()) + " bytes)";
  return out;
}

}  // namespace lightning
