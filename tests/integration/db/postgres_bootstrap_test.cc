// The managed PostgreSQL's bootstrap.sh, as the operator renders it, run with this machine's
// PostgreSQL programs on a data directory of the test's own (the pod's volume): the API's role is no
// superuser and owns what its migrations need; the Secret's password logs in on every start, also
// after the FinancialApi was deleted and made again with a new Secret on the same volume.
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "financialapi/db/postgres.h"
#include "financialapi/platform/builders.h"
#include "financialapi/store/schema.h"
#include "support/child_process.h"
#include "support/test_environment.h"
#include "support/yaml_json.h"

namespace financialapi::platform {
namespace {

using namespace std::chrono_literals;

constexpr char kUser[] = "financial";
constexpr char kDatabase[] = "financial";

// The production example's rendered bootstrap.sh and pg_hba.conf.
std::map<std::string, std::string> RenderedPostgresConfig() {
  Json object = testing::LoadYamlFile(testing::SourcePath("examples/financialapi.yaml")).at(0);
  object["metadata"]["namespace"] = "finance";
  object["metadata"]["uid"] = "11111111-2222-3333-4444-555555555555";
  auto api = ParseFinancialApi(object);
  EXPECT_TRUE(api.ok()) << api.status();
  if (!api.ok()) return {};
  for (const auto& child : BuildChildren(*api, {.postgres_password = "x", .postgres_user = kUser})) {
    if (child.type->kind == "ConfigMap" && child.object["metadata"]["name"] == "prod-postgres-config") {
      return child.object["data"].get<std::map<std::string, std::string>>();
    }
  }
  ADD_FAILURE() << "no prod-postgres-config";
  return {};
}

// A folder standing for the pod: conf/ (the ConfigMap, with a postgresql.conf for this machine), run/
// (the socket), data/ (the claim). PostgreSQL refuses to run as root, so as root it belongs to the
// postgres system user, as whom the script then runs (hack/local-databases does the same).
class PostgresPod {
 public:
  PostgresPod() : port_(testing::FreePort()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "financialapi-bootstrap-XXXXXX").string();
    root_ = ::mkdtemp(pattern.data());
    for (const char* folder : {"conf", "run", "data"}) std::filesystem::create_directory(root_ + "/" + folder);
    const auto rendered = RenderedPostgresConfig();
    std::string script = rendered.count("bootstrap.sh") ? rendered.at("bootstrap.sh") : "";
    const std::string config_file = "/etc/postgresql/postgresql.conf";
    const auto at = script.find(config_file);
    EXPECT_NE(at, std::string::npos) << script;
    if (at != std::string::npos) script.replace(at, config_file.size(), root_ + "/conf/postgresql.conf");
    std::ofstream(root_ + "/conf/bootstrap.sh") << script;
    std::ofstream(root_ + "/conf/pg_hba.conf") << (rendered.count("pg_hba.conf") ? rendered.at("pg_hba.conf") : "");
    std::ofstream(root_ + "/conf/postgresql.conf")
        << "listen_addresses = '127.0.0.1'\nport = " << port_ << "\nunix_socket_directories = '" << root_
        << "/run'\nhba_file = '" << root_ << "/conf/pg_hba.conf'\npassword_encryption = 'scram-sha-256'\n"
        << "shared_buffers = '16MB'\nmax_connections = 20\n";
    if (::getuid() == 0) {
      const passwd* postgres = ::getpwnam("postgres");
      EXPECT_NE(postgres, nullptr) << "no postgres system user to run PostgreSQL as";
      if (postgres != nullptr) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root_)) {
          EXPECT_EQ(::chown(entry.path().c_str(), postgres->pw_uid, postgres->pw_gid), 0);
        }
        EXPECT_EQ(::chown(root_.c_str(), postgres->pw_uid, postgres->pw_gid), 0);
      }
    }
  }
  ~PostgresPod() {
    Stop();
    std::filesystem::remove_all(root_);
  }

  // Starts the container with the Secret's `password`: the script in the pod's environment. With
  // `as_pid_1` in a PID namespace of its own, where the script (and then PostgreSQL) is PID 1, as in a
  // container; killing it then kills everything in it.
  void Start(const std::string& password, bool as_pid_1 = false) {
    as_pid_1_ = as_pid_1;
    ::setenv("PGDATA", (root_ + "/data/pgdata").c_str(), 1);
    ::setenv("POSTGRES_USER", kUser, 1);
    ::setenv("POSTGRES_DB", kDatabase, 1);
    ::setenv("POSTGRES_PASSWORD", password.c_str(), 1);
    const std::string script = root_ + "/conf/bootstrap.sh";
    if (::getuid() == 0) {
      std::vector<std::string> args = {"--reuid=postgres", "--regid=postgres", "--init-groups", "sh", script};
      if (as_pid_1) {
        args.insert(args.begin(), {"--pid", "--kill-child", "--mount-proc", "setpriv"});
        server_ = std::make_unique<testing::ChildProcess>("/usr/bin/unshare", args, "postgres-bootstrap");
      } else {
        server_ = std::make_unique<testing::ChildProcess>("/usr/bin/setpriv", args, "postgres-bootstrap");
      }
    } else {
      server_ = std::make_unique<testing::ChildProcess>("/bin/sh", std::vector<std::string>{script}, "postgres-bootstrap");
    }
    ::unsetenv("POSTGRES_PASSWORD");
  }

  // The pod is deleted: PostgreSQL (the script's process, which exec'd it) stops.
  void Stop() {
    if (server_ == nullptr) return;
    const pid_t init = as_pid_1_ ? NamespaceInit() : 0;
    if (init > 0) {
      ::kill(init, SIGINT);  // unshare does not pass signals on
    } else {
      server_->Signal(SIGINT);  // fast shutdown
    }
    EXPECT_NE(server_->WaitForExit(60s), -1) << server_->Log();
    server_.reset();
  }

  // The container dies (started `as_pid_1`): its PID 1, PostgreSQL, is killed, and with it every
  // process of its PID namespace; its postmaster.pid stays. (unshare's --kill-child does not reach it:
  // setpriv's change of user clears the parent-death signal.)
  void Crash() {
    if (server_ == nullptr) return;
    const pid_t init = NamespaceInit();
    ASSERT_GT(init, 0) << "no PID 1 under unshare";
    ASSERT_EQ(::kill(init, SIGKILL), 0);
    EXPECT_NE(server_->WaitForExit(30s), -1) << "unshare outlived its namespace";
    EXPECT_TRUE(testing::WaitFor([&] { return !std::filesystem::exists("/proc/" + std::to_string(init)); }, 30s));
    server_.reset();
  }

  // A data directory as the bootstrap made it before the API had a role of its own: initdb with the
  // API's user as the superuser, the database created in single-user mode.
  void InitializeAsBefore(const std::string& password) {
    const std::string pwfile = root_ + "/conf/pwfile";
    std::ofstream(pwfile) << password << "\n";
    const std::string as_postgres = ::getuid() == 0 ? "setpriv --reuid=postgres --regid=postgres --init-groups " : "";
    if (::getuid() == 0) {
      EXPECT_EQ(testing::RunShell("chown postgres " + pwfile), 0);
    }
    std::string output;
    EXPECT_EQ(testing::RunShell(as_postgres + "initdb -D " + root_ + "/data/pgdata -U " + kUser + " --pwfile=" + pwfile +
                                    " --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 && "
                                    "echo 'CREATE DATABASE " + kDatabase + " OWNER " + kUser + ";' | " + as_postgres +
                                    "postgres --single -D " + root_ + "/data/pgdata -j postgres",
                                &output),
              0)
        << output;
  }

  // The host's PID of the process unshare started (PID 1 of its namespace); 0 without one.
  pid_t NamespaceInit() const {
    if (server_ == nullptr || !as_pid_1_) return 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream status(entry.path() / "status");
      for (std::string line; std::getline(status, line);) {
        if (line == "PPid:\t" + std::to_string(server_->pid())) return static_cast<pid_t>(std::stol(entry.path().filename().string()));
      }
    }
    return 0;
  }

  std::string Url(const std::string& password) const {
    return "postgresql://" + std::string(kUser) + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/" + kDatabase;
  }

  // A connection as the API role with `password`, once PostgreSQL answers (nullptr when it refuses).
  std::unique_ptr<db::PostgresConnection> Connect(const std::string& password) {
    StatusOr<std::unique_ptr<db::PostgresConnection>> connection = Unavailable("not tried");
    testing::WaitFor([&] {
      connection = db::PostgresConnection::Connect(Url(password), 2);
      const bool starting = !connection.ok() && (connection.status().message().find("Connection refused") != std::string::npos ||
                                                 connection.status().message().find("starting up") != std::string::npos);
      return !starting || (server_ != nullptr && !server_->Running());
    }, 60s, 200ms);
    if (!connection.ok()) {
      last_error_ = connection.status().ToString();
      return nullptr;
    }
    return std::move(connection).value();
  }

  std::string Log() const { return server_ == nullptr ? "" : server_->Log(); }
  const std::string& last_error() const { return last_error_; }

 private:
  std::string root_;
  int port_;
  std::unique_ptr<testing::ChildProcess> server_;
  std::string last_error_;
  bool as_pid_1_ = false;
};

std::string One(db::PostgresConnection& connection, const std::string& sql) {
  auto result = connection.Execute(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
  if (!result.ok() || result->rows.empty() || result->rows[0].empty() || !result->rows[0][0]) return "<none>";
  return *result->rows[0][0];
}

TEST(PostgresBootstrapTest, TheApiRoleIsNoSuperuserAndOwnsWhatItsMigrationsNeed) {
  PostgresPod pod;
  pod.Start("first-Password");
  auto connection = pod.Connect("first-Password");
  ASSERT_NE(connection, nullptr) << pod.last_error() << "\n" << pod.Log();
  EXPECT_EQ(One(*connection, "SELECT rolsuper::text || rolcreaterole::text || rolcreatedb::text FROM pg_roles "
                             "WHERE rolname = current_user"),
            "falsefalsefalse")
      << "superuser, createrole, createdb of the role the API connects as";
  EXPECT_EQ(One(*connection, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"), kUser);
  EXPECT_EQ(One(*connection, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"), kUser);
  EXPECT_EQ(One(*connection, "SELECT rolname FROM pg_roles WHERE oid = 10"), "postgres") << "the cluster's own superuser";
  // The API server's own migrations, as the API runs them at start.
  auto applied = store::Migrate(*connection);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_GT(*applied, 0);
  EXPECT_FALSE(connection->Execute("CREATE ROLE intruder LOGIN").ok()) << "the API role cannot make roles";
  EXPECT_FALSE(connection->Execute("ALTER ROLE " + std::string(kUser) + " SUPERUSER").ok());
}

TEST(PostgresBootstrapTest, ANewSecretOnTheKeptVolumeStillLogsInAndTheDataStays) {
  PostgresPod pod;
  pod.Start("old-Password");
  {
    auto connection = pod.Connect("old-Password");
    ASSERT_NE(connection, nullptr) << pod.last_error() << "\n" << pod.Log();
    ASSERT_TRUE(store::Migrate(*connection).ok());
    ASSERT_TRUE(connection->Execute("CREATE TABLE kept (note text)").ok());
    ASSERT_TRUE(connection->Execute("INSERT INTO kept VALUES ('before the deletion')").ok());
  }
  pod.Stop();
  // The FinancialApi is deleted (its Secrets with it) and made again: the operator generates another
  // password; the claim, kept, holds the old cluster.
  pod.Start("new-Password");
  auto connection = pod.Connect("new-Password");
  ASSERT_NE(connection, nullptr) << "the new Secret's password does not log in: " << pod.last_error() << "\n" << pod.Log();
  EXPECT_EQ(One(*connection, "SELECT note FROM kept"), "before the deletion");
  EXPECT_EQ(pod.Connect("old-Password"), nullptr) << "the old password still logs in";
  EXPECT_NE(pod.Log().find("bootstrap: role financial"), std::string::npos) << pod.Log();
  for (const char* password : {"old-Password", "new-Password"}) {
    EXPECT_EQ(pod.Log().find(password), std::string::npos) << "a password in the log:\n" << pod.Log();
  }
}

TEST(PostgresBootstrapTest, AServerKilledAsPidOneStartsAgain) {
  if (::getuid() != 0) GTEST_SKIP() << "a PID namespace needs root";
  // In a pod the script is PID 1 and exec's PostgreSQL, so a killed server leaves postmaster.pid with
  // PID 1, which in the next container is the script, alive: the single-user steps must take that
  // file for stale, as PostgreSQL itself does for its own PID.
  PostgresPod pod;
  pod.Start("first-Password", true);
  ASSERT_NE(pod.Connect("first-Password"), nullptr) << pod.last_error() << "\n" << pod.Log();
  pod.Crash();
  pod.Start("second-Password", true);
  auto connection = pod.Connect("second-Password");
  ASSERT_NE(connection, nullptr) << pod.last_error() << "\n" << pod.Log();
  EXPECT_EQ(One(*connection, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"), "false");
}

TEST(PostgresBootstrapTest, ADataDirectoryWhoseSuperuserIsTheApiRoleKeepsWorkingWithTheNewPassword) {
  // Made by the bootstrap of earlier versions: PostgreSQL cannot take superuser from the bootstrap
  // superuser, so the role stays one (with a warning), and its password still follows the Secret.
  PostgresPod pod;
  pod.InitializeAsBefore("old-Password");
  pod.Start("new-Password");
  auto connection = pod.Connect("new-Password");
  ASSERT_NE(connection, nullptr) << pod.last_error() << "\n" << pod.Log();
  EXPECT_EQ(One(*connection, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"), kUser);
  EXPECT_TRUE(store::Migrate(*connection).ok());
  EXPECT_NE(pod.Log().find("is the bootstrap superuser of this data directory"), std::string::npos) << pod.Log();
  EXPECT_EQ(pod.Connect("old-Password"), nullptr) << "the old password still logs in";
}

}  // namespace
}  // namespace financialapi::platform
