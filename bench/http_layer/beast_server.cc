// http-bench-beast: the API server's HTTP layer (financialapi::http::Server, Boost.Beast) answering
// GET /v1/cached with the benchmark body from a shared buffer, as the service answers cache hits.
//   http-bench-beast --port N [--threads N]     serve until SIGINT/SIGTERM
//   http-bench-beast --write-body FILE          write the body (for nginx) and exit
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "cached_body.h"
#include "financialapi/http/server.h"
#include "flags.h"
#include "signals.h"

int main(int argc, char** argv) {
  namespace http = financialapi::http;
  if (argc == 3 && std::string_view(argv[1]) == "--write-body") {
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out << financialapi::bench::CachedBody();
    out.close();
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", argv[2]);
      return 1;
    }
    return 0;
  }
  financialapi::bench::HttpBenchFlags flags;
  if (!financialapi::bench::ParseHttpBenchFlags(argc, argv, flags)) return 2;
  const sigset_t stop_signals = financialapi::bench::BlockStopSignals();

  auto body = std::make_shared<const std::string>(financialapi::bench::CachedBody());
  http::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = flags.port;
  options.threads = flags.threads;
  auto server = http::Server::Start(options, [body](const http::Request& request) {
    if (request.path != "/v1/cached") return http::ErrorResponse(404, "not found");
    if (request.method != "GET" && request.method != "HEAD") return http::ErrorResponse(405, "method not allowed");
    http::Response response;
    response.shared_body = body;
    return response;
  });
  if (!server.ok()) {
    std::fprintf(stderr, "http-bench-beast: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("http-bench-beast listening on 127.0.0.1:%d with %d threads\n", (*server)->port(), flags.threads);
  std::fflush(stdout);
  financialapi::bench::WaitForStopSignal(stop_signals);
  (*server)->Shutdown(std::chrono::seconds(2));
  return 0;
}
