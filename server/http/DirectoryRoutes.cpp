#include "http/DirectoryRoutes.h"

#include "directory/DirectoryQueries.h"

#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include <charconv>

namespace plexus::http {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

Poco::JSON::Object jsonOf(const directory::DirectoryHit& hit)
{
    Poco::JSON::Object entry;
    entry.set("address", hit.mailbox.address);
    entry.set("type", hit.mailbox.type);
    entry.set("name", hit.displayName());
    entry.set("nationalId", hit.mailbox.ownerNationalId);
    entry.set("structureId", hit.mailbox.ownerStructureId);
    entry.set("service", hit.mailbox.service);
    entry.set("profession", hit.person ? hit.person->professionLabel : "");
    entry.set("specialty", hit.person ? hit.person->specialtyLabel : "");
    entry.set("structure", hit.structure ? hit.structure->name : "");
    entry.set("postcode", hit.structure ? hit.structure->postcode : "");
    entry.set("city", hit.structure ? hit.structure->city : "");
    return entry;
}

// The query from the URI's parameters; nullopt once a 400 is sent.
std::optional<directory::SearchQuery> queryOf(const HTTPServerRequest& request, HTTPServerResponse& response)
{
    directory::SearchQuery query{.limit = 20};
    Poco::URI::QueryParameters parameters;
    try {
        parameters = Poco::URI(request.getURI()).getQueryParameters();
    } catch (const Poco::Exception&) {
        sendJsonError(response, HTTPResponse::HTTP_BAD_REQUEST, "malformed query string");
        return std::nullopt;
    }
    for (const auto& [name, value] : parameters) {
        if (value.size() > directory::SearchQuery::maxTextBytes) {
            sendJsonError(response, HTTPResponse::HTTP_BAD_REQUEST,
                          name + " is longer than " + std::to_string(directory::SearchQuery::maxTextBytes) + " bytes");
            return std::nullopt;
        }
        if (name == "q") query.text = value;
        else if (name == "profession") query.profession = value;
        else if (name == "specialty") query.specialty = value;
        else if (name == "city") query.city = value;
        else if (name == "structure") query.structure = value;
        else if (name == "limit") {
            const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), query.limit);
            if (error != std::errc() || end != value.data() + value.size() || query.limit == 0 ||
                query.limit > directorySearchMaxLimit) {
                sendJsonError(response, HTTPResponse::HTTP_BAD_REQUEST,
                              "limit must be a number from 1 to " + std::to_string(directorySearchMaxLimit));
                return std::nullopt;
            }
        } else {
            sendJsonError(response, HTTPResponse::HTTP_BAD_REQUEST, "unknown parameter " + name);
            return std::nullopt;
        }
    }
    if (!directory::hasCriteria(query)) {
        sendJsonError(response, HTTPResponse::HTTP_BAD_REQUEST, "give words to search for: q or a filter");
        return std::nullopt;
    }
    return query;
}

}  // namespace

void addDirectoryRoutes(HttpApi& api, const ApiAuthentication& authentication, store::ConnectionPool& directoryReads)
{
    const auto searchRoute = [&directoryReads](HTTPServerRequest& request, HTTPServerResponse& response,
                                          const ApiIdentity&) {
        if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
            closeConnectionIfRequestHasBody(request, response);
            response.set("Allow", "GET");
            sendJsonError(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "only GET");
            return;
        }
        const auto query = queryOf(request, response);
        if (!query) return;
        std::vector<directory::DirectoryHit> hits;
        {
            auto db = directoryReads.acquire();
            hits = directory::search(*db, *query);
        }
        Poco::JSON::Array results;
        for (const auto& hit : hits) results.add(jsonOf(hit));
        Poco::JSON::Object body;
        body.set("count", hits.size());
        body.set("results", results);
        sendJson(response, HTTPResponse::HTTP_OK, body);
    };
    api.addRoute("/api/directory/search", authentication.authenticated(searchRoute));
}

}  // namespace plexus::http
