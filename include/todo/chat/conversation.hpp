// Chat conversations in PostgreSQL: the last turns, the open question and the undo stack of one dialog. Every
// statement filters by the owner's id; an expired conversation is treated as absent.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace todo::chat {

/// How many turns (a user message or a reply) and undoable actions a conversation keeps.
inline constexpr std::size_t kMaxTurns = 20;
inline constexpr std::size_t kMaxUndo = 20;

/// One conversation as the dialog reads and changes it.
struct Conversation {
  std::string id;
  std::string user_id;
  nlohmann::json turns = nlohmann::json::array();    // [{role, text, at}]
  nlohmann::json pending = nullptr;                  // the open question, or null
  nlohmann::json actions = nlohmann::json::array();  // undo stack, newest last
  bool stored = false;                               // false until the first save
};

namespace conversations {

/// A new conversation (not stored yet) with a fresh id.
Conversation start(const std::string& user_id);

/// The user's unexpired conversation, locked for the rest of the transaction; nullopt when it does not exist,
/// is someone else's or has expired.
std::optional<Conversation> find_for_update(pqxx::transaction_base& w, const std::string& user_id,
                                            const std::string& id);

/// Inserts or updates the conversation, which then expires `ttl` after now. A first save also prunes the
/// user's expired conversations and a bounded batch of everyone's (housekeeping).
void save(pqxx::transaction_base& w, Conversation& c, std::chrono::seconds ttl);

/// Appends a turn, keeping the last kMaxTurns.
void add_turn(Conversation& c, const std::string& role, const std::string& text, const std::string& at);

}  // namespace conversations
}  // namespace todo::chat
