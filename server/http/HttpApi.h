// The admin and service HTTP API (HTTPS only): /healthz and Prometheus
// /metrics now; later issues add their routes through addRoute() and
// addPrefixRoute(). Routes under /api/ are wrapped by ApiAuthentication.
#pragma once

#include "net/TlsContext.h"
#include "store/ConnectionPool.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/ThreadPool.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace plexus::http {

using Handler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

class HttpApi {
public:
    HttpApi(const std::string& address, unsigned short port, net::TlsContexts& tls, store::ConnectionPool& reads);
    ~HttpApi();
    // Routes are registered before start() (std::logic_error after): the
    // server's threads read them without a lock. An exact route wins over
    // prefix routes; among prefix routes the longest matching prefix wins.
    void addRoute(const std::string& path, Handler handler);
    // Every path starting with `prefix` (which starts with '/'), e.g. "/api/plugins/".
    void addPrefixRoute(const std::string& prefix, Handler handler);
    void start();
    void stop();
    unsigned short port() const;

private:
    class Factory;
    void checkNotStarted() const;
    const Handler* handlerFor(const std::string& path) const;

    std::map<std::string, Handler> routes_;
    std::map<std::string, Handler> prefixRoutes_;
    bool started_ = false;
    // Our own pool, stopped in stop(): its threads (and the TLS state OpenSSL
    // keeps per thread) end before plexusd exits, unlike Poco's default pool's.
    Poco::ThreadPool threads_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// Helpers for route handlers.

void sendJson(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
              const Poco::JSON::Object& body);
// Answers `status` with {"error": message}.
void sendJsonError(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
                   const std::string& message);

// For an answer given without reading the request's body (a refusal): the
// connection closes after it, or the unread body would be read as the next request.
void closeConnectionIfRequestHasBody(const Poco::Net::HTTPServerRequest& request,
                                     Poco::Net::HTTPServerResponse& response);

// The request body (chunked or not), read up to `limit` bytes and never more.
// nullopt once answered: 413 when the body is larger, 400 when it ends before
// its Content-Length.
std::optional<std::string> readBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                                    std::size_t limit);

}  // namespace plexus::http
