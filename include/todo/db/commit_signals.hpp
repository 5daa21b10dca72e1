// Notifications sent just after a transaction commits, not inside it.
#pragma once

#include <pqxx/pqxx>

namespace todo::db {

/// Asks for `NOTIFY <channel>` once the transaction running on this thread under Pool::transact has committed
/// (several requests for one channel make one notification). Unlike a NOTIFY inside the transaction, this
/// does not make the commit take PostgreSQL's database-wide notification lock, which would serialise every
/// notifying writer's commit and WAL flush. Nothing is sent for a transaction that rolls back.
void signal_after_commit(const char* channel);
/// Used by Pool::transact: forgets the requests of a previous transaction / sends those of the one just
/// committed (in a tiny transaction of its own with synchronous_commit off: a lost notification costs only a
/// later wake-up, never data). A failure to notify is logged, never thrown: the data is committed.
void discard_commit_signals();
void send_commit_signals(pqxx::connection& c);

}  // namespace todo::db
