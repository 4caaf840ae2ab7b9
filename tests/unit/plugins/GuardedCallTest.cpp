#include "plugins/GuardedCall.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using namespace plexus::plugins;
using namespace std::chrono_literals;

namespace {

void waitUntilZero(const std::atomic<int>& running)
{
    for (int i = 0; i < 500 && running.load() > 0; ++i) std::this_thread::sleep_for(10ms);
}

}  // namespace

TEST(GuardedCallTest, InlineCallReportsStatusErrorTextAndExceptions)
{
    EXPECT_TRUE(callInline([] { return PLEXUS_OK; }).ok());

    const auto error = callInline([] {
        setPluginError("registry unreachable");
        return PLEXUS_ERR_TEMPORARY;
    });
    EXPECT_EQ(error.outcome, CallResult::Outcome::Error);
    EXPECT_EQ(error.status, PLEXUS_ERR_TEMPORARY);
    EXPECT_EQ(error.error, "registry unreachable");
    EXPECT_EQ(error.describe(), "error 6: registry unreachable");

    const auto thrown = callInline([]() -> plexus_status { throw std::runtime_error("bad CDA"); });
    EXPECT_EQ(thrown.outcome, CallResult::Outcome::Exception);
    EXPECT_EQ(thrown.status, PLEXUS_ERR_INTERNAL);
    EXPECT_EQ(thrown.error, "bad CDA");

    const auto unknown = callInline([]() -> plexus_status { throw 42; });
    EXPECT_EQ(unknown.outcome, CallResult::Outcome::Exception);
    EXPECT_EQ(unknown.error, "unknown exception");
}

TEST(GuardedCallTest, AnErrorTextDoesNotLeakIntoTheNextCall)
{
    callInline([] {
        setPluginError("first");
        return PLEXUS_OK;
    });
    EXPECT_EQ(callInline([] { return PLEXUS_ERR_INTERNAL; }).error, "");
}

TEST(GuardedCallTest, DeadlineCallReturnsTheResultOfAQuickCall)
{
    DeadlineCalls calls;
    std::atomic<int> running{0};
    const auto result = calls.call(running, 1000ms, [] {
        setPluginError("said on the pool thread");
        return PLEXUS_ERR_DENIED;
    });
    EXPECT_EQ(result.outcome, CallResult::Outcome::Error);
    EXPECT_EQ(result.status, PLEXUS_ERR_DENIED);
    EXPECT_EQ(result.error, "said on the pool thread");
    waitUntilZero(running);
    EXPECT_EQ(running.load(), 0);
}

TEST(GuardedCallTest, AnOverrunIsATimeoutAndTheLateCallFinishesInTheBackground)
{
    DeadlineCalls calls;
    std::atomic<int> running{0};
    auto finished = std::make_shared<std::atomic<bool>>(false);
    const auto started = std::chrono::steady_clock::now();
    const auto result = calls.call(running, 50ms, [finished] {
        std::this_thread::sleep_for(300ms);
        finished->store(true);
        return PLEXUS_OK;
    });
    EXPECT_EQ(result.outcome, CallResult::Outcome::Timeout);
    EXPECT_EQ(result.status, PLEXUS_ERR_TEMPORARY);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 250ms);  // not waited for
    EXPECT_EQ(running.load(), 1);
    waitUntilZero(running);
    EXPECT_TRUE(finished->load());
}

TEST(GuardedCallTest, ExceptionsOnThePoolThreadAreCaught)
{
    DeadlineCalls calls;
    std::atomic<int> running{0};
    const auto result = calls.call(running, 1000ms, []() -> plexus_status { throw std::logic_error("oops"); });
    EXPECT_EQ(result.outcome, CallResult::Outcome::Exception);
    EXPECT_EQ(result.error, "oops");
    waitUntilZero(running);
}

TEST(GuardedCallTest, AStuckPluginCannotTakeEveryThread)
{
    DeadlineCalls calls(16, 2);
    std::atomic<int> stuck{0};
    std::atomic<bool> release{false};
    const auto hang = [&release] {
        while (!release.load()) std::this_thread::sleep_for(5ms);
        return PLEXUS_OK;
    };
    EXPECT_EQ(calls.call(stuck, 20ms, hang).outcome, CallResult::Outcome::Timeout);
    EXPECT_EQ(calls.call(stuck, 20ms, hang).outcome, CallResult::Outcome::Timeout);
    EXPECT_EQ(calls.call(stuck, 20ms, hang).outcome, CallResult::Outcome::Busy);  // refused at once
    std::atomic<int> other{0};
    EXPECT_TRUE(calls.call(other, 1000ms, [] { return PLEXUS_OK; }).ok());  // other plugins are served
    release = true;
    waitUntilZero(stuck);
    EXPECT_EQ(stuck.load(), 0);
}
