#include "http/PluginRoutes.h"

#include <Poco/String.h>
#include <Poco/URI.h>

namespace plexus::http {

namespace {

constexpr std::string_view kPrefix = "/api/plugins";

bool isCredential(const std::string& header)
{
    return Poco::icompare(header, "Authorization") == 0 || Poco::icompare(header, "Proxy-Authorization") == 0 ||
           Poco::icompare(header, "Cookie") == 0;
}

}  // namespace

void addPluginRoutes(HttpApi& api, const ApiAuthentication& authentication, plugins::PluginHost& plugins)
{
    api.addPrefixRoute(std::string(kPrefix) + "/", authentication.authenticated([&plugins](
        Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response, const ApiIdentity& identity) {
        auto body = readBody(request, response, kPluginRequestLimit);
        if (!body) return;
        const Poco::URI uri(request.getURI());
        plugins::HttpCall call;
        call.method = request.getMethod();
        call.path = uri.getPath().substr(kPrefix.size());
        call.query = uri.getRawQuery();
        call.identity = identity.account.address;
        call.contentType = request.getContentType();
        for (const auto& [name, value] : request)
            if (!isCredential(name)) call.headers.emplace_back(name, value);
        call.body = std::move(*body);
        const auto answer = plugins.serveHttp(call);
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
        for (const auto& [name, value] : answer.headers) response.set(name, value);
        response.setContentType(answer.contentType);
        response.sendBuffer(answer.body.data(), answer.body.size());
    }));
}

}  // namespace plexus::http
