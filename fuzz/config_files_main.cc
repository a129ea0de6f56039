// fuzz-config-files: the configuration files of spec → children, for checking fuzz/checks/config_files.h
// against the real programs (fuzz/config_checkers_test.sh).
//   fuzz-config-files dump <spec corpus folder> <out folder>
//     writes <out>/<input>/{postgresql.conf,redis.conf,auth.conf,pgbouncer.ini,userlist.txt} for every
//     input the API server would admit
//   fuzz-config-files check postgresql.conf|redis.conf|pgbouncer.ini|userlist.txt <file>
//     prints the checker's verdict: exit 0 well-formed, 1 with the problem on stderr
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "checks/config_files.h"
#include "financialapi/common/base64.h"
#include "spec_input.h"

namespace {

namespace fuzz = financialapi::fuzz;
namespace platform = financialapi::platform;

std::string Read(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

int Dump(const std::filesystem::path& corpus, const std::filesystem::path& out) {
  int written = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const std::string bytes = Read(entry.path());
    const auto object = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) continue;
    const auto api = platform::ParseFinancialApi(object);
    if (!api.ok() || !fuzz::AdmittedByApiServer(*api)) continue;
    const std::filesystem::path folder = out / entry.path().filename();
    std::filesystem::create_directories(folder);
    for (const auto& child : platform::BuildChildren(*api, fuzz::SecretInputs(object, *api))) {
      if (!child.object.contains("data")) continue;
      for (const char* key : {"postgresql.conf", "redis.conf", "auth.conf", "pgbouncer.ini", "userlist.txt"}) {
        if (!child.object["data"].contains(key)) continue;
        std::string text = child.object["data"][key].get<std::string>();
        if (child.object["kind"] == "Secret") text = financialapi::Base64Decode(text).value();
        std::ofstream(folder / key, std::ios::binary) << text;
        ++written;
      }
    }
  }
  std::printf("fuzz-config-files: %d files written\n", written);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "dump") return Dump(argv[2], argv[3]);
  if (argc == 4 && std::string_view(argv[1]) == "check") {
    const std::string_view kind = argv[2];
    const std::string text = Read(argv[3]);
    std::string problem;
    if (kind == "postgresql.conf") problem = fuzz::PostgresConfProblem(text);
    else if (kind == "redis.conf") problem = fuzz::RedisConfProblem(text);
    else if (kind == "pgbouncer.ini") problem = fuzz::PgBouncerIniProblem(text);
    else if (kind == "userlist.txt") problem = fuzz::PgBouncerUserlistProblem(text);
    else return 2;
    if (problem.empty()) return 0;
    std::fprintf(stderr, "%s\n", problem.c_str());
    return 1;
  }
  std::fprintf(stderr, "usage: fuzz-config-files dump <corpus> <out> | check <kind> <file>\n");
  return 2;
}
