// PLACEHOLDER (replaced by the wt-events branch)
#pragma once
#include <chrono>
#include <functional>
#include <string>
namespace plexus::plugins {
class PluginTimers {
public:
    ~PluginTimers();
    void add(std::string plugin, std::chrono::milliseconds interval, std::function<void()> tick);
    void start(); void stop();
};
}
