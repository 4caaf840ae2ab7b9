#include "plugins/PluginTimers.h"

#include <Poco/Logger.h>

#include <stdexcept>

namespace plexus::plugins {

PluginTimers::~PluginTimers()
{
    stop();
}

void PluginTimers::add(std::string plugin, std::chrono::milliseconds interval, std::function<void()> tick)
{
    if (!threads_.empty()) throw std::logic_error("timers are added before start()");
    if (interval < kMinInterval) {
        throw std::invalid_argument("plugin " + plugin + ": a timer interval must be at least " +
                                    std::to_string(kMinInterval.count()) + " ms");
    }
    auto& failures = metrics::Registry::instance().counter(
        "plexus_plugin_timer_failures_total", "Plugin timer ticks that failed (threw)", "plugin=\"" + plugin + "\"");
    timers_.push_back({std::move(plugin), interval, std::move(tick), &failures});
}

void PluginTimers::start()
{
    if (!threads_.empty()) throw std::logic_error("timers started twice");
    for (const auto& timer : timers_) {
        threads_.emplace_back([this, &timer](std::stop_token stop) { run(timer, std::move(stop)); });
    }
}

void PluginTimers::stop()
{
    for (auto& thread : threads_) thread.request_stop();
    threads_.clear();  // joins
}

void PluginTimers::run(const Timer& timer, std::stop_token stop)
{
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, stop, timer.interval, [] { return false; });  // only stop ends it early
        }
        if (stop.stop_requested()) return;
        std::string error;
        try {
            timer.tick();
            continue;
        } catch (const std::exception& e) {
            error = e.what();
        } catch (...) {
            error = "an exception of unknown type";
        }
        timer.failures->add();
        Poco::Logger::get("plugins.timers").error("plugin %s: timer tick failed: %s", timer.plugin, error);
    }
}

}  // namespace plexus::plugins
