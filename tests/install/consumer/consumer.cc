// Builds against the installed headers and library; writes, reopens, reads.
#include <lightning/lightning.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  {
    auto db = lightning::Database::open(argv[1]);
    if (!db || !(*db)->put("installed", "yes")) return 1;
  }
  auto db = lightning::Database::open(argv[1]);
  if (!db) return 1;
  auto v = (*db)->get("installed");
  if (!v || !v->has_value() || **v != "yes") return 1;
  std::puts("consumer ok");
  return 0;
}
