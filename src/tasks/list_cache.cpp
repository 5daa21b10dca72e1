// Recent task list pages by (user, query) and list version; least recently used first out.
#include "todo/tasks/list_cache.hpp"

namespace todo::tasks {

ListCache::ListCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

ListCache::Body ListCache::find(const std::string& key, std::int64_t version) {
  if (!enabled()) return nullptr;
  std::lock_guard lock(mutex_);
  const auto found = index_.find(key);
  if (found == index_.end()) return nullptr;
  const auto it = found->second;
  if (it->version != version) {
    // The user's tasks changed since; or this request read the version just before a change whose page is
    // kept already, which stays.
    if (it->version < version) erase_locked(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return it->body;
}

void ListCache::store(const std::string& key, std::int64_t version, Body body) {
  if (!enabled() || !body) return;
  std::lock_guard lock(mutex_);
  if (const auto found = index_.find(key); found != index_.end()) {
    if (found->second->version > version) return;
    erase_locked(found->second);
  }
  Entry e{key, version, std::move(body)};
  const auto cost = e.cost();
  if (cost > max_bytes_) return;
  while (bytes_ + cost > max_bytes_ && !lru_.empty())
    erase_locked(std::prev(lru_.end()));
  lru_.push_front(std::move(e));
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += cost;
}

void ListCache::erase_locked(Lru::iterator it) {
  bytes_ -= it->cost();
  index_.erase(it->key);
  lru_.erase(it);
}

std::size_t ListCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t ListCache::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace todo::tasks
