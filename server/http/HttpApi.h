// The admin and service HTTP API (HTTPS only): /healthz and Prometheus
// /metrics now; later issues add their routes through addRoute().
#pragma once

#include "net/TlsContext.h"
#include "store/ConnectionPool.h"

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace plexus::http {

using Handler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

class HttpApi {
public:
    HttpApi(const std::string& address, unsigned short port, net::TlsContexts& tls, store::ConnectionPool& reads);
    ~HttpApi();
    // Exact-path route; register before start().
    void addRoute(const std::string& path, Handler handler);
    void start();
    void stop();
    unsigned short port() const;

private:
    class Factory;
    std::map<std::string, Handler> routes_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace plexus::http
