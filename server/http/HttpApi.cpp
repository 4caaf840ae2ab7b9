#include "http/HttpApi.h"

#include "metrics/Metrics.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/URI.h>

namespace plexus::http {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void sendJson(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const Poco::JSON::Object& body)
{
    response.setStatus(status);
    response.setContentType("application/json");
    body.stringify(response.send());
}

void sendError(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, const std::string& message)
{
    Poco::JSON::Object body;
    body.set("error", message);
    sendJson(response, status, body);
}

class RouteHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit RouteHandler(const Handler* handler) : handler_(handler) {}
    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override
    {
        if (!handler_) {
            sendError(response, HTTPResponse::HTTP_NOT_FOUND, "no such resource");
            return;
        }
        try {
            (*handler_)(request, response);
        } catch (const std::exception& e) {
            if (!response.sent()) sendError(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, e.what());
        }
    }

private:
    const Handler* handler_;
};

}  // namespace

class HttpApi::Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(const std::map<std::string, Handler>& routes) : routes_(routes) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest& request) override
    {
        const auto route = routes_.find(Poco::URI(request.getURI()).getPath());
        return new RouteHandler(route == routes_.end() ? nullptr : &route->second);
    }

private:
    const std::map<std::string, Handler>& routes_;
};

HttpApi::HttpApi(const std::string& address, unsigned short port, net::TlsContexts& tls, store::ConnectionPool& reads)
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
    params->setMaxThreads(16);
    params->setKeepAlive(true);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(routes_), socket, params);
}

HttpApi::~HttpApi() { stop(); }

void HttpApi::addRoute(const std::string& path, Handler handler) { routes_[path] = std::move(handler); }

void HttpApi::start() { server_->start(); }

void HttpApi::stop()
{
    if (server_) server_->stopAll(true);
}

unsigned short HttpApi::port() const { return server_->port(); }

}  // namespace plexus::http
