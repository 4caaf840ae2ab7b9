// Plugins' timers: each calls its tick every interval, on a thread of its
// own, fixed-delay (the next tick comes one interval after the previous one
// ended), so a tick never runs concurrently with itself.
#pragma once

#include "metrics/Metrics.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plexus::plugins {

class PluginTimers {
public:
    static constexpr std::chrono::milliseconds kMinInterval{100};

    PluginTimers() = default;
    ~PluginTimers();  // stop()
    PluginTimers(const PluginTimers&) = delete;
    PluginTimers& operator=(const PluginTimers&) = delete;

    // Before start(). `interval` at least kMinInterval (std::invalid_argument
    // otherwise). A tick reports a failure by throwing: the exception is
    // logged and counted (plexus_plugin_timer_failures_total{plugin}) and the
    // timer goes on.
    void add(std::string plugin, std::chrono::milliseconds interval, std::function<void()> tick);
    // The first tick comes one interval after start(). Again after stop(), the timers start over.
    void start();
    // Wakes every timer at once and joins it; a tick in progress finishes first.
    void stop();

private:
    struct Timer {
        std::string plugin;
        std::chrono::milliseconds interval;
        std::function<void()> tick;
        metrics::Counter* failures;
    };
    void run(const Timer& timer, std::stop_token stop);

    std::vector<Timer> timers_;
    // Only for sleeping between ticks: stop() interrupts the wait through the stop token.
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::vector<std::jthread> threads_;
};

}  // namespace plexus::plugins
