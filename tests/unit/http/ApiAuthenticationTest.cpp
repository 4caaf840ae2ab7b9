#include "HttpsFixture.h"

#include "accounts/AccountStore.h"
#include "accounts/Authenticator.h"
#include "accounts/PasswordHasher.h"
#include "accounts/Sasl.h"
#include "http/ApiAuthentication.h"

#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <chrono>

using namespace plexus;
using namespace plexus::http;
using namespace plexus::http::test;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

constexpr const char* issuer = "https://psc.test/auth/realms/esante-wallet";
constexpr const char* martin = "dr.martin@hopital.test";
constexpr const char* martinId = "810000000001";
constexpr const char* refusal = R"({"error":"authentication failed"})";

std::string basic(const std::string& user, const std::string& password)
{
    return "Basic " + accounts::encodeBase64(user + ":" + password);
}

std::string field(const std::string& json, const std::string& name)
{
    return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(name);
}

}  // namespace

class ApiAuthenticationTest : public HttpsFixture {
protected:
    void SetUp() override
    {
        HttpsFixture::SetUp();
        auto db = reads_->acquire();
        addAccount(*db, martin, accounts::AccountType::PER, martinId, "martin-password");
        addAccount(*db, "ide.durand@hopital.test", accounts::AccountType::PER, "810000000002", "durand-password");
        addAccount(*db, "secretariat@hopital.test", accounts::AccountType::ORG, "750000001", std::nullopt);
        accounts::AccountStore::addDelegate(*db, "secretariat@hopital.test", martin);
    }

    void TearDown() override
    {
        HttpsFixture::TearDown();  // the server stops before the authenticator goes
        authenticator_.reset();
    }

    static void addAccount(store::Database& db, const std::string& address, accounts::AccountType type,
                           const std::string& id, const std::optional<std::string>& password)
    {
        accounts::NewAccount account;
        account.address = address;
        account.type = type;
        (type == accounts::AccountType::ORG ? account.structureId : account.nationalId) = id;
        account.quotaBytes = 1 << 20;
        if (password) account.passwordHash = accounts::hashPassword(*password);
        accounts::AccountStore::add(db, account);
    }

    // Starts the API with /api/whoami and /api/upload (a 16-byte body limit) behind authentication.
    void start(bool passwordsAllowed = true, unsigned maxFailuresPerIp = 20)
    {
        accounts::AuthPolicy policy;
        policy.passwordsAllowed = passwordsAllowed;
        policy.token = accounts::TokenPolicy{issuer, "plexus", pki_ / "oidc.pub"};
        policy.throttle.maxFailuresPerIp = maxFailuresPerIp;
        policy.throttle.lockout = std::chrono::seconds(120);
        authenticator_ = std::make_unique<accounts::Authenticator>(*reads_, policy);
        const ApiAuthentication authentication(*authenticator_, *commits_);
        addWhoamiRoute(api(), authentication);
        const auto upload = [](HTTPServerRequest& request, HTTPServerResponse& response, const ApiIdentity& identity) {
            if (const auto body = readBody(request, response, 16))
                response.send() << identity.account.address << ':' << *body;
        };
        api().addPrefixRoute("/api/upload", authentication.authenticated(upload));
        api().start();
    }

    static std::string token(const std::string& subject)
    {
        Poco::JWT::Token claims;
        claims.setIssuer(issuer);
        claims.setAudience("plexus");
        claims.payload().set("SubjectNameID", subject);
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        claims.payload().set("exp", std::chrono::duration_cast<std::chrono::seconds>(now).count() + 300);
        Poco::JWT::Signer signer;
        signer.setRSAKey(Poco::makeShared<Poco::Crypto::RSAKey>(pki_ / "oidc.pub", pki_ / "oidc.key"));
        return signer.sign(claims, Poco::JWT::Signer::ALGO_RS256);
    }

    std::vector<std::string> auditedLogins()
    {
        flushCommits();
        auto db = reads_->acquire();
        auto stmt =
            db->prepare("SELECT actor, client, outcome, detail FROM events WHERE type = 'auth.login' ORDER BY id");
        std::vector<std::string> rows;
        while (stmt.step())
            rows.push_back(stmt.text(0) + " " + stmt.text(1) + " " + stmt.text(2) + " " + stmt.text(3));
        return rows;
    }

    std::unique_ptr<accounts::Authenticator> authenticator_;
};

TEST_F(ApiAuthenticationTest, BasicWithTheMailboxPassword)
{
    start();
    const auto reply = get("/api/whoami", {{"Authorization", basic(martin, "martin-password")}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.body, R"({"address":"dr.martin@hopital.test","method":"basic","type":"PER"})");
    // The login is case-insensitive, and the mailbox header may repeat it.
    const auto again = get("/api/whoami", {{"Authorization", basic("Dr.Martin@Hopital.test", "martin-password")},
                                           {"X-Plexus-Mailbox", "DR.MARTIN@hopital.test"}});
    EXPECT_EQ(again.status, 200) << again.body;
}

TEST_F(ApiAuthenticationTest, EveryFailureGetsTheSameAnswer)
{
    start();
    const std::vector<std::map<std::string, std::string>> failures{
        {{"Authorization", basic(martin, "wrong-password")}},
        {{"Authorization", basic("nobody@hopital.test", "martin-password")}},
        {{"Authorization", basic(martin, "martin-password")}, {"X-Plexus-Mailbox", "secretariat@hopital.test"}},
        {{"Authorization", "Basic not-base64!"}},
        {{"Authorization", "Basic " + accounts::encodeBase64("no-colon")}},
        {{"Authorization", "Bearer not.a.token"}},
        {{"Authorization", "Bearer " + token("810000000099")}},  // no account for this subject
        {{"Authorization", "Digest username=\"x\""}},
    };
    for (const auto& headers : failures) {
        const auto reply = get("/api/whoami", headers);
        EXPECT_EQ(reply.status, 401) << headers.begin()->second;
        EXPECT_EQ(reply.body, refusal);
        EXPECT_EQ(reply.headers.get("WWW-Authenticate", ""), R"(Basic realm="plexus", Bearer realm="plexus")");
    }
}

TEST_F(ApiAuthenticationTest, NoCredentialsIsAChallenge)
{
    start();
    const auto reply = get("/api/whoami");
    EXPECT_EQ(reply.status, 401);
    EXPECT_EQ(reply.body, R"({"error":"authentication required"})");
    EXPECT_EQ(reply.headers.get("WWW-Authenticate", ""), R"(Basic realm="plexus", Bearer realm="plexus")");
    EXPECT_TRUE(auditedLogins().empty());  // nothing was tried
}

TEST_F(ApiAuthenticationTest, BearerActsAsTheSubjectsOwnMailbox)
{
    start();
    const auto reply = get("/api/whoami", {{"Authorization", "Bearer " + token(martinId)}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(field(reply.body, "address"), martin);
    EXPECT_EQ(field(reply.body, "type"), "PER");
    EXPECT_EQ(field(reply.body, "method"), "bearer");
}

TEST_F(ApiAuthenticationTest, BearerActsForADelegatedOrganizationNamedInTheHeader)
{
    start();
    const auto reply = get("/api/whoami", {{"Authorization", "bearer " + token(martinId)},
                                           {"X-Plexus-Mailbox", "Secretariat@hopital.test"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(field(reply.body, "address"), "secretariat@hopital.test");
    EXPECT_EQ(field(reply.body, "type"), "ORG");
    const auto foreign = get("/api/whoami", {{"Authorization", "Bearer " + token(martinId)},
                                             {"X-Plexus-Mailbox", "ide.durand@hopital.test"}});
    EXPECT_EQ(foreign.status, 401);
    EXPECT_EQ(foreign.body, refusal);
}

TEST_F(ApiAuthenticationTest, BearerOfASubjectWithSeveralPersonalMailboxesMustNameOne)
{
    {
        auto db = reads_->acquire();
        addAccount(*db, "martin.cabinet@hopital.test", accounts::AccountType::PER, martinId, std::nullopt);
    }
    start();
    EXPECT_EQ(get("/api/whoami", {{"Authorization", "Bearer " + token(martinId)}}).status, 401);
    const auto named = get("/api/whoami", {{"Authorization", "Bearer " + token(martinId)},
                                           {"X-Plexus-Mailbox", "martin.cabinet@hopital.test"}});
    ASSERT_EQ(named.status, 200) << named.body;
    EXPECT_EQ(field(named.body, "address"), "martin.cabinet@hopital.test");
}

TEST_F(ApiAuthenticationTest, WithoutPasswordsBasicIsRefusedAndNotOffered)
{
    start(false);
    const auto reply = get("/api/whoami", {{"Authorization", basic(martin, "martin-password")}});
    EXPECT_EQ(reply.status, 401);
    EXPECT_EQ(reply.body, refusal);
    EXPECT_EQ(reply.headers.get("WWW-Authenticate", ""), R"(Bearer realm="plexus")");
    EXPECT_EQ(get("/api/whoami").headers.get("WWW-Authenticate", ""), R"(Bearer realm="plexus")");
    EXPECT_EQ(get("/api/whoami", {{"Authorization", "Bearer " + token(martinId)}}).status, 200);
}

TEST_F(ApiAuthenticationTest, RepeatedFailuresAreThrottled)
{
    start(true, 3);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(get("/api/whoami", {{"Authorization", basic(martin, "wrong-password")}}).status, 401);
    // Locked out: even the right password, or a token, waits.
    for (const auto& authorization : {basic(martin, "martin-password"), "Bearer " + token(martinId)}) {
        const auto reply = get("/api/whoami", {{"Authorization", authorization}});
        EXPECT_EQ(reply.status, 429);
        EXPECT_EQ(reply.headers.get("Retry-After", ""), "120");
        EXPECT_EQ(reply.body, R"({"error":"too many authentication failures; try again later"})");
    }
}

TEST_F(ApiAuthenticationTest, AttemptsAreAuditedWithoutTheCredentials)
{
    start();
    get("/api/whoami", {{"Authorization", basic(martin, "martin-password")}});
    get("/api/whoami", {{"Authorization", basic(martin, "wrong-password")}});
    const auto logins = auditedLogins();
    ASSERT_EQ(logins.size(), 2u);
    EXPECT_EQ(logins[0], std::string(martin) + R"( 127.0.0.1 success {"mechanism":"basic","service":"http"})");
    EXPECT_EQ(logins[1],
              R"( 127.0.0.1 failure {"mechanism":"basic","reason":"wrong password","service":"http"})");
    for (const auto& login : logins) {
        EXPECT_EQ(login.find("martin-password"), std::string::npos);
        EXPECT_EQ(login.find("wrong-password"), std::string::npos);
        EXPECT_EQ(login.find(basic(martin, "martin-password").substr(6)), std::string::npos);
    }
}

TEST_F(ApiAuthenticationTest, HandlersGetTheIdentityAndBodiesKeepTheirLimit)
{
    start();
    const auto authorization = basic(martin, "martin-password");
    const auto reply =
        send({HTTPRequest::HTTP_POST, "/api/upload/x", {{"Authorization", authorization}}, "hello", true});
    EXPECT_EQ(reply.body, std::string(martin) + ":hello");
    const auto large =
        send({HTTPRequest::HTTP_POST, "/api/upload/x", {{"Authorization", authorization}}, std::string(17, 'x'), true});
    EXPECT_EQ(large.status, 413);
}

TEST_F(ApiAuthenticationTest, RefusalsWithAnUnreadBodyCloseTheConnection)
{
    start();
    const auto reply = send({HTTPRequest::HTTP_POST, "/api/upload/x", {}, "unread body", false});
    EXPECT_EQ(reply.status, 401);
    EXPECT_FALSE(reply.keepAlive);
    EXPECT_TRUE(get("/api/whoami").keepAlive);
}

TEST_F(ApiAuthenticationTest, WhoamiIsGetOnly)
{
    start();
    const auto reply = send({HTTPRequest::HTTP_DELETE, "/api/whoami",
                             {{"Authorization", basic(martin, "martin-password")}}, std::nullopt, false});
    EXPECT_EQ(reply.status, 405);
    EXPECT_EQ(reply.headers.get("Allow", ""), "GET");
}
