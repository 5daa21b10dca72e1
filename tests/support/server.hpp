// The todo-server binary as a child process of a test: started, watched, signalled and reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace todo::test {

/// The TODO_JWT_SECRET tests run the server with unless they set their own.
inline constexpr std::string_view kTestJwtSecret = "e2e-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/// How to start the server.
struct ServerOptions {
  std::map<std::string, std::string> env;  // on top of the (cleaned) environment of the test
  std::vector<std::string> args;           // after the command
  std::string command = "serve";
  bool wait_ready = true;  // block in the constructor until it serves the API
  std::chrono::milliseconds ready_timeout{20'000};
};

/// One running `$TODO_SERVER_BIN serve`. Its stdout and stderr are collected by a thread (and mirrored to a
/// log file). The environment always has TODO_HTTP_ADDR=127.0.0.1:0 and TODO_JWT_SECRET=kTestJwtSecret unless
/// given. The destructor kills the process if it still runs.
class ServerProcess {
 public:
  explicit ServerProcess(std::map<std::string, std::string> env = {}, std::vector<std::string> args = {});
  explicit ServerProcess(ServerOptions options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// Waits until the output says `listening on http://HOST:PORT` (the probes are served from then on);
  /// throws (with the output) on timeout or exit.
  void wait_listening(std::chrono::milliseconds timeout = std::chrono::milliseconds(20'000));
  /// wait_listening(), then until the output says `serving the API` (the database is migrated); throws
  /// (with the output) on timeout or exit.
  void wait_ready(std::chrono::milliseconds timeout = std::chrono::milliseconds(20'000));
  /// Waits until the output contains `needle`; false on timeout or when the output ended without it.
  bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout);

  /// "http://127.0.0.1:PORT" once ready.
  const std::string& base_url() const { return base_url_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// SIGTERM, then waits up to `timeout` for the exit; returns its status (exit code, or 128 + signal). When
  /// it does not exit in time it is killed with SIGKILL and 128 + 9 is returned.
  int terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds(15'000));
  /// SIGKILL and reap.
  void kill9();
  /// Sends `signal` without waiting.
  void send_signal(int signal);
  /// The exit status once it has exited within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

  /// Everything it printed so far.
  std::string output() const;
  const std::string& log_path() const { return log_path_; }

  /// $TODO_SERVER_BIN; throws when unset.
  static std::string binary();

 private:
  void start(ServerOptions options);
  void drain(int fd);
  void wait_output_closed();

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string dir_;
  std::string log_path_;
  std::string base_url_;
  std::string host_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;
  bool output_closed_ = false;
  std::thread reader_;
};

}  // namespace todo::test
