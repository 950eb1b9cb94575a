#include "runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "engine.h"
#include "report.h"
#include "system.h"

namespace bench {
namespace {

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

[[noreturn]] void child_main(int fd, const std::string& engine, const Workload& w,
                             const BenchOptions& o, const std::string& dir, int repeat) {
  RunResult r;
  try {
    r = run_workload(engine, w, o, dir, repeat);
  } catch (const std::exception& e) {
    r.engine = engine;
    r.workload = std::string(w.name);
    r.repeat = repeat;
    r.error = e.what();
  }
  bool sent = write_all(fd, result_to_json(r).dump());
  ::close(fd);
  // _exit: the parent's atexit handlers and static destructors are not ours to run.
  ::_exit(sent && r.error.empty() ? 0 : 1);
}

}  // namespace

RunResult run_in_child(const std::string& engine, const Workload& w, const BenchOptions& o,
                       int repeat) {
  RunResult failed;
  failed.engine = engine;
  failed.workload = std::string(w.name);
  failed.repeat = repeat;

  std::string dir;
  try {
    dir = make_temp_dir(o.dir);
  } catch (const std::exception& e) {
    failed.error = e.what();
    return failed;
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    remove_tree(dir);
    failed.error = std::string("pipe: ") + std::strerror(errno);
    return failed;
  }
  std::fflush(nullptr);  // the child must not flush the parent's buffered output again
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    remove_tree(dir);
    failed.error = std::string("fork: ") + std::strerror(errno);
    return failed;
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], engine, w, o, dir, repeat);
  }
  ::close(fds[1]);
  std::string message = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  remove_tree(dir);

  if (WIFSIGNALED(status)) {
    failed.error = "child killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                   strsignal(WTERMSIG(status)) + ")";
    return failed;
  }
  try {
    return result_from_json(nlohmann::json::parse(message));
  } catch (const std::exception& e) {
    failed.error = "no result from the child (exit status " + std::to_string(WEXITSTATUS(status)) +
                   "): " + e.what();
    return failed;
  }
}

}  // namespace bench
