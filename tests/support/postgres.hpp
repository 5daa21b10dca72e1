// A throwaway PostgreSQL 15 cluster for tests: initdb into a temp folder, unix socket only, removed at the
// end.
#pragma once

#include <string>

namespace todo::test {

/// One private PostgreSQL cluster. Started by the constructor; stop()/start() simulate a database restart on
/// the same data; the destructor stops it (immediate mode) and removes its folder. Should the test process
/// die without running the destructor, a watchdog child stops the cluster and removes the folder anyway.
class TestPostgres {
 public:
  TestPostgres();
  ~TestPostgres();
  TestPostgres(const TestPostgres&) = delete;
  TestPostgres& operator=(const TestPostgres&) = delete;

  /// Creates database `name` (letters, digits and '_' only) and returns its libpq URL.
  std::string create_database(const std::string& name);
  /// The URL of database `name`, which must exist.
  std::string url(const std::string& name) const;
  /// Runs `sql` in database `name` and returns the first column of the first row ("" when none). Throws on
  /// error.
  std::string query(const std::string& name, const std::string& sql) const;

  /// Stops the server (fast mode: sessions are disconnected).
  void stop();
  /// Starts it again on the same data, port and socket.
  void start();
  bool running() const { return running_; }
  /// Stops every process of the cluster (SIGSTOP: the postmaster, then its children), so that connections
  /// stay open and nothing answers: a hung database host, a network partition with no reset. thaw() resumes
  /// them (the destructor too).
  void freeze();
  void thaw();

  int port() const { return port_; }
  const std::string& socket_dir() const { return dir_; }
  /// The server log (useful in failure messages).
  std::string log() const;

  /// One cluster per test binary, started on first use and removed at exit.
  static TestPostgres& shared();

 private:
  std::string bin(const std::string& tool) const;

  std::string bin_dir_;
  std::string dir_;   // temp folder: socket, log
  std::string data_;  // dir_/data
  int port_ = 0;
  bool running_ = false;
  bool frozen_ = false;
  int watchdog_fd_ = -1;
};

}  // namespace todo::test
