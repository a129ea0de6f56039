// Threading: one io_context run by `threads` threads. Every connection's socket lives on its own strand,
// so its read → handler → write chain and the shutdown notices posted to it never run concurrently.
// A shared io_context (rather than one per thread) means a handler blocked on the database holds one
// thread, not every connection that happened to be assigned to that thread.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "financialapi/http/server.h"
#include "internal.h"

namespace financialapi::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// How long a closing connection keeps reading (and discarding) what the client still sends, so that
// closing with unread data does not turn into a RST that destroys the response in flight.
constexpr std::chrono::seconds kLingerTimeout{2};
// Shorter once Shutdown began, which waits for lingering connections too: a client that got
// `Connection: close` and its full response has no reason to keep sending.
constexpr std::chrono::milliseconds kLingerWhileStopping{250};

// "Sun, 06 Nov 1994 08:49:37 GMT", formatted at most once per second per thread (no locale, no lock).
std::string_view HttpDate() {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 40> text{};
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    const int n = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                kDays[static_cast<std::size_t>(tm.tm_wday) % 7],
                                tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon) % 12],
                                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    length = n > 0 ? static_cast<std::size_t>(n) : 0;
    cached_second = now;
  }
  return {text.data(), length};
}

bool HasControlCharacters(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Headers the server writes itself; a handler's copies would contradict them.
bool IsServerManagedHeader(std::string_view name) {
  return internal::EqualsIgnoreCase(name, "content-length") || internal::EqualsIgnoreCase(name, "transfer-encoding") ||
         internal::EqualsIgnoreCase(name, "connection");
}

void AppendInt(std::string& out, std::uint64_t value) {
  std::array<char, 24> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), result.ptr);
}

// Reuses out's storage: header names are lowered into the strings of the previous request.
void AssignLower(std::string& out, std::string_view in) {
  out.resize(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = internal::LowerAscii(in[i]);
}

class Session;

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        inline_paths_(options_.inline_paths.begin(), options_.inline_paths.end()),
        ioc_(options_.threads),
        acceptor_(net::make_strand(ioc_)),
        retry_timer_(acceptor_.get_executor()) {
    if (options_.handler_threads > 0) handler_pool_.emplace(static_cast<std::size_t>(options_.handler_threads));
  }

  Status Listen();
  Status StartThreads();
  void Shutdown(std::chrono::milliseconds drain);
  int port() const { return port_; }

  // Called by sessions.
  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  bool stopping() const { return stopping_flag_.load(std::memory_order_relaxed); }
  // The pool handlers run on, or null when they run on the I/O thread (no pool, or an inline path).
  net::thread_pool* HandlerPoolFor(const std::string& path) {
    if (!handler_pool_ || inline_paths_.contains(path)) return nullptr;
    return &*handler_pool_;
  }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  void BeginDrain() { draining_.store(true); }
  void Forget(Session* session, const std::string& remote) {
    std::lock_guard lock(mutex_);
    if (sessions_.erase(session) > 0) {
      if (const auto it = per_client_.find(remote); it != per_client_.end() && --it->second == 0) per_client_.erase(it);
    }
    if (sessions_.empty()) sessions_cv_.notify_all();
  }

 private:
  void Accept();
  void OnAccept(error_code ec, tcp::socket socket);
  std::vector<std::shared_ptr<Session>> LiveSessions();
  bool WaitForSessions(std::chrono::milliseconds limit);

  const ServerOptions options_;
  const Handler handler_;
  const std::unordered_set<std::string> inline_paths_;
  int port_ = 0;

  std::mutex mutex_;  // guards sessions_, per_client_ and stopping_
  std::condition_variable sessions_cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::size_t> per_client_;  // open connections per peer address
  bool stopping_ = false;
  std::atomic<bool> stopping_flag_{false};  // stopping_ for lock-free reads on the request path
  std::atomic<bool> draining_{false};       // BeginDrain(): responses close their connections

  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
  std::vector<std::thread> threads_;
  // Joined in Shutdown; its handlers post their writes to ioc_, which outlives it.
  std::optional<net::thread_pool> handler_pool_;

  // Declared last: destroying the io_context destroys the handlers still queued (and the sessions
  // they hold), which call Forget() on the members above.
  net::io_context ioc_;
  tcp::acceptor acceptor_;      // on its own strand
  net::steady_timer retry_timer_;  // re-arms accept after EMFILE and the like
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, tcp::socket socket, std::string remote_address)
      : server_(server), stream_(std::move(socket)), remote_address_(remote_address) {
    request_.remote_address = std::move(remote_address);  // one peer per connection
  }
  ~Session() { server_.Forget(this, remote_address_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  net::any_io_executor executor() { return stream_.get_executor(); }

  void Start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::ReadRequest, shared_from_this()));
  }

  // On the strand, once Shutdown began: a connection waiting for its next request is closed now; one
  // with a request under way finishes it (the response then says Connection: close).
  void OnServerStopping() {
    if (state_ == State::kReading && buffer_.size() == 0 && (!parser_ || !parser_->got_some())) Close();
  }

  void ForceClose() { Close(); }

 private:
  enum class State { kReading, kHandling, kWriting, kClosing, kClosed };

  void ReadRequest() {
    if (server_.stopping()) {
      Close();
      return;
    }
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.options().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(server_.options().max_body_bytes));
    stream_.expires_after(server_.options().idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (parser_->is_done()) {  // no body: the common GET
      Handle();
      return;
    }
    if (server_.options().max_body_bytes == 0) {
      // Bodies are not accepted at all: refuse before reading (or inviting, with 100 Continue) any of it.
      SendError(413, "request bodies are not accepted");
      return;
    }
    const auto expect = parser_->get()[bhttp::field::expect];
    if (internal::EqualsIgnoreCase(expect, "100-continue")) {
      // Clients that sent this wait (curl: 1 s) for the interim answer before sending the body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code write_ec, std::size_t) {
                         if (write_ec) {
                           self->Close();
                           return;
                         }
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    Handle();
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      SendError(431, "request headers too large");
    } else if (ec == bhttp::error::body_limit) {
      SendError(413, "request body too large");
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      SendError(400, "malformed request");
    } else {
      // The peer closed or reset, the idle timeout fired, or we closed the socket (shutdown).
      Close();
    }
  }

  // Fills request_ (reusing its strings) from the parsed message and runs the handler.
  void Handle() {
    state_ = State::kHandling;
    auto& message = parser_->get();
    const bool keep_alive = message.keep_alive();
    const bool head = message.method() == bhttp::verb::head;
    http10_ = message.version() < 11;

    request_.method.assign(message.method_string());
    request_.target.assign(message.target());
    if (!internal::ParseTarget(request_)) {
      SendError(400, "malformed request target");
      return;
    }
    std::size_t count = 0;
    for (const auto& field : message) {
      if (count == request_.headers.size()) request_.headers.emplace_back();
      Header& header = request_.headers[count++];
      AssignLower(header.name, field.name_string());
      header.value.assign(field.value());
    }
    request_.headers.resize(count);
    request_.body = std::move(message.body());

    net::thread_pool* pool = server_.HandlerPoolFor(request_.path);
    if (pool == nullptr) {
      RunHandler();
      Write(keep_alive, head);
      return;
    }
    // The session is in kHandling: nothing on its strand touches request_ or response_ until the
    // write is posted back to it.
    net::post(*pool, [self = shared_from_this(), keep_alive, head] {
      self->RunHandler();
      net::post(self->stream_.get_executor(), [self, keep_alive, head] { self->Write(keep_alive, head); });
    });
  }

  void RunHandler() {
    try {
      response_ = server_.handler()(request_);
    } catch (...) {
      response_ = ErrorResponse(500, "internal error");
    }
    if (response_.status < 200 || response_.status > 999) response_ = ErrorResponse(500, "internal error");
    request_.body.clear();
  }

  void SendError(int status, std::string_view message) {
    response_ = ErrorResponse(status, message);
    Write(false, false);
  }

  // Serializes the status line and headers into head_ (whose capacity is kept across requests) and
  // writes head and body with one gather write.
  void Write(bool keep_alive, bool head) {
    if (state_ == State::kClosed) return;  // force-closed while its handler ran on the pool
    state_ = State::kWriting;
    if (server_.stopping() || server_.draining()) keep_alive = false;
    close_after_write_ = !keep_alive;

    const int status = response_.status;
    const bool bodiless_status = status == 204 || status == 304;
    const std::string_view body = response_.Body();

    head_.clear();
    head_ += "HTTP/1.1 ";
    AppendInt(head_, static_cast<std::uint64_t>(status));
    head_ += ' ';
    const auto known = bhttp::int_to_status(static_cast<unsigned>(status));
    head_ += known == bhttp::status::unknown ? std::string_view("Unknown") : bhttp::obsolete_reason(known);
    head_ += "\r\nServer: financial-api\r\nDate: ";
    head_ += HttpDate();
    head_ += "\r\n";
    if (!response_.content_type.empty() && !HasControlCharacters(response_.content_type)) {
      head_ += "Content-Type: ";
      head_ += response_.content_type;
      head_ += "\r\n";
    }
    if (!bodiless_status) {
      head_ += "Content-Length: ";
      AppendInt(head_, body.size());
      head_ += "\r\n";
    }
    if (!keep_alive) {
      head_ += "Connection: close\r\n";
    } else if (http10_) {
      head_ += "Connection: keep-alive\r\n";
    }
    for (const Header& header : response_.headers) {
      if (header.name.empty() || HasControlCharacters(header.name) || HasControlCharacters(header.value) ||
          header.name.find(':') != std::string::npos || IsServerManagedHeader(header.name)) {
        continue;
      }
      head_ += header.name;
      head_ += ": ";
      head_ += header.value;
      head_ += "\r\n";
    }
    head_ += "\r\n";

    const bool send_body = !head && !bodiless_status && !body.empty();
    const std::array<net::const_buffer, 2> buffers = {
        net::buffer(head_.data(), head_.size()),
        send_body ? net::buffer(body.data(), body.size()) : net::const_buffer()};
    const auto& options = server_.options();
    const bool write_limit = options.write_timeout.count() > 0 && options.write_timeout < options.idle_timeout;
    stream_.expires_after(write_limit ? options.write_timeout : options.idle_timeout);
    net::async_write(stream_, buffers, beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(error_code ec, std::size_t /*bytes*/) {
    response_.shared_body.reset();  // a cached body is not pinned by an idle connection
    if (ec) {
      Close();
      return;
    }
    if (close_after_write_) {
      LingeringClose();
      return;
    }
    // Bodies are not reused across requests; do not keep a large one alive with the connection.
    if (response_.body.capacity() > 64 * 1024) std::string().swap(response_.body);
    ReadRequest();
  }

  void LingeringClose() {
    state_ = State::kClosing;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    buffer_.clear();
    if (server_.stopping()) {
      stream_.expires_after(kLingerWhileStopping);
    } else {
      stream_.expires_after(kLingerTimeout);
    }
    Discard();
  }

  void Discard() {
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->Close();
        return;
      }
      self->Discard();
    });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  Server::Impl& server_;
  beast::tcp_stream stream_;
  const std::string remote_address_;  // request_'s copy is the handler's to read
  beast::flat_buffer buffer_;  // kept across requests: pipelined bytes and its capacity both carry over
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;   // reused per request so its strings keep their capacity
  Response response_;  // alive until its bytes are written
  std::string head_;
  State state_ = State::kReading;
  bool http10_ = false;
  bool close_after_write_ = false;
};

}  // namespace

Status Server::Impl::Listen() {
  error_code ec;
  const auto address = net::ip::make_address(options_.address, ec);
  if (ec) return InvalidArgument("listen address \"" + options_.address + "\" is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return Unavailable("cannot open a socket for " + where + ": " + ec.message());
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return Unavailable("cannot set SO_REUSEADDR on " + where + ": " + ec.message());
  acceptor_.bind(endpoint, ec);
  if (ec) return Unavailable("cannot bind " + where + ": " + ec.message());
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return Unavailable("cannot read the bound port of " + where + ": " + ec.message());
  Accept();
  return Status::Ok();
}

Status Server::Impl::StartThreads() {
  try {
    for (int i = 0; i < options_.threads; ++i) {
      threads_.emplace_back([this] {
        // Handlers never throw out of a session; anything else that escapes run() (bad_alloc) should
        // not take the whole thread pool down with it.
        for (;;) {
          try {
            ioc_.run();
            return;
          } catch (...) {
          }
        }
      });
    }
  } catch (const std::system_error& e) {
    return Internal(std::string("starting HTTP server threads: ") + e.what());
  }
  return Status::Ok();
}

void Server::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&Server::Impl::OnAccept, this));
}

void Server::Impl::OnAccept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors or similar: retrying at once would spin.
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) Accept();
    });
    return;
  }
  error_code ignored;
  // Small responses otherwise wait for the client's delayed ACK (Nagle), ~40 ms per request.
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote;
  const auto peer = socket.remote_endpoint(ignored);
  if (!ignored) remote = peer.address().to_string();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;  // accepted in the race with Shutdown: dropping it closes the socket
    // Over a limit: closed at once, before a session or buffer exists for it.
    const bool over_total = options_.max_connections > 0 && sessions_.size() >= options_.max_connections;
    const auto client = per_client_.find(remote);
    const bool over_client = options_.max_connections_per_client > 0 && client != per_client_.end() &&
                             client->second >= options_.max_connections_per_client;
    if (over_total || over_client) {
      socket.close(ignored);
      Accept();
      return;
    }
  }
  auto session = std::make_shared<Session>(*this, std::move(socket), remote);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    sessions_.emplace(session.get(), session);
    ++per_client_[remote];
  }
  session->Start();
  Accept();
}

std::vector<std::shared_ptr<Session>> Server::Impl::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(mutex_);
  live.reserve(sessions_.size());
  for (auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  return live;
}

bool Server::Impl::WaitForSessions(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return sessions_cv_.wait_for(lock, limit, [this] { return sessions_.empty(); });
}

void Server::Impl::Shutdown(std::chrono::milliseconds drain) {
  std::lock_guard once(shutdown_mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stopping_flag_.store(true);
  }
  net::post(acceptor_.get_executor(), [this] {
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
  });
  // Each notice holds its session only until it has run, so a closed session can still go away.
  for (auto& session : LiveSessions()) {
    net::post(session->executor(), [session] { session->OnServerStopping(); });
  }
  if (!WaitForSessions(drain)) {
    for (auto& session : LiveSessions()) {
      net::post(session->executor(), [session] { session->ForceClose(); });
    }
    WaitForSessions(std::chrono::seconds(1));
  }
  ioc_.stop();
  // A handler still running is waited for (threads cannot be interrupted); the write it posts then
  // is never run, and is destroyed with the io_context.
  if (handler_pool_) handler_pool_->join();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_) impl_->Shutdown(std::chrono::seconds(10));
}

StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options, Handler handler) {
  if (options.threads < 1) return InvalidArgument("HTTP server needs at least one thread");
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgument("port " + std::to_string(options.port) + " is outside 0..65535");
  }
  if (!handler) return InvalidArgument("HTTP server needs a handler");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  FINANCIALAPI_RETURN_IF_ERROR(impl->Listen());
  std::unique_ptr<Server> server(new Server(std::move(impl)));
  if (Status started = server->impl_->StartThreads(); !started.ok()) return started;
  return server;
}

int Server::port() const { return impl_->port(); }

void Server::BeginDrain() { impl_->BeginDrain(); }

void Server::Shutdown(std::chrono::milliseconds drain) { impl_->Shutdown(drain); }

}  // namespace financialapi::http
