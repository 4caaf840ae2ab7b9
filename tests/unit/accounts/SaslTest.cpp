#include "accounts/PasswordHasher.h"
#include "accounts/Sasl.h"
#include "accounts/TokenVerifier.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace plexus::accounts;
using namespace std::string_literals;

// ---- base64 -------------------------------------------------------------------

TEST(Base64, Rfc4648Vectors)
{
    const std::vector<std::pair<std::string, std::string>> vectors = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [bytes, text] : vectors) {
        EXPECT_EQ(encodeBase64(bytes), text);
        EXPECT_EQ(decodeBase64(text), bytes) << text;
    }
}

TEST(Base64, RoundTripsEveryByte)
{
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
    for (std::size_t length = 0; length <= bytes.size(); length += 37)
        EXPECT_EQ(decodeBase64(encodeBase64(bytes.substr(0, length))), bytes.substr(0, length));
}

TEST(Base64, RejectsNonStrictInput)
{
    const std::vector<std::string> malformed = {"Zg", "Zg=", "Zh==", "Zm9=", "Zm9v\n", " Zm9v", "Zm9v ", "Zm=v", "Z===",
                                                "====", "Zm9v-_8=", "Zm9vYmFy====", "Zm\0v"s, "Zm9v\r\nYmFy"};
    for (const auto& text : malformed)
        EXPECT_FALSE(decodeBase64(text)) << text;
}

// ---- PLAIN (RFC 4616) -----------------------------------------------------------

TEST(SaslPlain, ParsesWithAndWithoutAuthzid)
{
    const auto plain = parsePlain("\0dr.martin@hopital.mssante.fr\0s3cret"s);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->authzid, "");
    EXPECT_EQ(plain->authcid, "dr.martin@hopital.mssante.fr");
    EXPECT_EQ(plain->password, "s3cret");

    const auto delegated = parsePlain("secretariat@hopital.mssante.fr\0dr.martin@hopital.mssante.fr\0pw"s);
    ASSERT_TRUE(delegated);
    EXPECT_EQ(delegated->authzid, "secretariat@hopital.mssante.fr");
    EXPECT_EQ(delegated->authcid, "dr.martin@hopital.mssante.fr");
    EXPECT_EQ(delegated->password, "pw");
}

TEST(SaslPlain, AfterBase64)
{
    const auto decoded = decodeBase64("AHRpbQB0YW5zdGFhZnRhbnN0YWFm");  // RFC 4616 §4 example
    ASSERT_TRUE(decoded);
    const auto plain = parsePlain(*decoded);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->authcid, "tim");
    EXPECT_EQ(plain->password, "tanstaaftanstaaf");
}

TEST(SaslPlain, RejectsMalformed)
{
    for (const auto& message : {""s, "userpass"s, "\0user"s, "user\0pass"s, "a\0b\0c\0"s, "\0\0\0pass"s, "\0\0pass"s,
                                      "\0user\0"s, "\0\0"s, "\0us\ner\0pass"s})
        EXPECT_FALSE(parsePlain(message)) << message;
}

TEST(SaslPlain, CapsLengths)
{
    const std::string id255(255, 'u');
    const std::string id256(256, 'u');
    EXPECT_TRUE(parsePlain(id255 + '\0' + id255 + '\0' + "pw"));
    EXPECT_FALSE(parsePlain('\0' + id256 + '\0' + "pw"));
    EXPECT_FALSE(parsePlain(id256 + '\0' + "user" + '\0' + "pw"));
    EXPECT_TRUE(parsePlain("\0user\0"s + std::string(maxPasswordLength, 'p')));
    EXPECT_FALSE(parsePlain("\0user\0"s + std::string(maxPasswordLength + 1, 'p')));
}

// ---- XOAUTH2 --------------------------------------------------------------------

TEST(SaslXoauth2, ParsesGoogleForm)
{
    const auto credentials = parseXoauth2("user=dr.martin@hopital.mssante.fr\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdGhlbmEuaWM=\x01\x01");
    ASSERT_TRUE(credentials);
    EXPECT_EQ(credentials->user, "dr.martin@hopital.mssante.fr");
    EXPECT_EQ(credentials->token, "ya29.vF9dft4qmTc2Nvb3RlckBhdGhlbmEuaWM=");
}

TEST(SaslXoauth2, ParsesAfterBase64AndCaseInsensitiveScheme)
{
    const auto encoded = encodeBase64("user=a@b.fr\x01" "auth=bearer  abc-_.~+/\x01\x01");
    const auto credentials = parseXoauth2(decodeBase64(encoded).value());
    ASSERT_TRUE(credentials);
    EXPECT_EQ(credentials->user, "a@b.fr");
    EXPECT_EQ(credentials->token, "abc-_.~+/");
}

TEST(SaslXoauth2, RejectsMalformed)
{
    const std::vector<std::string> malformed = {
        "",
        "\x01",
        "\x01\x01",
        "user=a@b.fr\x01" "auth=Bearer tok\x01",              // missing final ^A
        "user=a@b.fr\x01" "auth=Bearer tok",                  // no separators at the end
        "user=a@b.fr\x01\x01",                                // no auth
        "auth=Bearer tok\x01\x01",                            // no user
        "user=\x01" "auth=Bearer tok\x01\x01",                // empty user
        "user=a@b.fr\x01" "auth=Basic dXNlcjpwdw==\x01\x01",  // not a bearer token
        "user=a@b.fr\x01" "auth=Bearer\x01\x01",
        "user=a@b.fr\x01" "auth=Bearer \x01\x01",
        "user=a@b.fr\x01" "auth=Bearer to ken\x01\x01",
        "user=a@b.fr\x01" "auth=Bearer to=ken\x01\x01",
        "user=a@b.fr\x01" "auth=Bearer tok\"en\x01\x01",
        "user=a@b.fr\x01" "auth=Bearer tok\x01\x01\x01",
        "user=a@b.fr\x01user=c@d.fr\x01" "auth=Bearer tok\x01\x01",  // repeated key
        "user=a@b.fr\x01" "auth=Bearer tok\x01" "auth=Bearer other\x01\x01",
        "user=a@b.fr\r\n\x01" "auth=Bearer tok\x01\x01",             // control characters in the address
        "user=a@b.fr\x01" "auth=Bearer tok\x01" "x1=y\x01\x01",      // keys are letters only
        "user=a@b.fr\x01" "noequals\x01" "auth=Bearer tok\x01\x01",
        "user=a@b.fr\x01" "auth=Bearer tok\0\x01\x01"s,
        "user=" + std::string(256, 'u') + "\x01" "auth=Bearer tok\x01\x01",
    };
    for (const auto& message : malformed) EXPECT_FALSE(parseXoauth2(message)) << message;
}

TEST(SaslXoauth2, CapsTokenLength)
{
    const auto withToken = [](std::size_t length) { return "user=a@b.fr\x01" "auth=Bearer " + std::string(length, 't') + "\x01\x01"; };
    EXPECT_TRUE(parseXoauth2(withToken(maxTokenLength)));
    EXPECT_FALSE(parseXoauth2(withToken(maxTokenLength + 1)));
    EXPECT_FALSE(parseXoauth2(withToken(10 * 1024 * 1024)));
}

// ---- OAUTHBEARER (RFC 7628) -----------------------------------------------------

TEST(SaslOauthBearer, ParsesRfc7628Example)
{
    // RFC 7628 §4.1
    const auto credentials = parseOauthBearer("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                                              "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
    ASSERT_TRUE(credentials);
    EXPECT_EQ(credentials->user, "user@example.com");
    EXPECT_EQ(credentials->token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
}

TEST(SaslOauthBearer, AuthzidIsOptionalAndYFlagAccepted)
{
    const auto withoutAuthzid = parseOauthBearer("n,,\x01" "auth=Bearer tok\x01\x01");
    ASSERT_TRUE(withoutAuthzid);
    EXPECT_EQ(withoutAuthzid->user, "");
    EXPECT_EQ(withoutAuthzid->token, "tok");
    EXPECT_TRUE(parseOauthBearer("y,a=a@b.fr,\x01" "auth=Bearer tok\x01\x01"));
}

TEST(SaslOauthBearer, DecodesSaslNameEscapes)
{
    const auto credentials = parseOauthBearer("n,a=we=2Cird=3Dname@b.fr,\x01" "auth=Bearer tok\x01\x01");
    ASSERT_TRUE(credentials);
    EXPECT_EQ(credentials->user, "we,ird=name@b.fr");
}

TEST(SaslOauthBearer, RejectsMalformed)
{
    const std::vector<std::string> malformed = {
        "",
        "\x01",  // the client's answer to an error challenge is not a credential
        "n,,\x01\x01",
        "n,,\x01" "auth=Bearer tok\x01",
        "n,,auth=Bearer tok\x01\x01",
        "p=tls-unique,,\x01" "auth=Bearer tok\x01\x01",  // channel binding not offered
        "x,,\x01" "auth=Bearer tok\x01\x01",
        "F,n,,\x01" "auth=Bearer tok\x01\x01",
        "n,a=,\x01" "auth=Bearer tok\x01\x01",
        "n,a=a@b.fr\x01" "auth=Bearer tok\x01\x01",
        "n,b=a@b.fr,\x01" "auth=Bearer tok\x01\x01",
        "n,a=a,b@c.fr,\x01" "auth=Bearer tok\x01\x01",
        "n,a=a=2cb@c.fr,\x01" "auth=Bearer tok\x01\x01",
        "n,a=a=41b@c.fr,\x01" "auth=Bearer tok\x01\x01",
        "n,a=ab@c.fr=,\x01" "auth=Bearer tok\x01\x01",
        "n,a=ab@c.fr=2,\x01" "auth=Bearer tok\x01\x01",
        "n,,\x01" "host=h\x01port=143\x01\x01",
        "n,,\x01" "auth=Bearer tok\x01" "auth=Bearer tok\x01\x01",
        "n,,\x01" "h0st=h\x01" "auth=Bearer tok\x01\x01",
        "n,,\x01" "host=h\0\x01" "auth=Bearer tok\x01\x01"s,
        "n,,\x01" "auth=Bearer tok\x01\x01" "trailing",
        "n,a=" + std::string(256, 'u') + ",\x01" "auth=Bearer tok\x01\x01",
        "n,,\x01" "auth=Bearer " + std::string(maxTokenLength + 1, 't') + "\x01\x01",
    };
    for (const auto& message : malformed) EXPECT_FALSE(parseOauthBearer(message)) << message;
}

// ---- Failure challenge (RFC 7628 §3.2.2) ------------------------------------------

TEST(SaslChallenge, IsTheRfc7628ErrorJson)
{
    const auto json = oauthBearerFailureChallenge("invalid_token", "openid scope\"x", "https://psc.example/.well-known/openid-configuration");
    const auto object = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(object->getValue<std::string>("status"), "invalid_token");
    EXPECT_EQ(object->getValue<std::string>("scope"), "openid scope\"x");
    EXPECT_EQ(object->getValue<std::string>("openid-configuration"), "https://psc.example/.well-known/openid-configuration");
    EXPECT_EQ(object->size(), 3u);
}

TEST(SaslChallenge, LeavesOutEmptyFields)
{
    const auto object = Poco::JSON::Parser().parse(oauthBearerFailureChallenge("invalid_token", "")).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(object->getValue<std::string>("status"), "invalid_token");
    EXPECT_FALSE(object->has("scope"));
    EXPECT_FALSE(object->has("openid-configuration"));
}
