// Lightning DB: an embedded, crash-safe, transactional key-value store.
//
//   #include <lightning/lightning.h>
//   auto db = lightning::Database::open("/path/to/db");
//   if (!db) { /* db.status() says why */ }
//   (*db)->put("key", "value");
//
// See README.md for the quick start and docs/ for the design.
#pragma once

#include "lightning/config.h"
#include "lightning/database.h"
#include "lightning/file_system.h"
#include "lightning/iterator.h"
#include "lightning/pinned_value.h"
#include "lightning/snapshot.h"
#include "lightning/stats.h"
#include "lightning/status.h"
#include "lightning/version.h"
#include "lightning/write_batch.h"
