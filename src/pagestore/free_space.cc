#include "pagestore/free_space.h"

#include <algorithm>
#include <iterator>

#include "util/coding.h"

namespace lightning::pagestore {

FreeSpace::FreeSpace(std::uint64_t first_data_page, std::uint64_t high_water)
    : first_data_page_(first_data_page), high_water_(std::max(first_data_page, high_water)) {}

Extent FreeSpace::allocate(std::uint64_t pages) {
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second >= pages) {
      Extent e{it->first, pages};
      std::uint64_t rest = it->second - pages;
      std::uint64_t rest_start = it->first + pages;
      free_.erase(it);
      if (rest > 0) free_.emplace(rest_start, rest);
      free_pages_ -= pages;
      return e;
    }
  }
  // A free extent touching the high-water mark can be extended in place.
  if (!free_.empty()) {
    auto last = std::prev(free_.end());
    if (last->first + last->second == high_water_) {
      Extent e{last->first, pages};
      high_water_ = last->first + pages;
      free_pages_ -= last->second;
      free_.erase(last);
      return e;
    }
  }
  Extent e{high_water_, pages};
  high_water_ += pages;
  return e;
}

void FreeSpace::insert_free(std::uint64_t start, std::uint64_t pages) {
  if (pages == 0) return;
  free_pages_ += pages;
  auto next = free_.lower_bound(start);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      pages += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && start + pages == next->first) {
    pages += next->second;
    free_.erase(next);
  }
  free_.emplace(start, pages);
}

void FreeSpace::free(Extent e, std::uint64_t freed_at_epoch) {
  if (e.pages == 0) return;
  pending_.push_back({freed_at_epoch, e});
  pending_pages_ += e.pages;
}

void FreeSpace::release(std::uint64_t durable_epoch, std::uint64_t oldest_reader_epoch) {
  // Freed at epoch f: reusable once f + 1 <= durable_epoch and no reader of
  // an epoch < f exists (readers of epoch >= f do not reference the page).
  auto ready = [&](const Pending& p) {
    return p.epoch + 1 <= durable_epoch && oldest_reader_epoch >= p.epoch;
  };
  auto keep = std::stable_partition(pending_.begin(), pending_.end(),
                                    [&](const Pending& p) { return !ready(p); });
  for (auto it = keep; it != pending_.end(); ++it) {
    pending_pages_ -= it->extent.pages;
    insert_free(it->extent.start, it->extent.pages);
  }
  pending_.erase(keep, pending_.end());
}

std::uint64_t FreeSpace::trim_tail() {
  if (!free_.empty()) {
    auto last = std::prev(free_.end());
    if (last->first + last->second == high_water_) {
      high_water_ = last->first;
      free_pages_ -= last->second;
      free_.erase(last);
    }
  }
  return high_water_;
}

void FreeSpace::encode(std::string* out) const {
  out->clear();
  put_fixed64(*out, high_water_);
  put_fixed32(*out, static_cast<std::uint32_t>(free_.size()));
  for (const auto& [start, pages] : free_) {
    put_fixed64(*out, start);
    put_fixed64(*out, pages);
  }
  put_fixed32(*out, static_cast<std::uint32_t>(pending_.size()));
  for (const Pending& p : pending_) {
    put_fixed64(*out, p.epoch);
    put_fixed64(*out, p.extent.start);
    put_fixed64(*out, p.extent.pages);
  }
}

Result<FreeSpace> FreeSpace::decode(std::string_view in, std::uint64_t first_data_page,
                                    std::string_view where) {
  auto bad = [&](const std::string& why) {
    return Status::corruption(std::string(where) + ": free-space map " + why);
  };
  std::uint64_t high_water = 0;
  std::uint32_t n = 0;
  if (!get_fixed64(&in, &high_water) || !get_fixed32(&in, &n)) return bad("is truncated");
  FreeSpace fs(first_data_page, high_water);
  std::uint64_t prev_end = first_data_page;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint64_t start = 0, pages = 0;
    if (!get_fixed64(&in, &start) || !get_fixed64(&in, &pages)) return bad("is truncated");
    if (pages == 0 || start < prev_end || start + pages > high_water || start + pages < start) {
      return bad("has an invalid free extent at index " + std::to_string(i));
    }
    fs.free_.emplace(start, pages);
    fs.free_pages_ += pages;
    prev_end = start + pages;
  }
  if (!get_fixed32(&in, &n)) return bad("is truncated");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint64_t epoch = 0, start = 0, pages = 0;
    if (!get_fixed64(&in, &epoch) || !get_fixed64(&in, &start) || !get_fixed64(&in, &pages)) {
      return bad("is truncated");
    }
    if (pages == 0 || start < first_data_page || start + pages > high_water || start + pages < start) {
      return bad("has an invalid pending extent at index " + std::to_string(i));
    }
    fs.pending_.push_back({epoch, {start, pages}});
    fs.pending_pages_ += pages;
  }
  if (!fs.consistent()) return bad("has overlapping extents");
  return fs;
}

bool FreeSpace::consistent() const {
  std::vector<Extent> all;
  for (const auto& [s, p] : free_) all.push_back({s, p});
  for (const Pending& p : pending_) all.push_back(p.extent);
  std::sort(all.begin(), all.end(), [](const Extent& a, const Extent& b) { return a.start < b.start; });
  std::uint64_t end = first_data_page_;
  for (const Extent& e : all) {
    if (e.start < end || e.start + e.pages > high_water_) return false;
    end = e.start + e.pages;
  }
  return true;
}

}  // namespace lightning::pagestore
