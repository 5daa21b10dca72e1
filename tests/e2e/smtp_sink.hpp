// The SMTP sink of the reminder tests (tests/e2e/smtp_sink.py, Debian's python3-aiosmtpd) as a child process,
// and a self-signed certificate made with openssl for its STARTTLS.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace todo::test {

/// A certificate for 127.0.0.1/localhost and its key, generated into `dir`.
struct SelfSignedCert {
  std::string cert;
  std::string key;
  explicit SelfSignedCert(const std::string& dir) : cert(dir + "/cert.pem"), key(dir + "/key.pem") {
    auto r = run_process({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                          "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                          key, "-out", cert});
    if (r.status != 0) throw std::runtime_error("openssl failed: " + r.output);
  }
};

/// One running sink on 127.0.0.1; messages() reads what it received so far (one JSON object per message).
class SmtpSink {
 public:
  explicit SmtpSink(std::vector<std::string> extra_args = {}) {
    dir_ = make_temp_dir("todo-smtp-");
    out_ = dir_ + "/messages.jsonl";
    log_ = dir_ + "/sink.log";
    port_ = free_tcp_port();
    const char* src = std::getenv("TODO_SOURCE_DIR");
    if (!src) throw std::runtime_error("TODO_SOURCE_DIR is not set");
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     std::string(src) + "/tests/e2e/smtp_sink.py",
                                     "--port",
                                     std::to_string(port_),
                                     "--out",
                                     out_};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_ = spawn(argv, clean_environment(), fd);
    ::close(fd);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (log().find("ready") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("SMTP sink did not start: " + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~SmtpSink() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

  std::vector<nlohmann::json> messages() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(out_);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));  // a line being written is skipped until complete
    }
    return out;
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string dir_, out_, log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace todo::test
