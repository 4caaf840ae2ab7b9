#include "smtp/SenderRateLimiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using plexus::smtp::SenderRateLimiter;
using namespace std::chrono_literals;

namespace {

const SenderRateLimiter::Clock::time_point kStart = SenderRateLimiter::Clock::time_point{} + 100h;

}  // namespace

TEST(SenderRateLimiterTest, RefusesBeyondTheLimitUntilTheWindowEnds)
{
    SenderRateLimiter limiter(1h);
    EXPECT_TRUE(limiter.admit("a@x.test", 2, kStart).allowed);
    EXPECT_TRUE(limiter.admit("a@x.test", 2, kStart + 10min).allowed);
    const auto refused = limiter.admit("a@x.test", 2, kStart + 20min);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retryAfter, 40min);
    EXPECT_FALSE(limiter.admit("a@x.test", 2, kStart + 59min).allowed);
    // A new window starts with the first recipient after the last one ended.
    EXPECT_TRUE(limiter.admit("a@x.test", 2, kStart + 61min).allowed);
    EXPECT_TRUE(limiter.admit("a@x.test", 2, kStart + 62min).allowed);
    EXPECT_EQ(limiter.admit("a@x.test", 2, kStart + 63min).retryAfter, 58min);
}

TEST(SenderRateLimiterTest, SendersAreCountedApartAndZeroIsNoLimit)
{
    SenderRateLimiter limiter(1h);
    EXPECT_TRUE(limiter.admit("a@x.test", 1, kStart).allowed);
    EXPECT_FALSE(limiter.admit("a@x.test", 1, kStart).allowed);
    EXPECT_TRUE(limiter.admit("b@x.test", 1, kStart).allowed);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.admit("c@x.test", 0, kStart).allowed);
}

TEST(SenderRateLimiterTest, ConcurrentSessionsShareOneCount)
{
    SenderRateLimiter limiter;
    std::atomic<unsigned> admitted{0};
    std::vector<std::jthread> sessions;
    for (int t = 0; t < 8; ++t)
        sessions.emplace_back([&] {
            for (int i = 0; i < 100; ++i)
                if (limiter.admit("lab@x.test", 250).allowed) ++admitted;
        });
    sessions.clear();  // joins
    EXPECT_EQ(admitted.load(), 250u);
}
