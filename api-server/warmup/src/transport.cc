// The warm-up's HTTP client: Boost.Beast over one keep-alive connection. Beast's tcp_stream timeouts
// apply to asynchronous operations only, so each request runs its connect/write/read chain
// asynchronously on a private io_context and waits for it: synchronous for the caller, bounded in time.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <exception>
#include <string>

#include "financialapi/common/version.h"
#include "financialapi/warmup/warmup.h"

namespace financialapi::warmup {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Far above any warmed answer; a bigger body is an error rather than unbounded memory.
constexpr std::uint64_t kMaxBodyBytes = 256u << 20;

// The server closed a kept-alive connection before this request reached it (its idle timeout).
bool ClosedByPeer(const error_code& error) {
  return error == bhttp::error::end_of_stream || error == net::error::eof || error == net::error::connection_reset ||
         error == net::error::broken_pipe || error == net::error::connection_aborted;
}

class BeastTransport final : public Transport {
 public:
  explicit BeastTransport(ApiUrl api) : api_(std::move(api)), name_(api_.host + ":" + std::to_string(api_.port)) {}

  StatusOr<Reply> Get(const std::string& target, const std::vector<http::Header>& headers,
                      std::chrono::milliseconds timeout) override {
    try {
      bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target, 11};
      request.set(bhttp::field::host, api_.HostHeader());
      request.set(bhttp::field::user_agent, "financial-api-server-warmup/" + std::string(kVersion));
      for (const http::Header& header : headers) request.set(header.name, header.value);
      const auto started = std::chrono::steady_clock::now();
      const bool reused = open_;
      bool closed_early = false;
      auto reply = Exchange(request, timeout, closed_early);
      if (!reply.ok() && reused && closed_early) {
        const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        reply = Exchange(request, std::max(std::chrono::milliseconds(1), timeout - spent), closed_early);
      }
      return reply;
    } catch (const std::exception& e) {  // bad_alloc, or a Boost exception an error_code overload still throws
      Close();
      return Internal("GET " + target + " on " + name_ + ": " + e.what());
    }
  }

 private:
  // One request on the open connection (opened first when there is none). `closed_early`: the failure
  // was the peer closing before any byte of the answer.
  StatusOr<Reply> Exchange(const bhttp::request<bhttp::empty_body>& request, std::chrono::milliseconds timeout,
                           bool& closed_early) {
    closed_early = false;
    tcp::resolver::results_type endpoints;
    if (!open_) {
      error_code resolved;
      endpoints = resolver_.resolve(api_.host, std::to_string(api_.port), resolved);
      if (resolved) return Unavailable("resolving " + api_.host + ": " + resolved.message());
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    error_code failure;
    std::string step;
    const auto fail = [&](const error_code& error, const char* what) {
      failure = error;
      step = what;
    };
    const auto read = [&] {
      bhttp::async_read(stream_, buffer_, parser, [&](error_code error, std::size_t) {
        if (error) fail(error, "reading the answer from");
      });
    };
    const auto write = [&] {
      bhttp::async_write(stream_, request, [&](error_code error, std::size_t) {
        if (error) return fail(error, "sending to");
        read();
      });
    };
    stream_.expires_after(timeout);
    if (open_) {
      write();
    } else {
      stream_.async_connect(endpoints, [&](error_code error, const tcp::endpoint&) {
        if (error) return fail(error, "connecting to");
        open_ = true;
        write();
      });
    }
    io_.restart();
    io_.run();

    if (failure) {
      const bool got_some = parser.got_some();
      Close();
      if (failure == beast::error::timeout) {
        return Timeout("no answer from " + name_ + " within " + std::to_string(timeout.count()) + " ms");
      }
      closed_early = !got_some && ClosedByPeer(failure);
      if (failure == bhttp::error::body_limit) return Internal("answer from " + name_ + " is over 256 MiB");
      const bool parse_error = failure.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
                               failure != bhttp::error::end_of_stream && failure != bhttp::error::partial_message;
      if (parse_error) return Internal("the answer from " + name_ + " is not HTTP: " + failure.message());
      return Unavailable(step + " " + name_ + ": " + failure.message());
    }
    stream_.expires_never();
    const auto& message = parser.get();
    Reply reply{.status = static_cast<int>(message.result_int())};
    for (const auto& field : message) reply.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    reply.body = message.body();
    if (!message.keep_alive()) Close();
    return reply;
  }

  void Close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    buffer_.consume(buffer_.size());
    open_ = false;
  }

  const ApiUrl api_;
  const std::string name_;  // host:port, for messages
  net::io_context io_;
  tcp::resolver resolver_{io_};
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  bool open_ = false;
};

}  // namespace

std::unique_ptr<Transport> MakeHttpTransport(const ApiUrl& api) { return std::make_unique<BeastTransport>(api); }

}  // namespace financialapi::warmup
