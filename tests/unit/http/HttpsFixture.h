// A real HttpApi served over HTTPS on 127.0.0.1 (a free port) with a
// development PKI and a migrated database in a temporary folder, and a client
// for it. Tests add their routes to api(), then call api().start().
#pragma once

#include "http/HttpApi.h"
#include "net/TlsContext.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/Schema.h"
#include "trust/DevPki.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace plexus::http::test {

struct Reply {
    int status = 0;
    std::string body;
    Poco::Net::NameValueCollection headers;
    bool keepAlive = true;
};

struct Request {
    std::string method = Poco::Net::HTTPRequest::HTTP_GET;
    std::string path;
    std::map<std::string, std::string> headers;
    std::optional<std::string> body;
    bool chunked = false;
};

class HttpsFixture : public ::testing::Test {
protected:
    // RSA key generation is the slow part: one PKI for the suite.
    static void SetUpTestSuite()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "plexus-http-XXXXXX").string();
        ASSERT_NE(nullptr, ::mkdtemp(pattern.data()));
        pki_ = pattern;
        trust::createRootCa({"Plexus test CA", "Plexus development PKI", "FR"}, pki_ / "ca.key", pki_ / "ca.crt");
        trust::issueServerCertificate(pki_ / "ca.key", pki_ / "ca.crt", "localhost", {"127.0.0.1"}, "Plexus test",
                                      pki_ / "server.key", pki_ / "server.crt");
        trust::createSigningKeyPair(pki_ / "oidc.key", pki_ / "oidc.pub");
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(pki_); }

    void SetUp() override
    {
        dir_ = pki_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::create_directory(dir_);
        const auto database = (dir_ / "plexus.db").string();
        {
            store::Database db(database);
            store::migrateSchema(db);
        }
        reads_ = std::make_unique<store::ConnectionPool>(database);
        commits_ = std::make_unique<store::CommitQueue>(database);
        tls_ = std::make_unique<net::TlsContexts>(
            net::TlsFiles{pki_ / "server.crt", pki_ / "server.key", pki_ / "ca.crt", ""});
        api_ = std::make_unique<HttpApi>("127.0.0.1", 0, *tls_, *reads_);
    }

    void TearDown() override { api_.reset(); }

    HttpApi& api() { return *api_; }

    // Waits until the writes posted so far (audit events) are committed: jobs run in order.
    void flushCommits() { commits_->submit([](store::Database&) {}).get(); }

    Reply send(const Request& request) const
    {
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "",
                                                                 pki_ / "ca.crt", Poco::Net::Context::VERIFY_RELAXED);
        context->enableExtendedCertificateVerification(false);  // the chain is checked, not the name
        Poco::Net::HTTPSClientSession session("127.0.0.1", api_->port(), context);
        session.setKeepAlive(true);  // as browsers and curl: the server decides whether to close
        Poco::Net::HTTPRequest message(request.method, request.path, Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [name, value] : request.headers) message.set(name, value);
        if (request.chunked)
            message.setChunkedTransferEncoding(true);
        else if (request.body)
            message.setContentLength64(static_cast<Poco::Int64>(request.body->size()));
        auto& out = session.sendRequest(message);
        if (request.body) out << *request.body;
        Poco::Net::HTTPResponse response;
        auto& in = session.receiveResponse(response);
        Reply reply;
        reply.status = response.getStatus();
        Poco::StreamCopier::copyToString(in, reply.body);
        reply.headers = response;
        reply.keepAlive = response.getKeepAlive();
        return reply;
    }

    Reply get(const std::string& path, std::map<std::string, std::string> headers = {}) const
    {
        return send({Poco::Net::HTTPRequest::HTTP_GET, path, std::move(headers), std::nullopt, false});
    }

    static inline std::filesystem::path pki_;
    std::filesystem::path dir_;
    std::unique_ptr<store::ConnectionPool> reads_;
    std::unique_ptr<store::CommitQueue> commits_;
    std::unique_ptr<net::TlsContexts> tls_;
    std::unique_ptr<HttpApi> api_;  // last: stopped before what its routes use
};

}  // namespace plexus::http::test
