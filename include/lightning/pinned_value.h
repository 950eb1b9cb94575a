// PinnedValue: a value read without copying it.
//
// Database::get_pinned() points a PinnedValue at the value where it lives —
// in a memtable, in a cached B+tree page or (Config::use_mmap) in the
// mapped data file — and pins that place (a mapped page is kept from reuse
// by holding the read view it came from), so a cached point read does no
// heap allocation and no copy. The view stays
// valid until the PinnedValue is reset, reassigned or destroyed. Values kept
// in overflow extents are copied into the PinnedValue's own buffer.
//
// Ownership: pins are released by reset() or destruction; a PinnedValue must
// not outlive the Database it came from.
// Thread safety: one thread at a time per PinnedValue.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace lightning {

class PinnedValue {
 public:
  PinnedValue() = default;
  PinnedValue(PinnedValue&& other) noexcept { *this = std::move(other); }
  PinnedValue& operator=(PinnedValue&& other) noexcept {
    if (this != &other) {
      reset();
      keep_alive_ = std::move(other.keep_alive_);
      page_ = other.page_;
      unpin_ = other.unpin_;
      owned_ = std::move(other.owned_);
      view_ = other.uses_owned_ ? std::string_view(owned_) : other.view_;
      uses_owned_ = other.uses_owned_;
      other.page_ = nullptr;
      other.unpin_ = nullptr;
      other.view_ = {};
      other.uses_owned_ = false;
    }
    return *this;
  }
  PinnedValue(const PinnedValue&) = delete;
  PinnedValue& operator=(const PinnedValue&) = delete;
  ~PinnedValue() { reset(); }

  // The value (empty after reset()).
  std::string_view value() const { return view_; }
  // Releases the pin.
  void reset() {
    if (unpin_ != nullptr) unpin_(page_);
    page_ = nullptr;
    unpin_ = nullptr;
    keep_alive_.reset();
    view_ = {};
    uses_owned_ = false;
  }

 private:
  friend class DatabaseImpl;
  std::shared_ptr<const void> keep_alive_;  // the memtables a view points into
  void* page_ = nullptr;                    // an opaque page-cache pin
  void (*unpin_)(void*) = nullptr;
  std::string owned_;  // overflow values
  std::string_view view_;
  bool uses_owned_ = false;
};

}  // namespace lightning
