#include "accounts/Sasl.h"
#include "accounts/TokenVerifier.h"

#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Array.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

using namespace plexus::accounts;
using Reason = TokenError::Reason;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::string_view issuer = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet";
const Clock::time_point now = Clock::time_point(std::chrono::seconds(1'700'000'000));

using PrivateKey = std::shared_ptr<EVP_PKEY>;

PrivateKey rsaKey(unsigned bits) { return {EVP_RSA_gen(bits), EVP_PKEY_free}; }
PrivateKey ecKey(const char* curve) { return {EVP_EC_gen(curve), EVP_PKEY_free}; }

std::string publicPem(const PrivateKey& key)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key.get());
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::int64_t epochSeconds(Clock::time_point time)
{
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::string base64Url(std::string_view bytes)
{
    auto text = encodeBase64(bytes);
    for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return text.substr(0, text.find('='));
}

// Claims of a good PSC-like token; tests edit them before signing.
Poco::JWT::Token goodClaims()
{
    Poco::JWT::Token token;
    token.setType("JWT");
    token.setIssuer(std::string(issuer));
    token.setSubject("f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:ANS");
    token.setAudience("plexus");
    token.setId("b3c5a0d2-jti");
    token.payload().set("SubjectNameID", std::string("810001234567"));
    token.payload().set("preferred_username", std::string("810001234567-pu"));
    token.payload().set("exp", epochSeconds(now + std::chrono::minutes(5)));
    token.payload().set("iat", epochSeconds(now - std::chrono::seconds(10)));
    return token;
}

class TokenVerifierTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        directory_ = std::filesystem::temp_directory_path() / ("plexus-token-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(directory_);
        providerKey_ = new PrivateKey(rsaKey(2048));
        otherKey_ = new PrivateKey(rsaKey(2048));
        ecProviderKey_ = new PrivateKey(ecKey("P-256"));
    }

    static void TearDownTestSuite()
    {
        std::filesystem::remove_all(directory_);
        delete providerKey_;
        delete otherKey_;
        delete ecProviderKey_;
    }

    static std::string writePem(const std::string& name, const std::string& pem)
    {
        const auto path = directory_ / name;
        std::ofstream(path) << pem;
        return path.string();
    }

    static TokenPolicy policyFor(const PrivateKey& key)
    {
        TokenPolicy policy;
        policy.issuer = std::string(issuer);
        policy.audience = "plexus";
        policy.publicKeyPemPath = writePem(std::to_string(reinterpret_cast<std::uintptr_t>(key.get())) + ".pem", publicPem(key));
        return policy;
    }

    static std::string sign(Poco::JWT::Token token, const PrivateKey& key, const std::string& algorithm = "RS256")
    {
        Poco::JWT::Signer signer;
        const Poco::Crypto::EVPPKey evp(key.get());
        if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA)
            signer.setRSAKey(new Poco::Crypto::RSAKey(evp));
        else
            signer.setECKey(new Poco::Crypto::ECKey(evp));
        return signer.sign(token, algorithm);
    }

    static std::string signed_(const std::function<void(Poco::JWT::Token&)>& edit)
    {
        auto token = goodClaims();
        edit(token);
        return sign(token, *providerKey_);
    }

    // Refused for `reason`, and the message gives away no part of the token.
    void expectRefused(const TokenVerifier& verifier, const std::string& jwt, Reason reason)
    {
        try {
            verifier.verify(jwt, now);
            ADD_FAILURE() << "accepted: " << jwt.substr(0, 200);
        } catch (const TokenError& error) {
            EXPECT_EQ(error.reason(), reason) << error.what() << " for " << jwt.substr(0, 200);
            const std::string message = error.what();
            EXPECT_EQ(message, toString(reason));
            std::istringstream segments(jwt);
            for (std::string segment; std::getline(segments, segment, '.');)
                if (segment.size() > 3) {
                    EXPECT_EQ(message.find(segment), std::string::npos);
                }
        }
    }

    void expectRefused(const std::string& jwt, Reason reason) { expectRefused(verifier_, jwt, reason); }

    static std::filesystem::path directory_;
    static PrivateKey* providerKey_;
    static PrivateKey* otherKey_;
    static PrivateKey* ecProviderKey_;
    TokenVerifier verifier_{policyFor(*providerKey_)};
};

std::filesystem::path TokenVerifierTest::directory_;
PrivateKey* TokenVerifierTest::providerKey_ = nullptr;
PrivateKey* TokenVerifierTest::otherKey_ = nullptr;
PrivateKey* TokenVerifierTest::ecProviderKey_ = nullptr;

}  // namespace

TEST_F(TokenVerifierTest, AcceptsGoodToken)
{
    const auto verified = verifier_.verify(sign(goodClaims(), *providerKey_), now);
    EXPECT_EQ(verified.subject, "810001234567");
    EXPECT_EQ(verified.issuer, issuer);
    EXPECT_EQ(verified.expiresAt, now + std::chrono::minutes(5));
    EXPECT_EQ(verified.tokenId, "b3c5a0d2-jti");
}

TEST_F(TokenVerifierTest, SubjectClaimPrecedence)
{
    EXPECT_EQ(verifier_.verify(signed_([](auto& t) { t.payload().remove("SubjectNameID"); }), now).subject, "810001234567-pu");
    EXPECT_EQ(verifier_.verify(signed_([](auto& t) { t.payload().set("SubjectNameID", std::string()); }), now).subject,
              "810001234567-pu");
    const auto onlySub = signed_([](auto& t) {
        t.payload().remove("SubjectNameID");
        t.payload().remove("preferred_username");
    });
    EXPECT_EQ(verifier_.verify(onlySub, now).subject, "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:ANS");

    auto policy = policyFor(*providerKey_);
    policy.subjectClaims = {"preferred_username"};
    EXPECT_EQ(TokenVerifier(policy).verify(sign(goodClaims(), *providerKey_), now).subject, "810001234567-pu");
    expectRefused(TokenVerifier(policy), onlySub, Reason::NoSubject);
}

TEST_F(TokenVerifierTest, RefusesTokenWithoutSubject)
{
    expectRefused(signed_([](auto& t) {
                      t.payload().remove("SubjectNameID");
                      t.payload().remove("preferred_username");
                      t.payload().remove("sub");
                  }),
                  Reason::NoSubject);
    expectRefused(signed_([](auto& t) { t.payload().set("SubjectNameID", 810001234567LL); }), Reason::Malformed);
    expectRefused(signed_([](auto& t) { t.payload().set("SubjectNameID", std::string("8100\n01234567")); }), Reason::Malformed);
}

TEST_F(TokenVerifierTest, ExpiryWithLeeway)
{
    expectRefused(signed_([](auto& t) { t.payload().set("exp", epochSeconds(now - std::chrono::seconds(61))); }), Reason::Expired);
    expectRefused(signed_([](auto& t) { t.payload().set("exp", epochSeconds(now - std::chrono::seconds(60))); }), Reason::Expired);
    EXPECT_NO_THROW(verifier_.verify(signed_([](auto& t) { t.payload().set("exp", epochSeconds(now - std::chrono::seconds(30))); }), now));
    EXPECT_NO_THROW(verifier_.verify(signed_([](auto& t) { t.payload().set("exp", static_cast<double>(epochSeconds(now)) + 0.5); }), now));
    expectRefused(signed_([](auto& t) { t.payload().remove("exp"); }), Reason::Malformed);
    expectRefused(signed_([](auto& t) { t.payload().set("exp", std::string("1700000300")); }), Reason::Malformed);
    expectRefused(signed_([](auto& t) { t.payload().set("exp", true); }), Reason::Malformed);
}

TEST_F(TokenVerifierTest, NotBeforeWithLeeway)
{
    expectRefused(signed_([](auto& t) { t.payload().set("nbf", epochSeconds(now + std::chrono::seconds(120))); }), Reason::NotYetValid);
    EXPECT_NO_THROW(verifier_.verify(signed_([](auto& t) { t.payload().set("nbf", epochSeconds(now + std::chrono::seconds(30))); }), now));
    EXPECT_NO_THROW(verifier_.verify(signed_([](auto& t) { t.payload().set("nbf", epochSeconds(now - std::chrono::seconds(30))); }), now));
}

TEST_F(TokenVerifierTest, RefusesWrongIssuer)
{
    expectRefused(signed_([](auto& t) { t.setIssuer("https://evil.example/realms/esante-wallet"); }), Reason::WrongIssuer);
    expectRefused(signed_([](auto& t) { t.setIssuer(std::string(issuer) + "/"); }), Reason::WrongIssuer);
    expectRefused(signed_([](auto& t) { t.payload().remove("iss"); }), Reason::WrongIssuer);
}

TEST_F(TokenVerifierTest, ChecksAudienceWhenConfigured)
{
    EXPECT_NO_THROW(verifier_.verify(signed_([](auto& t) { t.setAudience(std::vector<std::string>{"account", "plexus"}); }), now));
    expectRefused(signed_([](auto& t) { t.setAudience("other-service"); }), Reason::WrongAudience);
    expectRefused(signed_([](auto& t) { t.setAudience(std::vector<std::string>{"account", "plexus2"}); }), Reason::WrongAudience);
    expectRefused(signed_([](auto& t) { t.payload().remove("aud"); }), Reason::WrongAudience);

    auto policy = policyFor(*providerKey_);
    policy.audience.clear();
    EXPECT_NO_THROW(TokenVerifier(policy).verify(signed_([](auto& t) { t.payload().remove("aud"); }), now));
}

TEST_F(TokenVerifierTest, RefusesTokenSignedByAnotherKey)
{
    expectRefused(sign(goodClaims(), *otherKey_), Reason::BadSignature);
}

TEST_F(TokenVerifierTest, RefusesTamperedToken)
{
    const auto good = sign(goodClaims(), *providerKey_);
    const auto otherPayload = signed_([](auto& t) { t.payload().set("SubjectNameID", std::string("899999999999")); });
    const auto header = good.substr(0, good.find('.'));
    const auto signature = good.substr(good.rfind('.'));
    const auto payload = otherPayload.substr(otherPayload.find('.'), otherPayload.rfind('.') - otherPayload.find('.'));
    expectRefused(header + payload + signature, Reason::BadSignature);
    expectRefused(good.substr(0, good.size() - 10), Reason::BadSignature);
    expectRefused(good + "AAAA", Reason::BadSignature);
}

TEST_F(TokenVerifierTest, RefusesAlgNone)
{
    const auto good = sign(goodClaims(), *providerKey_);
    const auto payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
    const auto signature = good.substr(good.rfind('.') + 1);
    expectRefused(base64Url(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".", Reason::AlgorithmNotAllowed);
    expectRefused(base64Url(R"({"alg":"none","typ":"JWT"})") + "." + payload + "." + signature, Reason::AlgorithmNotAllowed);
    expectRefused(base64Url(R"({"alg":"None","typ":"JWT"})") + "." + payload + "." + signature, Reason::AlgorithmNotAllowed);
    expectRefused(base64Url(R"({"typ":"JWT"})") + "." + payload + "." + signature, Reason::AlgorithmNotAllowed);
}

// Algorithm confusion: an HS256 token whose HMAC secret is the provider's
// public key, which an attacker knows.
TEST_F(TokenVerifierTest, RefusesHs256SignedWithThePublicKey)
{
    auto token = goodClaims();
    const Poco::JWT::Signer signer(publicPem(*providerKey_));
    expectRefused(signer.sign(token, Poco::JWT::Signer::ALGO_HS256), Reason::AlgorithmNotAllowed);
}

TEST_F(TokenVerifierTest, AcceptsOnlyRs256FromAnRsaKey)
{
    expectRefused(sign(goodClaims(), *providerKey_, "RS512"), Reason::AlgorithmNotAllowed);
    expectRefused(sign(goodClaims(), *ecProviderKey_, "ES256"), Reason::AlgorithmNotAllowed);
}

TEST_F(TokenVerifierTest, RefusesUnknownCriticalHeader)
{
    auto token = goodClaims();
    Poco::JSON::Array::Ptr critical = new Poco::JSON::Array;
    critical->add(std::string("exp-ext"));
    token.header().set("crit", critical);
    expectRefused(sign(token, *providerKey_), Reason::Malformed);
}

TEST_F(TokenVerifierTest, RefusesGarbage)
{
    const auto good = sign(goodClaims(), *providerKey_);
    const std::vector<std::string> garbage = {
        "",
        "abc",
        "a.b",
        "..",
        ".b.c",
        "a..c",
        "a.b.c.d",
        good + ".AAAA",
        "!!!.###.$$$",
        "eyJ.eyJ.abc",
        base64Url("[1,2]") + "." + base64Url("{}") + ".abc",
        base64Url(R"({"alg":"RS256"})") + "." + base64Url("not json") + ".abc",
        base64Url(R"({"alg":"RS256"})") + "." + base64Url("[]") + ".abc",
        "Bearer " + good,
        std::string(maxTokenLength + 1, 'a'),
        good + std::string(maxTokenLength, 'A'),
        std::string(good).replace(5, 1, "\n"),
    };
    for (const auto& jwt : garbage) {
        try {
            verifier_.verify(jwt, now);
            ADD_FAILURE() << "accepted: " << jwt.substr(0, 100);
        } catch (const TokenError& error) {
            EXPECT_TRUE(error.reason() == Reason::Malformed || error.reason() == Reason::BadSignature) << error.what();
        } catch (...) {
            ADD_FAILURE() << "not a TokenError for " << jwt.substr(0, 100);
        }
    }
}

TEST_F(TokenVerifierTest, AcceptsEs256FromAnEcKey)
{
    const TokenVerifier verifier(policyFor(*ecProviderKey_));
    EXPECT_EQ(verifier.verify(sign(goodClaims(), *ecProviderKey_, "ES256"), now).subject, "810001234567");
    expectRefused(verifier, sign(goodClaims(), *providerKey_), Reason::AlgorithmNotAllowed);
    const PrivateKey otherEc = ecKey("P-256");
    expectRefused(verifier, sign(goodClaims(), otherEc, "ES256"), Reason::BadSignature);
    const auto good = sign(goodClaims(), *ecProviderKey_, "ES256");
    expectRefused(verifier, good.substr(0, good.size() - 4), Reason::BadSignature);
    expectRefused(verifier, good.substr(0, good.rfind('.') + 1), Reason::BadSignature);
    expectRefused(verifier, good.substr(0, good.rfind('.') + 3), Reason::BadSignature);
}

TEST_F(TokenVerifierTest, RefusesUnsuitableConfiguration)
{
    auto policy = policyFor(*providerKey_);
    policy.publicKeyPemPath = (directory_ / "missing.pem").string();
    EXPECT_THROW(TokenVerifier{policy}, std::invalid_argument);
    policy.publicKeyPemPath = writePem("garbage.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    EXPECT_THROW(TokenVerifier{policy}, std::invalid_argument);
    EXPECT_THROW(TokenVerifier{policyFor(rsaKey(1024))}, std::invalid_argument);
    EXPECT_THROW(TokenVerifier{policyFor(ecKey("P-384"))}, std::invalid_argument);
    policy = policyFor(*providerKey_);
    policy.issuer.clear();
    EXPECT_THROW(TokenVerifier{policy}, std::invalid_argument);
}

TEST_F(TokenVerifierTest, VerifiesConcurrently)
{
    const auto good = sign(goodClaims(), *providerKey_);
    const auto forged = sign(goodClaims(), *otherKey_);
    std::atomic<int> accepted = 0;
    std::atomic<int> refused = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                if (verifier_.verify(good, now).subject == "810001234567") ++accepted;
                try {
                    verifier_.verify(forged, now);
                } catch (const TokenError&) {
                    ++refused;
                }
            }
        });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(accepted, 200);
    EXPECT_EQ(refused, 200);
}
