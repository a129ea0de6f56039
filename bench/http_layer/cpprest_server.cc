// http-bench-cpprest: cpprestsdk's http_listener answering GET /v1/cached with the benchmark body,
// the candidate the API server was to be built on. Its handlers run on the pplx thread pool, sized
// with --threads like the Beast server's I/O threads.
//   http-bench-cpprest --port N [--threads N]   serve until SIGINT/SIGTERM
#include <cpprest/http_listener.h>
#include <pplx/threadpool.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cached_body.h"
#include "flags.h"
#include "signals.h"

int main(int argc, char** argv) {
  using namespace web::http;
  financialapi::bench::HttpBenchFlags flags;
  if (!financialapi::bench::ParseHttpBenchFlags(argc, argv, flags)) return 2;
  const sigset_t stop_signals = financialapi::bench::BlockStopSignals();

  const std::string text = financialapi::bench::CachedBody();
  const std::vector<unsigned char> body(text.begin(), text.end());
  try {
    // Must run before anything touches the shared pool (the listener's asio service lives in it).
    crossplat::threadpool::initialize_with_threads(static_cast<std::size_t>(flags.threads));
    experimental::listener::http_listener listener("http://127.0.0.1:" + std::to_string(flags.port) + "/");
    listener.support(methods::GET, [&body](http_request request) {
      if (request.relative_uri().path() != "/v1/cached") {
        request.reply(status_codes::NotFound);
        return;
      }
      http_response response(status_codes::OK);
      response.headers().set_content_type("application/json");
      // The byte-vector overload: the std::string one trips UBSan's vptr check inside cpprestsdk
      // (docs/development.md). Either copies the body per request.
      response.set_body(std::vector<unsigned char>(body));
      request.reply(response);
    });
    listener.open().wait();
    std::printf("http-bench-cpprest listening on 127.0.0.1:%d with %d threads\n", flags.port, flags.threads);
    std::fflush(stdout);
    financialapi::bench::WaitForStopSignal(stop_signals);
    listener.close().wait();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http-bench-cpprest: %s\n", e.what());
    return 1;
  }
  return 0;
}
