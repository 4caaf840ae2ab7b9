#include "accounts/VerifiedPasswordCache.h"

#include <gtest/gtest.h>

using plexus::accounts::VerifiedPasswordCache;
using namespace std::chrono_literals;

TEST(VerifiedPasswordCache, RemembersOnlyTheExactHashAndPassword)
{
    VerifiedPasswordCache cache(600s);
    const auto t0 = VerifiedPasswordCache::Clock::now();
    EXPECT_FALSE(cache.contains("$scrypt$hash1", "secret", t0));
    cache.remember("$scrypt$hash1", "secret", t0);
    EXPECT_TRUE(cache.contains("$scrypt$hash1", "secret", t0 + 1s));
    EXPECT_FALSE(cache.contains("$scrypt$hash1", "Secret", t0 + 1s));
    // A new password means a new stored hash: the old entry no longer matches.
    EXPECT_FALSE(cache.contains("$scrypt$hash2", "secret", t0 + 1s));
    // The separator keeps (hash, password) pairs apart.
    EXPECT_FALSE(cache.contains("$scrypt$hash1secret", "", t0 + 1s));
}

TEST(VerifiedPasswordCache, EntriesExpire)
{
    VerifiedPasswordCache cache(60s);
    const auto t0 = VerifiedPasswordCache::Clock::now();
    cache.remember("h", "p", t0);
    EXPECT_TRUE(cache.contains("h", "p", t0 + 59s));
    EXPECT_FALSE(cache.contains("h", "p", t0 + 61s));
}

TEST(VerifiedPasswordCache, StaysWithinCapacityDroppingTheOldest)
{
    VerifiedPasswordCache cache(600s, 3);
    const auto t0 = VerifiedPasswordCache::Clock::now();
    for (int i = 0; i < 5; ++i) cache.remember("h", "p" + std::to_string(i), t0 + std::chrono::seconds(i));
    EXPECT_FALSE(cache.contains("h", "p0", t0 + 5s));
    EXPECT_FALSE(cache.contains("h", "p1", t0 + 5s));
    EXPECT_TRUE(cache.contains("h", "p2", t0 + 5s));
    EXPECT_TRUE(cache.contains("h", "p4", t0 + 5s));
}
