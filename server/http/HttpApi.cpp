#include "http/HttpApi.h"

#include "metrics/Metrics.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <sstream>
#include <stdexcept>

namespace plexus::http {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

class RouteHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit RouteHandler(const Handler* handler) : handler_(handler) {}
    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override
    {
        if (!handler_) {
            closeConnectionIfRequestHasBody(request, response);
            sendJsonError(response, HTTPResponse::HTTP_NOT_FOUND, "no such resource");
            return;
        }
        try {
            (*handler_)(request, response);
        } catch (const std::exception& e) {
            if (response.sent()) return;
            closeConnectionIfRequestHasBody(request, response);
            sendJsonError(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, e.what());
        }
    }

private:
    const Handler* handler_;
};

const Handler badRequest = [](HTTPServerRequest& request, HTTPServerResponse& response) {
    closeConnectionIfRequestHasBody(request, response);
    sendJsonError(response, HTTPResponse::HTTP_BAD_REQUEST, "malformed request URI");
};

}  // namespace

void sendJson(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const Poco::JSON::Object& body)
{
    std::ostringstream text;
    body.stringify(text);
    response.setStatus(status);
    response.setContentType("application/json");
    // With its length known, the answer does not end the connection (keep-alive).
    const auto json = text.str();
    response.sendBuffer(json.data(), json.size());
}

void sendJsonError(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const std::string& message)
{
    Poco::JSON::Object body;
    body.set("error", message);
    sendJson(response, status, body);
}

void closeConnectionIfRequestHasBody(const HTTPServerRequest& request, HTTPServerResponse& response)
{
    if (request.getChunkedTransferEncoding() || request.getContentLength64() > 0) response.setKeepAlive(false);
}

std::optional<std::string> readBody(HTTPServerRequest& request, HTTPServerResponse& response, std::size_t limit)
{
    // The rest of the body stays unread: the connection cannot carry another request.
    const auto refuse = [&](HTTPResponse::HTTPStatus status, const std::string& message) {
        response.setKeepAlive(false);
        sendJsonError(response, status, message);
        return std::nullopt;
    };
    const auto tooLarge = "request body larger than " + std::to_string(limit) + " bytes";
    const auto declared = request.hasContentLength() ? std::optional(request.getContentLength64()) : std::nullopt;
    if (declared && static_cast<std::uint64_t>(*declared) > limit)
        return refuse(HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, tooLarge);
    std::string body;
    std::array<char, 16 * 1024> buffer;
    auto& in = request.stream();
    // One byte past the limit is enough to know the body is too large.
    while (body.size() <= limit) {
        in.read(buffer.data(), static_cast<std::streamsize>(std::min(buffer.size(), limit + 1 - body.size())));
        if (in.gcount() == 0) break;
        body.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (body.size() > limit) return refuse(HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, tooLarge);
    if (declared && body.size() != static_cast<std::uint64_t>(*declared))
        return refuse(HTTPResponse::HTTP_BAD_REQUEST, "request body shorter than its Content-Length");
    return body;
}

class HttpApi::Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(const HttpApi& api) : api_(api) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest& request) override
    {
        std::string path;
        try {
            path = Poco::URI(request.getURI()).getPath();
        } catch (const Poco::SyntaxException&) {
            return new RouteHandler(&badRequest);
        }
        return new RouteHandler(api_.handlerFor(path));
    }

private:
    const HttpApi& api_;
};

namespace {
constexpr int maxHttpThreads = 16;
}

HttpApi::HttpApi(const std::string& address, unsigned short port, net::TlsContexts& tls, store::ConnectionPool& reads)
    : threads_(2, maxHttpThreads)
{
    addRoute("/healthz", [&reads](HTTPServerRequest&, HTTPServerResponse& response) {
        Poco::JSON::Object body;
        try {
            auto db = reads.acquire();
            db->prepare("SELECT count(*) FROM accounts").step();
            body.set("status", "ok");
            sendJson(response, HTTPResponse::HTTP_OK, body);
        } catch (const std::exception& e) {
            body.set("status", "error");
            body.set("error", e.what());
            sendJson(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, body);
        }
    });
    addRoute("/metrics", [](HTTPServerRequest&, HTTPServerResponse& response) {
        response.setContentType("text/plain; version=0.0.4");
        response.send() << metrics::Registry::instance().render();
    });
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress(address, port), 64,
                                         tls.withoutClientCertificates());
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(maxHttpThreads);
    params->setKeepAlive(true);
    // An idle keep-alive connection holds a pool thread that stop() cannot wake
    // (a TLS read is not interrupted): it must give up before stop()'s 10 s
    // join of each thread, else that thread and the server's dispatcher leak.
    // Poco's default is 10 s, the same as the join: a client keeping a
    // connection open across a stop (Node's fetch does) raced it.
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), threads_, socket, params);
}

HttpApi::~HttpApi() { stop(); }

void HttpApi::checkNotStarted() const
{
    if (started_) throw std::logic_error("HTTP routes must be added before the server starts");
}

void HttpApi::addRoute(const std::string& path, Handler handler)
{
    checkNotStarted();
    routes_[path] = std::move(handler);
}

void HttpApi::addPrefixRoute(const std::string& prefix, Handler handler)
{
    checkNotStarted();
    if (!prefix.starts_with('/')) throw std::invalid_argument("an HTTP route prefix starts with '/': " + prefix);
    prefixRoutes_[prefix] = std::move(handler);
}

const Handler* HttpApi::handlerFor(const std::string& path) const
{
    if (const auto exact = routes_.find(path); exact != routes_.end()) return &exact->second;
    const Handler* longest = nullptr;
    std::size_t longestLength = 0;
    for (const auto& [prefix, handler] : prefixRoutes_) {
        if (path.starts_with(prefix) && prefix.size() > longestLength) {
            longest = &handler;
            longestLength = prefix.size();
        }
    }
    return longest;
}

void HttpApi::start()
{
    started_ = true;
    server_->start();
}

void HttpApi::stop()
{
    if (server_) server_->stopAll(true);
    threads_.stopAll();
}

unsigned short HttpApi::port() const { return server_->port(); }

}  // namespace plexus::http
