// The PostgreSQL schema of the API server, applied as numbered migrations (migrations/NNN_*.sql,
// compiled into the binary).
#pragma once

#include <functional>

#include "financialapi/common/status.h"
#include "financialapi/db/postgres.h"

namespace financialapi::store {

// Applies the migrations not yet recorded in schema_migrations, in order, each in its own
// transaction, under an advisory lock so that loaders and servers starting together apply each once.
// Returns how many were applied; InvalidArgument when a migration fails (the database keeps the
// earlier ones), Unavailable when PostgreSQL cannot be reached.
StatusOr<int> Migrate(db::PostgresConnection& connection);

// Runs `body` inside BEGIN/COMMIT; rolls back and returns body's error when it fails.
Status InTransaction(db::PostgresConnection& connection, const std::function<Status()>& body);

}  // namespace financialapi::store
