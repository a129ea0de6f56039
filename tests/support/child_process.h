// A program the test starts (the operator, the sample controller) with its output in a log file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace financialapi::testing {

class ChildProcess {
 public:
  // Starts `program` with `args`; stdout and stderr go to a fresh temporary log file.
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log_name);
  ~ChildProcess();  // SIGKILL if still running; the log is removed
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  std::string Log() const;
  bool Running();
  void Signal(int signal) const;
  pid_t pid() const { return pid_; }
  void Kill();
  // The exit code once it ended within `timeout` (128 + signal when killed), or -1.
  int WaitForExit(std::chrono::milliseconds timeout);

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace financialapi::testing
