// spec → children: a FinancialApi as JSON through ParseFinancialApi and BuildChildren. Invariants:
// no exception escapes; every child's name is valid for its kind and its labels are valid label
// keys and values (fuzz/checks/names.h); every configuration file the children carry is well-formed
// (postgresql.conf, redis.conf and its auth.conf, pgbouncer.ini and userlist.txt, by
// fuzz/checks/config_files.h); every child serializes (the client sends it as JSON).
//
// Input: the FinancialApi object. Values the API server refuses before the operator sees them are
// skipped: a metadata.name that is not a DNS-1123 subdomain, and the CRD's enums. An optional
// "fuzzInputs" member gives the values read from Secrets ({postgresUser, postgresPassword,
// redisPassword}), which users can set to anything.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "checks/check.h"
#include "checks/config_files.h"
#include "checks/names.h"
#include "spec_input.h"
#include "financialapi/common/base64.h"
#include "financialapi/platform/builders.h"
#include "financialapi/platform/spec.h"

namespace {

namespace fuzz = financialapi::fuzz;
namespace platform = financialapi::platform;
using fuzz::Check;
using nlohmann::json;

// The text of data[key] of a ConfigMap (as it is) or a Secret (base64), or nullopt when absent.
std::optional<std::string> DataFile(const json& child, const std::string& key) {
  if (!child.contains("data") || !child["data"].contains(key)) return std::nullopt;
  const std::string value = child["data"][key].get<std::string>();
  if (child["kind"] != "Secret") return value;
  const auto decoded = financialapi::Base64Decode(value);
  Check(decoded.ok(), "a Secret's data is base64");
  return *decoded;
}

void CheckChild(const platform::Child& child) {
  const json& object = child.object;
  const std::string kind = child.type->kind;
  Check(object["kind"] == kind, "a child's kind matches its type");
  const std::string name = object["metadata"]["name"].get<std::string>();
  const std::string problem = fuzz::ChildNameProblem(kind, name);
  Check(problem.empty(), kind + " " + name + ": " + problem);
  if (object["metadata"].contains("labels")) {
    for (const auto& [key, value] : object["metadata"]["labels"].items()) {
      Check(fuzz::IsQualifiedName(key), kind + " " + name + ": label key '" + key + "' is invalid");
      Check(value.is_string() && fuzz::IsLabelValue(value.get<std::string>()),
            kind + " " + name + ": label " + key + "=" + value.dump() + " is not a valid label value");
    }
  }
  try {
    (void)object.dump();
  } catch (const json::exception& error) {
    fuzz::Fail(kind + " " + name + " cannot be sent as JSON: " + error.what());
  }
  const auto file = [&](const char* key, std::string (*checker)(std::string_view)) {
    if (const auto text = DataFile(object, key)) {
      const std::string file_problem = checker(*text);
      Check(file_problem.empty(), kind + " " + name + " " + key + ": " + file_problem + "\n" + *text);
    }
  };
  file("postgresql.conf", [](std::string_view text) { return fuzz::PostgresConfProblem(text); });
  file("redis.conf", [](std::string_view text) { return fuzz::RedisConfProblem(text); });
  file("auth.conf", [](std::string_view text) { return fuzz::RedisConfProblem(text); });
  file("pgbouncer.ini", [](std::string_view text) { return fuzz::PgBouncerIniProblem(text); });
  file("userlist.txt", [](std::string_view text) { return fuzz::PgBouncerUserlistProblem(text); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const json object = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;
  fuzz::NoException("ParseFinancialApi/BuildChildren", [&] {
    const auto api = platform::ParseFinancialApi(object);
    if (!api.ok() || !fuzz::AdmittedByApiServer(*api)) return;
    const platform::Inputs inputs = fuzz::SecretInputs(object, *api);
    // The reconciler refuses such credentials (InvalidSecret) before building anything.
    if (!platform::CheckCredential(inputs.postgres_user, "username").ok() ||
        !platform::CheckCredential(inputs.postgres_password, "password").ok()) {
      return;
    }
    const auto children = platform::BuildChildren(*api, inputs);
    Check(!children.empty(), "a FinancialApi has children");
    std::set<std::string> seen;
    for (const auto& child : children) {
      CheckChild(child);
      const std::string key = child.type->kind + "/" + child.object["metadata"]["name"].get<std::string>();
      Check(seen.insert(key).second, "two children are the same object: " + key);
    }
  });
  return 0;
}
