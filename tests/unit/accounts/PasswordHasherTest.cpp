#include "accounts/PasswordHasher.h"
#include "accounts/Sasl.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace plexus::accounts;

namespace {

// The encoded form split at '$': "", "scrypt", parameters, salt, hash.
std::vector<std::string> fieldsOf(const std::string& encoded)
{
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (auto end = encoded.find('$'); end != std::string::npos; end = encoded.find('$', start)) {
        fields.push_back(encoded.substr(start, end - start));
        start = end + 1;
    }
    fields.push_back(encoded.substr(start));
    return fields;
}

std::string join(const std::vector<std::string>& fields)
{
    std::string joined = fields.front();
    for (std::size_t i = 1; i < fields.size(); ++i) joined += "$" + fields[i];
    return joined;
}

// Flips one bit of the decoded bytes of field `index`.
std::string withFlippedBit(const std::string& encoded, std::size_t index)
{
    auto fields = fieldsOf(encoded);
    auto bytes = decodeBase64(fields.at(index)).value();
    bytes[0] = static_cast<char>(bytes[0] ^ 1);
    fields[index] = encodeBase64(bytes);
    return join(fields);
}

std::string fromHex(std::string_view hex)
{
    std::string bytes;
    for (std::size_t i = 0; i < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return bytes;
}

}  // namespace

TEST(PasswordHasher, RoundTrip)
{
    const auto encoded = hashPassword("correct horse battery staple");
    EXPECT_TRUE(encoded.starts_with("$scrypt$ln=14,r=8,p=1$")) << encoded;
    EXPECT_EQ(fieldsOf(encoded).size(), 5u);
    EXPECT_TRUE(verifyPassword("correct horse battery staple", encoded));
}

TEST(PasswordHasher, WrongPasswordFails)
{
    const auto encoded = hashPassword("secret-1");
    EXPECT_FALSE(verifyPassword("secret-2", encoded));
    EXPECT_FALSE(verifyPassword("Secret-1", encoded));
    EXPECT_FALSE(verifyPassword("secret-1 ", encoded));
    EXPECT_FALSE(verifyPassword("", encoded));
}

TEST(PasswordHasher, SamePasswordHashesDifferently)
{
    const auto first = hashPassword("same");
    const auto second = hashPassword("same");
    EXPECT_NE(first, second);
    EXPECT_NE(fieldsOf(first)[3], fieldsOf(second)[3]) << "salts must differ";
    EXPECT_TRUE(verifyPassword("same", first));
    EXPECT_TRUE(verifyPassword("same", second));
}

TEST(PasswordHasher, TamperedHashSaltOrCostFails)
{
    const auto encoded = hashPassword("tamper me");
    EXPECT_FALSE(verifyPassword("tamper me", withFlippedBit(encoded, 4))) << "hash";
    EXPECT_FALSE(verifyPassword("tamper me", withFlippedBit(encoded, 3))) << "salt";
    auto fields = fieldsOf(encoded);
    fields[2] = "ln=13,r=8,p=1";
    EXPECT_FALSE(verifyPassword("tamper me", join(fields))) << "cost";
}

// RFC 7914 §12, fourth vector: the parameters are read from the encoded form.
TEST(PasswordHasher, VerifiesRfc7914TestVector)
{
    const std::string hash = fromHex(
        "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
        "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
    const std::string encoded = "$scrypt$ln=14,r=8,p=1$" + encodeBase64("SodiumChloride") + "$" + encodeBase64(hash);
    EXPECT_TRUE(verifyPassword("pleaseletmein", encoded));
    EXPECT_FALSE(verifyPassword("pleaseletmeout", encoded));
}

TEST(PasswordHasher, MalformedEncodedFormsFailWithoutThrowing)
{
    const auto good = hashPassword("pw");
    const auto fields = fieldsOf(good);
    const auto salt = fields[3];
    const auto hash = fields[4];
    const std::vector<std::string> malformed = {
        "",
        "pw",
        "$scrypt$",
        "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + hash,
        "$scrypt$ln=14,r=8,p=1$" + salt,
        "$scrypt$ln=14,r=8,p=1$" + salt + "$",
        "$scrypt$ln=14,r=8,p=1$$" + hash,
        "$scrypt$ln=14,r=8,p=1$" + salt + "$" + hash + "$",
        "$scrypt$ln=14,r=8,p=1$" + salt + "$" + hash + "x",
        "$scrypt$ln=14,r=8$" + salt + "$" + hash,
        "$scrypt$r=8,ln=14,p=1$" + salt + "$" + hash,
        "$scrypt$ln=14,r=8,p=1,x=2$" + salt + "$" + hash,
        "$scrypt$ln=,r=8,p=1$" + salt + "$" + hash,
        "$scrypt$ln=-1,r=8,p=1$" + salt + "$" + hash,
        "$scrypt$ln=+14,r=8,p=1$" + salt + "$" + hash,
        "$scrypt$ln=99,r=8,p=1$" + salt + "$" + hash,
        "$scrypt$ln=99999999999999999999,r=8,p=1$" + salt + "$" + hash,
        "$scrypt$ln=14,r=0,p=1$" + salt + "$" + hash,
        "$scrypt$ln=14,r=8,p=0$" + salt + "$" + hash,
        "$scrypt$ln=20,r=32,p=1$" + salt + "$" + hash,  // 4 GiB: over the memory bound
        "$scrypt$ln=14,r=8,p=1$" + salt + "!$" + hash,
        "$scrypt$ln=14,r=8,p=1$" + salt + "$" + hash.substr(1),
        "$scrypt$ln=14,r=8,p=1$" + encodeBase64("short") + "$" + hash,
        "$scrypt$ln=14,r=8,p=1$" + salt + "$" + encodeBase64("too short hash"),
        "$scrypt$ln=14,r=8,p=1$" + salt + "$" + encodeBase64(std::string(65, 'h')),
        "$SCRYPT$ln=14,r=8,p=1$" + salt + "$" + hash,
        std::string(good).insert(10, 1, '\0'),
    };
    for (const auto& encoded : malformed) {
        bool verified = true;
        EXPECT_NO_THROW(verified = verifyPassword("pw", encoded)) << encoded;
        EXPECT_FALSE(verified) << encoded;
    }
    EXPECT_TRUE(verifyPassword("pw", good));
}

TEST(PasswordHasher, PasswordLengthIsCapped)
{
    const std::string longest(maxPasswordLength, 'a');
    const auto encoded = hashPassword(longest);
    EXPECT_TRUE(verifyPassword(longest, encoded));
    const std::string tooLong(maxPasswordLength + 1, 'a');
    EXPECT_THROW(hashPassword(tooLong), std::invalid_argument);
    EXPECT_FALSE(verifyPassword(tooLong, encoded));
    EXPECT_THROW(hashPassword(""), std::invalid_argument);
}

TEST(PasswordHasher, BinaryPasswordsWork)
{
    const std::string password("a\0b\xff", 4);
    const auto encoded = hashPassword(password);
    EXPECT_TRUE(verifyPassword(password, encoded));
    EXPECT_FALSE(verifyPassword("a", encoded));
}

// Prints the cost of one hash; fails if the cost parameters became trivially weak
// or absurdly slow.
TEST(PasswordHasher, TimingFigure)
{
    constexpr int rounds = 3;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) hashPassword("timing");
    const auto perHash = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start) / rounds;
    std::cout << "[ timing   ] scrypt ln=14 r=8 p=1: " << perHash.count() << " ms per hash\n";
    RecordProperty("hash_ms", static_cast<int>(perHash.count()));
    EXPECT_GT(perHash.count(), 5.0);
    EXPECT_LT(perHash.count(), 5000.0);
}
