// Recent task list pages, each kept with the user's task list version it was read at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace todo::tasks {

/// Response bodies of GET /tasks by (user, query), each with the version of the user's task list
/// (migration 0011: raised by every change to the user's tasks, in the changing transaction) read before the
/// page was. A page read after the version was v is the user's list for that query for as long as the version
/// is v, on any replica: a reader reads the version (one keyed read) and serves the kept page only when the
/// versions are equal. A kept page of an older version is dropped when seen.
///
/// Least recently used pages go first once the bodies and keys take more than `max_bytes`; 0 keeps nothing.
/// Thread-safe.
class ListCache {
 public:
  using Body = std::shared_ptr<const std::string>;

  explicit ListCache(std::size_t max_bytes);
  ListCache(const ListCache&) = delete;
  ListCache& operator=(const ListCache&) = delete;

  bool enabled() const { return max_bytes_ > 0; }

  /// The page kept for this key at exactly this version, if any.
  Body find(const std::string& key, std::int64_t version);
  /// Keeps a page read at `version` (unless one of a later version is kept already, or it is larger than
  /// the whole budget).
  void store(const std::string& key, std::int64_t version, Body body);

  /// What the kept pages take (bodies and keys), and how many there are.
  std::size_t bytes() const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string key;
    std::int64_t version;
    Body body;
    std::size_t cost() const { return key.size() + body->size() + sizeof(Entry); }
  };
  using Lru = std::list<Entry>;  // most recently used first

  void erase_locked(Lru::iterator it);

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views of the entries' keys
  std::size_t bytes_ = 0;
};

}  // namespace todo::tasks
