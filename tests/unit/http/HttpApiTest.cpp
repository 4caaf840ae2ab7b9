#include "HttpsFixture.h"

#include <Poco/JSON/Object.h>

using namespace plexus::http;
using namespace plexus::http::test;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

// A handler answering its own name and the path it was given.
Handler naming(const std::string& name)
{
    return [name](HTTPServerRequest& request, HTTPServerResponse& response) {
        response.send() << name << ' ' << request.getURI();
    };
}

// Echoes the body, read with a limit of 16 bytes.
void echoSmallBody(HTTPServerRequest& request, HTTPServerResponse& response)
{
    if (const auto body = readBody(request, response, 16)) response.send() << *body;
}

}  // namespace

class HttpApiTest : public HttpsFixture {};

TEST_F(HttpApiTest, ExactRoutesWinOverPrefixesAndTheLongestPrefixWins)
{
    api().addPrefixRoute("/api/plugins/", naming("plugins"));
    api().addPrefixRoute("/api/plugins/teams/", naming("teams"));
    api().addRoute("/api/plugins/teams/status", naming("status"));
    api().start();
    EXPECT_EQ(get("/api/plugins/teams/status").body, "status /api/plugins/teams/status");
    EXPECT_EQ(get("/api/plugins/teams/status/more").body, "teams /api/plugins/teams/status/more");
    EXPECT_EQ(get("/api/plugins/teams/").body, "teams /api/plugins/teams/");
    EXPECT_EQ(get("/api/plugins/teams").body, "plugins /api/plugins/teams");
    EXPECT_EQ(get("/api/plugins/x?y=/api/plugins/teams/").body, "plugins /api/plugins/x?y=/api/plugins/teams/");
    EXPECT_EQ(get("/api/plugins").status, 404);
    EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(HttpApiTest, UnmatchedPathsAre404InJson)
{
    api().addPrefixRoute("/a/", naming("a"));
    api().start();
    const auto reply = get("/b/c");
    EXPECT_EQ(reply.status, 404);
    EXPECT_EQ(reply.body, R"({"error":"no such resource"})");
}

TEST_F(HttpApiTest, RoutesAreFixedOnceStartedAndPrefixesArePaths)
{
    EXPECT_THROW(api().addPrefixRoute("api/", naming("x")), std::invalid_argument);
    EXPECT_THROW(api().addPrefixRoute("", naming("x")), std::invalid_argument);
    api().start();
    EXPECT_THROW(api().addRoute("/late", naming("late")), std::logic_error);
    EXPECT_THROW(api().addPrefixRoute("/late/", naming("late")), std::logic_error);
}

TEST_F(HttpApiTest, BodiesUpToTheLimitAreRead)
{
    api().addRoute("/echo", echoSmallBody);
    api().start();
    const std::string sixteen = "0123456789abcdef";
    EXPECT_EQ(send({HTTPRequest::HTTP_POST, "/echo", {}, sixteen, false}).body, sixteen);
    EXPECT_EQ(send({HTTPRequest::HTTP_POST, "/echo", {}, sixteen, true}).body, sixteen);
    EXPECT_EQ(send({HTTPRequest::HTTP_POST, "/echo", {}, std::string("a\0b", 3), true}).body, std::string("a\0b", 3));
    EXPECT_EQ(send({HTTPRequest::HTTP_POST, "/echo", {}, std::string(), false}).body, "");
    EXPECT_EQ(get("/echo").body, "");
}

TEST_F(HttpApiTest, LargerBodiesAre413AndCloseTheConnection)
{
    api().addRoute("/echo", echoSmallBody);
    api().start();
    const std::string seventeen(17, 'x');
    for (const bool chunked : {false, true}) {
        const auto reply = send({HTTPRequest::HTTP_POST, "/echo", {}, seventeen, chunked});
        EXPECT_EQ(reply.status, 413) << chunked;
        EXPECT_EQ(reply.body, R"({"error":"request body larger than 16 bytes"})");
        EXPECT_FALSE(reply.keepAlive);
    }
    // A larger declared length is refused before anything is read (here, nothing is sent).
    const auto reply = send({HTTPRequest::HTTP_POST, "/echo", {{"Content-Length", "1000000000"}}, std::nullopt, false});
    EXPECT_EQ(reply.status, 413);
}

TEST_F(HttpApiTest, HandlerExceptionsAre500InJson)
{
    api().addRoute("/fail", [](HTTPServerRequest&, HTTPServerResponse&) { throw std::runtime_error("broken"); });
    api().start();
    const auto reply = get("/fail");
    EXPECT_EQ(reply.status, 500);
    EXPECT_EQ(reply.body, R"({"error":"broken"})");
}
