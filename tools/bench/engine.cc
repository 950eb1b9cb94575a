#include "engine.h"

#include "system.h"

namespace bench {

BytesWritten Engine::bytes_written() { return {proc_write_bytes(), "/proc/self/io write_bytes"}; }

std::vector<std::string> compiled_engines() {
  std::vector<std::string> names{"lightning", "lightning-mmap"};
#ifdef LIGHTNING_BENCH_HAVE_ROCKSDB
  names.emplace_back("rocksdb");
#endif
#ifdef LIGHTNING_BENCH_HAVE_LEVELDB
  names.emplace_back("leveldb");
#endif
#ifdef LIGHTNING_BENCH_HAVE_LMDB
  names.emplace_back("lmdb");
#endif
  return names;
}

std::string engine_settings_help() {
  std::string s =
      "  lightning: Config defaults (64 MiB memtable, 4 KiB pages); cache_size = --cache-mb;\n"
      "             wal_sync_mode kSync (sync) or kNoSync (nosync); settle = flush_lsm()\n"
      "             (memtable merged into the B+tree). Bytes written: Stats::wal_bytes_written\n"
      "             + data_bytes_written.\n"
      "  lightning-mmap: the same with Config::use_mmap (pages read from a read-only\n"
      "             memory mapping through the OS page cache, like LMDB; the page\n"
      "             cache is unused).\n";
#ifdef LIGHTNING_BENCH_HAVE_ROCKSDB
  s += "  rocksdb:   block-based table, bloom filter 10 bits/key, LZ4, LRU block cache\n"
       "             --cache-mb, 64 MiB write buffer, 2 background jobs; WriteOptions.sync.\n"
       "             settle = Flush + full CompactRange. Bytes written: statistics\n"
       "             (WAL + flush + compaction bytes).\n";
#endif
#ifdef LIGHTNING_BENCH_HAVE_LEVELDB
  s += "  leveldb:   bloom filter 10 bits/key, Snappy, LRU block cache --cache-mb,\n"
       "             4 MiB write buffer (default); WriteOptions.sync.\n"
       "             settle = full CompactRange. Bytes written: /proc/self/io write_bytes.\n";
#endif
#ifdef LIGHTNING_BENCH_HAVE_LMDB
  s += "  lmdb:      64 GiB map, MDB_NORDAHEAD; nosync = MDB_NOSYNC|MDB_NOMETASYNC, sync = "
       "neither;\n"
       "             no MDB_WRITEMAP/MDB_MAPASYNC. Uses the OS page cache (--cache-mb does not\n"
       "             apply); settle = mdb_env_sync. Bytes written: /proc/self/io write_bytes.\n";
#endif
  return s;
}

std::unique_ptr<Engine> open_engine(const std::string& name, const std::string& dir,
                                    const EngineSettings& settings) {
  if (name == "lightning") return open_lightning(dir, settings, false);
  if (name == "lightning-mmap") return open_lightning(dir, settings, true);
#ifdef LIGHTNING_BENCH_HAVE_ROCKSDB
  if (name == "rocksdb") return open_rocksdb(dir, settings);
#endif
#ifdef LIGHTNING_BENCH_HAVE_LEVELDB
  if (name == "leveldb") return open_leveldb(dir, settings);
#endif
#ifdef LIGHTNING_BENCH_HAVE_LMDB
  if (name == "lmdb") return open_lmdb(dir, settings);
#endif
  throw BenchError("engine '" + name + "' is not compiled into this binary");
}

}  // namespace bench
