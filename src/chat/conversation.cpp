// Conversation storage: named statements over chat_conversations, each filtered by user_id.
#include "todo/chat/conversation.hpp"

#include "todo/core/ids.hpp"
#include "todo/db/statements.hpp"

namespace todo::chat::conversations {
namespace {

const db::Statement kFind{"chat_conversation_find",
                          "SELECT id, turns::text, pending::text, actions::text FROM chat_conversations "
                          "WHERE user_id = $1 AND id = $2 AND expires_at > now() FOR UPDATE"};
const db::Statement kInsert{
    "chat_conversation_insert",
    "INSERT INTO chat_conversations (user_id, id, turns, pending, actions, expires_at) "
    "VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, now() + make_interval(secs => $6::double precision))"};
const db::Statement kUpdate{
    "chat_conversation_update",
    "UPDATE chat_conversations SET turns = $3::jsonb, pending = $4::jsonb, actions = $5::jsonb, "
    "updated_at = now(), expires_at = now() + make_interval(secs => $6::double precision) "
    "WHERE user_id = $1 AND id = $2"};
const db::Statement kPruneUser{"chat_conversation_prune_user",
                               "DELETE FROM chat_conversations WHERE user_id = $1 AND expires_at <= now()"};
// Housekeeping across users (like the outbox retention): at most 100 expired rows a time, through the
// expires_at index, so that conversations of users who never come back do not pile up.
const db::Statement kPruneSome{
    "chat_conversation_prune_some",
    "DELETE FROM chat_conversations WHERE (user_id, id) IN (SELECT user_id, id FROM chat_conversations "
    "WHERE expires_at <= now() ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED)"};
const db::Registration kRegistered{kFind, kInsert, kUpdate, kPruneUser, kPruneSome};

nlohmann::json parse_or(const pqxx::field& f, nlohmann::json fallback) {
  if (f.is_null()) return fallback;
  auto j = nlohmann::json::parse(f.c_str(), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

}  // namespace

Conversation start(const std::string& user_id) {
  Conversation c;
  c.id = new_uuid();
  c.user_id = user_id;
  return c;
}

std::optional<Conversation> find_for_update(pqxx::transaction_base& w, const std::string& user_id,
                                            const std::string& id) {
  const auto rows = w.exec_prepared(kFind.name, user_id, id);
  if (rows.empty()) return std::nullopt;
  Conversation c;
  c.id = rows[0][0].c_str();
  c.user_id = user_id;
  c.turns = parse_or(rows[0][1], nlohmann::json::array());
  c.pending = parse_or(rows[0][2], nullptr);
  c.actions = parse_or(rows[0][3], nlohmann::json::array());
  c.stored = true;
  return c;
}

void save(pqxx::transaction_base& w, Conversation& c, std::chrono::seconds ttl) {
  while (c.actions.size() > kMaxUndo)
    c.actions.erase(c.actions.begin());
  const std::optional<std::string> pending =
      c.pending.is_null() ? std::nullopt : std::optional<std::string>(c.pending.dump());
  const double secs = static_cast<double>(ttl.count());
  if (c.stored) {
    w.exec_prepared(kUpdate.name, c.user_id, c.id, c.turns.dump(), pending, c.actions.dump(), secs);
    return;
  }
  w.exec_prepared(kPruneUser.name, c.user_id);
  w.exec_prepared(kPruneSome.name);
  w.exec_prepared(kInsert.name, c.user_id, c.id, c.turns.dump(), pending, c.actions.dump(), secs);
  c.stored = true;
}

void add_turn(Conversation& c, const std::string& role, const std::string& text, const std::string& at) {
  c.turns.push_back({{"role", role}, {"text", text}, {"at", at}});
  while (c.turns.size() > kMaxTurns)
    c.turns.erase(c.turns.begin());
}

}  // namespace todo::chat::conversations
