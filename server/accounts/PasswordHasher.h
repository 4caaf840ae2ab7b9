// Password hashing with scrypt (OpenSSL 3 EVP_KDF "SCRYPT").
//
// Encoded form, self-describing so that the cost can be raised later without
// invalidating stored hashes:
//     $scrypt$ln=<log2 N>,r=<r>,p=<p>$<base64 salt>$<base64 hash>
// (standard base64 with padding). New hashes use ln=14, r=8, p=1 (16 MiB, about
// 55 ms on the development machine), a 16-byte random salt and a 32-byte hash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plexus::accounts {

// Longer passwords are refused outright: hashing cost must not depend on
// attacker-chosen lengths.
inline constexpr std::size_t maxPasswordLength = 1024;

// Throws std::invalid_argument if the password is empty or longer than
// maxPasswordLength, std::runtime_error if OpenSSL fails.
std::string hashPassword(std::string_view password);

// True if `password` matches `encoded`. A malformed encoded form, parameters
// outside sane bounds or an over-long password give false, never an exception:
// stored data must not turn a login into a server error. Never logs. Throws
// std::runtime_error only if OpenSSL itself fails (no SCRYPT KDF).
bool verifyPassword(std::string_view password, std::string_view encoded);

}  // namespace plexus::accounts
