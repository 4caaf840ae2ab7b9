// PLACEHOLDER (replaced by the wt-cli branch)
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>
namespace plexus::plugins {
struct PluginSettings {
    std::string name;
    std::string path;
    std::chrono::milliseconds deadline{5000};
    int eventMaxAttempts = 10;
    std::optional<std::string> submitAs;
    std::map<std::string, std::string> values;
};
}
