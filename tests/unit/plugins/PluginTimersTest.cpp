#include "plugins/PluginTimers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace plexus;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// When each tick started and ended, for a test to wait on and inspect.
class TickLog {
public:
    void started()
    {
        std::lock_guard lock(mutex_);
        starts_.push_back(Clock::now());
    }
    void ended()
    {
        {
            std::lock_guard lock(mutex_);
            ends_.push_back(Clock::now());
        }
        changed_.notify_all();
    }
    // True when `n` ticks have ended within `timeout`.
    bool waitForEnds(std::size_t n, std::chrono::milliseconds timeout = 5s)
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return ends_.size() >= n; });
    }
    std::vector<Clock::time_point> starts() const
    {
        std::lock_guard lock(mutex_);
        return starts_;
    }
    std::vector<Clock::time_point> ends() const
    {
        std::lock_guard lock(mutex_);
        return ends_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Clock::time_point> starts_, ends_;
};

std::uint64_t failures(const std::string& plugin)
{
    return metrics::Registry::instance()
        .counter("plexus_plugin_timer_failures_total", "", "plugin=\"" + plugin + "\"")
        .value();
}

}  // namespace

TEST(PluginTimersTest, RefusesAnIntervalBelow100Ms)
{
    plugins::PluginTimers timers;
    EXPECT_THROW(timers.add("fast", 99ms, [] {}), std::invalid_argument);
    EXPECT_NO_THROW(timers.add("fast", 100ms, [] {}));
}

TEST(PluginTimersTest, TicksAboutEveryIntervalFirstOneIntervalAfterStart)
{
    TickLog log;
    plugins::PluginTimers timers;
    timers.add("steady", 100ms, [&] {
        log.started();
        log.ended();
    });
    const auto start = Clock::now();
    timers.start();
    ASSERT_TRUE(log.waitForEnds(3));
    timers.stop();

    const auto starts = log.starts();
    EXPECT_GE(starts[0] - start, 100ms);
    for (std::size_t i = 1; i < starts.size(); ++i) EXPECT_GE(starts[i] - starts[i - 1], 100ms);
    // Loose upper bound: a loaded machine may be late, but not by ten intervals.
    EXPECT_LT(starts[2] - start, 1500ms);
}

// Fixed delay: a slow tick pushes the next one back instead of overlapping it.
TEST(PluginTimersTest, ASlowTickNeverOverlapsTheNext)
{
    TickLog log;
    std::atomic<int> running{0};
    std::atomic<bool> overlapped{false};
    plugins::PluginTimers timers;
    timers.add("slow", 100ms, [&] {
        log.started();
        if (++running > 1) overlapped = true;
        std::this_thread::sleep_for(250ms);
        --running;
        log.ended();
    });
    timers.start();
    ASSERT_TRUE(log.waitForEnds(3));
    timers.stop();

    EXPECT_FALSE(overlapped);
    const auto starts = log.starts();
    const auto ends = log.ends();
    for (std::size_t i = 1; i < starts.size(); ++i) EXPECT_GE(starts[i] - ends[i - 1], 100ms);
}

TEST(PluginTimersTest, AFailingTickIsCountedAndTheTimerGoesOn)
{
    TickLog log;
    const auto before = failures("throwing");
    plugins::PluginTimers timers;
    timers.add("throwing", 100ms, [&] {
        log.started();
        log.ended();
        throw std::runtime_error("repository down");
    });
    timers.start();
    ASSERT_TRUE(log.waitForEnds(3));
    timers.stop();
    EXPECT_GE(failures("throwing") - before, 3u);
}

TEST(PluginTimersTest, StopIsPromptDuringALongInterval)
{
    std::atomic<int> ticks{0};
    plugins::PluginTimers timers;
    timers.add("hourly", 1h, [&] { ++ticks; });
    timers.add("minutely", 1min, [&] { ++ticks; });
    timers.start();
    std::this_thread::sleep_for(50ms);  // the threads are waiting
    const auto start = Clock::now();
    timers.stop();
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_EQ(ticks, 0);
}

TEST(PluginTimersTest, StopLetsATickInProgressFinish)
{
    std::promise<void> underWay;
    std::atomic<bool> finished{false};
    plugins::PluginTimers timers;
    timers.add("busy", 1h, [] {});  // stopped while waiting, alongside
    timers.add("busy", 100ms, [&] {
        if (finished) return;
        underWay.set_value();
        std::this_thread::sleep_for(300ms);
        finished = true;
    });
    timers.start();
    ASSERT_EQ(underWay.get_future().wait_for(5s), std::future_status::ready);
    timers.stop();
    EXPECT_TRUE(finished);
}

TEST(PluginTimersTest, DestructorStops)
{
    std::atomic<int> ticks{0};
    {
        plugins::PluginTimers timers;
        timers.add("scoped", 1h, [&] { ++ticks; });
        timers.start();
    }
    EXPECT_EQ(ticks, 0);
}
