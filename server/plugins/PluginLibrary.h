// A plugin's shared library, open for the life of the object, and the checks
// made before anything of it runs: it exports plexus_plugin_entry, its
// descriptor is well formed, and it was built for this host's ABI.
#pragma once

#include <plexus/plugin.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::plugins {

class PluginError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// [a-z0-9-]{1,32}: used in config sections, URLs, metric names and storage keys.
bool isValidPluginName(std::string_view name);
// "smtp_hooks,message_hook,..." for PLEXUS_CAP_* bits.
std::string capabilityNames(std::uint64_t capabilities);
std::string hostAbiVersion();

class PluginLibrary {
public:
    // Loads the library (RTLD_NOW: unresolved symbols fail here, not later) and
    // checks it; PluginError says what is wrong, naming the file.
    static PluginLibrary open(const std::string& path);

    const plexus_plugin_descriptor& descriptor() const { return *descriptor_; }
    const std::string& path() const { return path_; }
    std::string abiVersion() const;  // the plugin's, "major.minor"

private:
    struct Closer {
        void operator()(void* handle) const;
    };
    PluginLibrary(std::unique_ptr<void, Closer> handle, const plexus_plugin_descriptor* descriptor, std::string path)
        : handle_(std::move(handle)), descriptor_(descriptor), path_(std::move(path))
    {
    }

    std::unique_ptr<void, Closer> handle_;
    const plexus_plugin_descriptor* descriptor_;
    std::string path_;
};

}  // namespace plexus::plugins
