#include "testutil/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <optional>

extern char** environ;

namespace lightning::testing {

KilledChild run_and_kill(const std::vector<std::string>& argv, const std::string& ready, int delay_ms,
                         const std::function<void(const std::string&)>& on_line) {
  KilledChild result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    ADD_FAILURE() << "posix_spawn " << argv[0] << " failed: " << rc;
    return result;
  }
  result.spawned = true;
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  if (ready.empty()) deadline = Clock::now() + std::chrono::milliseconds(delay_ms);
  std::string pending;  // bytes after the last complete line
  auto consume = [&](const char* data, std::size_t n) {
    pending.append(data, n);
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!deadline && line == ready) deadline = Clock::now() + std::chrono::milliseconds(delay_ms);
      on_line(line);
    }
  };
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(30);
  char buf[4096];
  while (Clock::now() < give_up) {
    int timeout = 1000;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) break;
      timeout = static_cast<int>(left);
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout) <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // the child closed its stdout: it ended by itself
    consume(buf, static_cast<std::size_t>(n));
  }
  ::kill(pid, SIGKILL);
  while (true) {  // what the child wrote before it died
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    consume(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace lightning::testing
