// Runs a child process whose stdout is read line by line, and kills it with
// SIGKILL at a chosen moment (crash tests with a real process).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace lightning::testing {

struct KilledChild {
  int signal = 0;      // the signal that ended it (0: it exited by itself)
  int exit_code = -1;  // when it exited
  bool spawned = false;
};

// Spawns argv (argv[0] is the program path), hands every complete stdout
// line to on_line, and SIGKILLs the child delay_ms after the first line
// equal to `ready` (or after the spawn when `ready` is empty), or once it
// closed its stdout (it ended by itself), or after 30 s at most (a hang).
// The lines written before the kill are drained and handed over too.
KilledChild run_and_kill(const std::vector<std::string>& argv, const std::string& ready, int delay_ms,
                         const std::function<void(const std::string&)>& on_line);

}  // namespace lightning::testing
