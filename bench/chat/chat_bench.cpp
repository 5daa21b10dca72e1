// chat_bench: parses per second on one core and the per-message p99 over the chat corpus.
//   chat_bench CORPUS.json [seconds]     benchmark (single thread)
//   chat_bench --print [now] [zone]      read messages from stdin, print each reading as JSON (a dev aid)
//   chat_bench --draft CORPUS.json       print the corpus with the current readings as expectations
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "todo/chat/parser.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  std::string text;
  todo::chat::ParseContext ctx;
};

int print_mode(int argc, char** argv) {
  const std::string now = argc > 2 ? argv[2] : "2026-03-04T15:00:00Z";
  const std::string zone = argc > 3 ? argv[3] : "America/New_York";
  auto ctx = todo::chat::make_context(*todo::parse_rfc3339(now), zone);
  if (!ctx) {
    std::cerr << "bad zone\n";
    return 2;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    auto j = todo::chat::to_json(todo::chat::parse(line, *ctx));
    j.erase("spans");
    std::cout << line << "\n  " << j.dump() << "\n";
  }
  return 0;
}

// Writes the corpus with each case's current reading as its "expect" (a starting point for new cases: every
// expectation must then be checked by hand).
int draft_mode(const char* path) {
  std::ifstream in(path);
  auto corpus = nlohmann::json::parse(in);
  for (auto& c : corpus.at("cases")) {
    auto ctx = todo::chat::make_context(
        *todo::parse_rfc3339(c.value("now", corpus.at("now").get<std::string>())),
        c.value("timezone", corpus.at("timezone").get<std::string>()),
        c.value("order", "month_first") == "day_first" ? todo::chat::DateOrder::day_first
                                                       : todo::chat::DateOrder::month_first);
    const auto titles = c.value("titles", std::vector<std::string>{});  // the user's task titles, if any
    if (!titles.empty()) ctx->titles = &titles;
    auto j = todo::chat::to_json(todo::chat::parse(c.at("text").get<std::string>(), *ctx));
    nlohmann::json e;
    for (const char* k : {"intent", "title", "due_at", "all_day", "recurrence", "recurrence_mode",
                          "reminders", "priority", "tags", "target", "query", "index", "shift"})
      e[k] = j[k];
    e["confidence"] = j["confidence"].get<double>() >= 0.7 ? "high" : "low";
    c["expect"] = e;
  }
  std::cout << corpus.dump(1) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--print") return print_mode(argc, argv);
  if (argc > 2 && std::string(argv[1]) == "--draft") return draft_mode(argv[2]);
  if (argc < 2) {
    std::cerr << "usage: chat_bench CORPUS.json [seconds] | chat_bench --print [now] [zone]\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  const auto corpus = nlohmann::json::parse(in);
  const double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  std::vector<Case> cases;
  const std::string default_now = corpus.at("now").get<std::string>();
  const std::string default_zone = corpus.at("timezone").get<std::string>();
  for (const auto& c : corpus.at("cases")) {
    const auto now = todo::parse_rfc3339(c.value("now", default_now));
    auto ctx = todo::chat::make_context(*now, c.value("timezone", default_zone),
                                        c.value("order", "month_first") == "day_first"
                                            ? todo::chat::DateOrder::day_first
                                            : todo::chat::DateOrder::month_first);
    cases.push_back({c.at("text").get<std::string>(), *ctx});
  }
  // Throughput: whole passes over the corpus until the time is up.
  std::size_t parses = 0;
  std::size_t sink = 0;
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < stop) {
    for (const auto& c : cases) {
      const auto r = todo::chat::parse(c.text, c.ctx);
      sink += r.title.size() + r.spans.size();
    }
    parses += cases.size();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // Latency: each message timed alone, many rounds.
  std::vector<double> ns;
  for (int round = 0; round < 200; ++round) {
    for (const auto& c : cases) {
      const auto a = Clock::now();
      const auto r = todo::chat::parse(c.text, c.ctx);
      const auto b = Clock::now();
      sink += r.tags.size();
      ns.push_back(std::chrono::duration<double, std::nano>(b - a).count());
    }
  }
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double p) { return ns[static_cast<std::size_t>(p * static_cast<double>(ns.size() - 1))]; };
  std::cout << "corpus messages:   " << cases.size() << "\n"
            << "parses per second: " << static_cast<long long>(static_cast<double>(parses) / elapsed)
            << " (one thread)\n"
            << "p50 per message:   " << pct(0.50) / 1000.0 << " us\n"
            << "p99 per message:   " << pct(0.99) / 1000.0 << " us\n"
            << "max per message:   " << ns.back() / 1000.0 << " us\n"
            << "(checksum " << sink % 10 << ")\n";
  return 0;
}
