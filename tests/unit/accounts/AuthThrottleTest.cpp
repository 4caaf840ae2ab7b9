#include "accounts/AuthThrottle.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using namespace plexus::accounts;
using namespace std::chrono_literals;
using Clock = AuthThrottle::Clock;

namespace {

const Clock::time_point t0 = Clock::time_point{} + 24h;

ThrottlePolicy smallPolicy()
{
    ThrottlePolicy policy;
    policy.maxFailuresPerIp = 5;
    policy.maxFailuresPerAccount = 3;
    policy.window = 300s;
    policy.lockout = 600s;
    return policy;
}

std::string ip(int n) { return "192.0.2." + std::to_string(n); }
std::string account(int n) { return "user" + std::to_string(n) + "@hopital.mssante.fr"; }

}  // namespace

TEST(AuthThrottle, LocksAccountAfterMaxFailures)
{
    AuthThrottle throttle(smallPolicy());
    // Different addresses, so that only the account's counter can trip.
    throttle.recordFailure(ip(1), account(1), t0);
    throttle.recordFailure(ip(2), account(1), t0 + 1s);
    EXPECT_FALSE(throttle.isBlocked(ip(3), account(1), t0 + 2s));
    throttle.recordFailure(ip(3), account(1), t0 + 2s);
    EXPECT_TRUE(throttle.isBlocked(ip(4), account(1), t0 + 3s));
    EXPECT_FALSE(throttle.isBlocked(ip(4), account(2), t0 + 3s));
}

TEST(AuthThrottle, LockoutEnds)
{
    AuthThrottle throttle(smallPolicy());
    for (int i = 0; i < 3; ++i) throttle.recordFailure(ip(i), account(1), t0);
    EXPECT_TRUE(throttle.isBlocked(ip(9), account(1), t0 + 599s));
    EXPECT_FALSE(throttle.isBlocked(ip(9), account(1), t0 + 600s));
    // The counter starts afresh after a lockout.
    throttle.recordFailure(ip(9), account(1), t0 + 601s);
    EXPECT_FALSE(throttle.isBlocked(ip(9), account(1), t0 + 602s));
}

TEST(AuthThrottle, FailuresLeaveTheWindow)
{
    AuthThrottle throttle(smallPolicy());
    throttle.recordFailure(ip(1), account(1), t0);
    throttle.recordFailure(ip(1), account(1), t0 + 200s);
    throttle.recordFailure(ip(1), account(1), t0 + 301s);  // the first one has left the window
    EXPECT_FALSE(throttle.isBlocked(ip(1), account(1), t0 + 301s));
    throttle.recordFailure(ip(1), account(1), t0 + 302s);  // three within 300 s
    EXPECT_TRUE(throttle.isBlocked(ip(1), account(1), t0 + 302s));
}

TEST(AuthThrottle, SuccessClearsAccountButNotAddress)
{
    AuthThrottle throttle(smallPolicy());
    throttle.recordFailure(ip(1), account(1), t0);
    throttle.recordFailure(ip(1), account(1), t0 + 1s);
    throttle.recordSuccess(ip(1), account(1), t0 + 2s);
    throttle.recordFailure(ip(1), account(1), t0 + 3s);
    throttle.recordFailure(ip(1), account(1), t0 + 4s);
    EXPECT_FALSE(throttle.isBlocked(ip(2), account(1), t0 + 5s)) << "account counter was cleared";
    throttle.recordFailure(ip(1), account(2), t0 + 5s);  // fifth failure from ip(1)
    EXPECT_TRUE(throttle.isBlocked(ip(1), account(3), t0 + 6s)) << "address counter was kept";
}

TEST(AuthThrottle, AddressCountedAcrossAccounts)
{
    AuthThrottle throttle(smallPolicy());
    for (int i = 0; i < 4; ++i) throttle.recordFailure(ip(1), account(i), t0);
    EXPECT_FALSE(throttle.isBlocked(ip(1), account(100), t0));
    throttle.recordFailure(ip(1), account(4), t0);
    EXPECT_TRUE(throttle.isBlocked(ip(1), account(100), t0 + 1s));
    EXPECT_FALSE(throttle.isBlocked(ip(2), account(100), t0 + 1s));
    EXPECT_FALSE(throttle.isBlocked(ip(2), account(0), t0 + 1s));
}

TEST(AuthThrottle, EmptyKeysAreNotCounted)
{
    AuthThrottle throttle(smallPolicy());
    for (int i = 0; i < 10; ++i) throttle.recordFailure("", "", t0);
    EXPECT_EQ(throttle.trackedAddresses(), 0u);
    EXPECT_EQ(throttle.trackedAccounts(), 0u);
    EXPECT_FALSE(throttle.isBlocked("", "", t0));
}

TEST(AuthThrottle, MemoryIsBoundedByEvictingTheOldest)
{
    auto policy = smallPolicy();
    policy.maxTrackedKeys = 100;
    policy.maxFailuresPerIp = 1;
    AuthThrottle throttle(policy);
    throttle.recordFailure(ip(0), "", t0);
    EXPECT_TRUE(throttle.isBlocked(ip(0), "", t0));
    for (int i = 1; i <= 1000; ++i) throttle.recordFailure("198.51.100." + std::to_string(i), account(i), t0 + 1s);
    EXPECT_EQ(throttle.trackedAddresses(), 100u);
    EXPECT_EQ(throttle.trackedAccounts(), 100u);
    EXPECT_FALSE(throttle.isBlocked(ip(0), "", t0 + 2s)) << "the oldest key was evicted";
    EXPECT_TRUE(throttle.isBlocked("198.51.100.1000", "", t0 + 2s)) << "recent keys are kept";
}

TEST(AuthThrottle, RecentFailureKeepsAKeyFromEviction)
{
    auto policy = smallPolicy();
    policy.maxTrackedKeys = 3;
    AuthThrottle throttle(policy);
    throttle.recordFailure(ip(1), "", t0);
    throttle.recordFailure(ip(2), "", t0);
    throttle.recordFailure(ip(3), "", t0);
    throttle.recordFailure(ip(1), "", t0 + 1s);  // ip(1) is now the youngest
    throttle.recordFailure(ip(4), "", t0 + 2s);  // evicts ip(2)
    for (int i = 0; i < 3; ++i) throttle.recordFailure(ip(1), "", t0 + 3s);
    EXPECT_TRUE(throttle.isBlocked(ip(1), "", t0 + 3s)) << "ip(1) kept its earlier failures";
    EXPECT_EQ(throttle.trackedAddresses(), 3u);
}

TEST(AuthThrottle, ConcurrentFailuresAreAllCounted)
{
    auto policy = smallPolicy();
    policy.maxFailuresPerIp = 4 * 250;
    policy.maxFailuresPerAccount = 1000000;
    AuthThrottle throttle(policy);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 250; ++i) {
                throttle.recordFailure(ip(1), account(t * 1000 + i), t0);
                (void)throttle.isBlocked(ip(1), account(i), t0);
            }
        });
    for (auto& thread : threads) thread.join();
    EXPECT_TRUE(throttle.isBlocked(ip(1), "", t0)) << "exactly 1000 failures reach the limit";
    EXPECT_EQ(throttle.trackedAccounts(), 1000u);
}

TEST(AuthThrottle, RefusesZeroLimits)
{
    auto policy = smallPolicy();
    policy.maxFailuresPerAccount = 0;
    EXPECT_THROW(AuthThrottle{policy}, std::invalid_argument);
}
