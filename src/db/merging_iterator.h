// MergingIterator: the k-way merge of several InternalIterators into one
// ordered stream of internal keys (newest version of a key first, because
// internal keys order by sequence descending). Duplicates are not removed:
// DbIterator hides shadowed versions.
//
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <vector>

#include "db/internal_iterator.h"

namespace lightning {

std::unique_ptr<InternalIterator> new_merging_iterator(
    std::vector<std::unique_ptr<InternalIterator>> children);

}  // namespace lightning
