// The API server's HTTP/1.1 layer: a request/response handler behind a Boost.Beast server (keep-alive,
// HTTP/1.0, limits, graceful shutdown), plus the gzip helpers the service uses for large bodies.
// Boost stays out of this header so code written against it compiles without Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "financialapi/common/status.h"

namespace financialapi::http {

struct Header {
  std::string name;   // lower-cased on requests; as given on responses
  std::string value;
};

struct Request {
  std::string method;                 // "GET", "HEAD", ... (HEAD reaches the handler as "HEAD")
  std::string target;                 // raw request target, e.g. "/v1/companies?search=app"
  std::string path;                   // percent-decoded path without the query (for messages and logs)
  // The path as sent, still percent-encoded. Routes are matched on its segments, each decoded after
  // the split, so an encoded '/' ("%2F") stays inside its segment instead of making a new one.
  std::string raw_path;
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded ('+' = space), in order
  std::vector<Header> headers;        // lower-case names, in the order received
  std::string body;
  std::string remote_address;         // peer IP as text

  // First value of a header (name compared case-insensitively), or nullopt when absent.
  std::optional<std::string_view> HeaderValue(std::string_view name) const;
  // First value of a query parameter (exact name), or nullopt when absent. "?a" gives "".
  std::optional<std::string_view> QueryValue(std::string_view name) const;
};

// Fills path, raw_path and query from target (origin-form "/p?q", absolute-form "http://host/p?q" or
// "*"), as the server does for every request. False for any other form, a bad percent-escape, or a
// NUL in the decoded path. For handlers' tests that build requests by hand.
bool ParseRequestTarget(Request& request);

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // empty: no Content-Type header
  // Extra headers (Retry-After, Content-Encoding, Vary, ...). Content-Length, Transfer-Encoding and
  // Connection are the server's and are dropped here, as are names or values with CR, LF or NUL.
  std::vector<Header> headers;
  std::string body;
  std::shared_ptr<const std::string> shared_body;  // when set, sent instead of `body` (no copy of cached bodies)

  // The bytes that will be sent: *shared_body when set, else body.
  std::string_view Body() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

// {"error":{"code":status,"message":"..."}} with `message` JSON-escaped: the shape of every error the
// server itself produces (400, 413, 431, 500), for handlers to answer alike.
Response ErrorResponse(int status, std::string_view message);

// Called on a server I/O thread; may block (DB calls), which holds that thread. What it throws becomes
// a 500 {"error":{"code":500,"message":"internal error"}} and is not logged. For HEAD it should answer
// as for GET: the server sends the headers with that body's Content-Length and drops the body.
// A status outside 200..999 becomes 500; 204 and 304 are sent without body and Content-Length.
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string address = "0.0.0.0";
  int port = 8000;                    // 0 = pick a free port (see Server::port())
  int threads = 4;                    // I/O threads that also run the handler
  std::size_t max_header_bytes = 16 * 1024;   // request line + headers; over it: 431
  std::size_t max_body_bytes = 1024 * 1024;   // over it: 413. 0 = no bodies: a request announcing
                                              // one (Content-Length > 0, Transfer-Encoding) gets 413 and
                                              // the connection closes before any of it is read, with no
                                              // `100 Continue`
  std::chrono::seconds idle_timeout{60};      // keep-alive connections idle this long are closed;
                                              // also bounds reading one request and writing one response
  std::chrono::seconds write_timeout{0};      // writing one response, when shorter than idle_timeout:
                                              // a client that stops reading is dropped with its buffers
  // 0: handlers run on the I/O threads. Otherwise on a pool of this many threads of their own, so a
  // handler blocked on a database holds a handler thread and never the I/O threads: connections are
  // still accepted and read, and inline_paths still answered, while every handler thread waits.
  int handler_threads = 0;
  std::vector<std::string> inline_paths;      // exact paths whose handler runs on the I/O thread
                                              // (never-blocking ones such as /health)
  std::size_t max_connections = 0;            // open connections; more are closed when accepted (0: no limit)
  std::size_t max_connections_per_client = 0; // open connections per peer address (0: no limit)
};

class Server {
 public:
  // Binds and starts serving. InvalidArgument for an unparsable address, threads < 1 or a port out of
  // range; Unavailable when the address cannot be bound (message names address:port); Internal when
  // the threads cannot be started.
  static StatusOr<std::unique_ptr<Server>> Start(ServerOptions options, Handler handler);

  // The bound port (the picked one when ServerOptions::port was 0).
  int port() const;

  // The first step of a graceful stop: keep accepting and serving, but every response from now on
  // says `Connection: close`, so clients leave their kept-alive connections to this server before it
  // stops accepting (no request meets a connection closed under it). Thread-safe.
  void BeginDrain();

  // Graceful: stop accepting, let in-flight requests finish and send their responses (each with
  // `Connection: close`), close idle keep-alive connections, wait up to `drain` then close the rest;
  // joins threads. Idempotent and thread-safe, but must not be called from a handler (it would wait
  // for itself). A handler still blocked after `drain` is waited for: threads cannot be interrupted.
  void Shutdown(std::chrono::milliseconds drain = std::chrono::seconds(10));

  ~Server();  // Shutdown() if not done

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when Accept-Encoding (any of its headers) lists gzip (or x-gzip) with q>0, or "*" with q>0 and
// gzip not refused by name. "gzip;q=0" refuses it; an unparsable q counts as a refusal.
bool AcceptsGzip(const Request& request);

// gzip (RFC 1952) of `data`. InvalidArgument for a level outside -1..9; Internal on zlib failure.
StatusOr<std::string> GzipCompress(std::string_view data, int level = 6);

// Inverse of GzipCompress (for tests and clients). InvalidArgument when `data` is not complete gzip;
// Internal on zlib failure (out of memory).
StatusOr<std::string> GzipDecompress(std::string_view data);

}  // namespace financialapi::http
