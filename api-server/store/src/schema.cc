#include "financialapi/store/schema.h"

#include "migrations.h"

namespace financialapi::store {

Status InTransaction(db::PostgresConnection& connection, const std::function<Status()>& body) {
  FINANCIALAPI_RETURN_IF_ERROR(connection.Execute("BEGIN").status());
  Status outcome = body();
  if (outcome.ok()) outcome = connection.Execute("COMMIT").status();
  if (!outcome.ok()) (void)connection.Execute("ROLLBACK");
  return outcome;
}

StatusOr<int> Migrate(db::PostgresConnection& connection) {
  int applied = 0;
  for (const auto& migration : Migrations()) {
    Status status = InTransaction(connection, [&]() -> Status {
      // Transaction-scoped: released at COMMIT/ROLLBACK, so a crashed migrator holds nothing.
      FINANCIALAPI_RETURN_IF_ERROR(connection.Execute("SELECT pg_advisory_xact_lock(7301531)").status());
      // Under the lock: two processes creating it at once would collide on the catalog.
      FINANCIALAPI_RETURN_IF_ERROR(connection.ExecuteScript(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now())"));
      FINANCIALAPI_ASSIGN_OR_RETURN(auto done, connection.Execute("SELECT 1 FROM schema_migrations WHERE version = $1",
                                                                  {std::to_string(migration.version)}));
      if (!done.rows.empty()) return Status::Ok();
      FINANCIALAPI_RETURN_IF_ERROR(connection.ExecuteScript(std::string(migration.sql))
                                       .WithContext("migration " + std::to_string(migration.version)));
      FINANCIALAPI_RETURN_IF_ERROR(connection
                                       .Execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                                {std::to_string(migration.version), std::string(migration.name)})
                                       .status());
      ++applied;
      return Status::Ok();
    });
    FINANCIALAPI_RETURN_IF_ERROR(status);
  }
  return applied;
}

}  // namespace financialapi::store
