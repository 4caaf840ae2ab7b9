#include "plugins/PluginLibrary.h"

#include <dlfcn.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <utility>

namespace plexus::plugins {

namespace {

constexpr std::array<std::pair<std::uint64_t, const char*>, 10> kCapabilities{{
    {PLEXUS_CAP_SMTP_HOOKS, "smtp_hooks"},
    {PLEXUS_CAP_MESSAGE_HOOK, "message_hook"},
    {PLEXUS_CAP_AUTH_HOOK, "auth_hook"},
    {PLEXUS_CAP_EVENTS, "events"},
    {PLEXUS_CAP_TIMERS, "timers"},
    {PLEXUS_CAP_HTTP, "http"},
    {PLEXUS_CAP_MESSAGE_READ, "message_read"},
    {PLEXUS_CAP_SUBMIT, "submit"},
    {PLEXUS_CAP_MAILBOX_ADMIN, "mailbox_admin"},
    {PLEXUS_CAP_DIRECTORY, "directory"},
}};

std::uint64_t knownCapabilities()
{
    std::uint64_t all = 0;
    for (const auto& [bit, name] : kCapabilities) all |= bit;
    return all;
}

}  // namespace

bool isValidPluginName(std::string_view name)
{
    if (name.empty() || name.size() > 32) return false;
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

std::string capabilityNames(std::uint64_t capabilities)
{
    std::string names;
    for (const auto& [bit, name] : kCapabilities) {
        if (!(capabilities & bit)) continue;
        if (!names.empty()) names += ',';
        names += name;
    }
    return names;
}

std::string hostAbiVersion() { return std::to_string(PLEXUS_ABI_MAJOR) + "." + std::to_string(PLEXUS_ABI_MINOR); }

void PluginLibrary::Closer::operator()(void* handle) const { dlclose(handle); }

std::string PluginLibrary::abiVersion() const
{
    return std::to_string(descriptor_->abi_major) + "." + std::to_string(descriptor_->abi_minor);
}

PluginLibrary PluginLibrary::open(const std::string& path)
{
    if (!std::filesystem::is_regular_file(path)) throw PluginError("plugin " + path + " does not exist");
    std::unique_ptr<void, Closer> handle(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
    if (!handle) throw PluginError("cannot load plugin " + path + ": " + dlerror());
    void* symbol = dlsym(handle.get(), PLEXUS_PLUGIN_ENTRY_SYMBOL);
    if (!symbol)
        throw PluginError(path + " is not a Plexus plugin: it does not export " PLEXUS_PLUGIN_ENTRY_SYMBOL "()");
    const auto entry = reinterpret_cast<plexus_plugin_entry_fn>(symbol);
    const plexus_plugin_descriptor* descriptor = entry();
    if (!descriptor) throw PluginError("plugin " + path + " returned no descriptor");
    // The version fields come first and never move, so they can be read before the size is trusted.
    if (descriptor->struct_size < offsetof(plexus_plugin_descriptor, abi_minor) + sizeof(descriptor->abi_minor))
        throw PluginError("plugin " + path + " has a malformed descriptor");
    const std::string pluginAbi = std::to_string(descriptor->abi_major) + "." + std::to_string(descriptor->abi_minor);
    if (descriptor->abi_major != PLEXUS_ABI_MAJOR)
        throw PluginError("plugin " + path + " was built for plugin ABI " + pluginAbi + "; this plexusd provides ABI " +
                          hostAbiVersion() + " (the major versions must match: rebuild the plugin with this SDK)");
    if (descriptor->abi_minor > PLEXUS_ABI_MINOR)
        throw PluginError("plugin " + path + " needs plugin ABI " + pluginAbi + "; this plexusd provides ABI " +
                          hostAbiVersion() + " (upgrade plexusd or use an older build of the plugin)");
    if (descriptor->struct_size < sizeof(plexus_plugin_descriptor))
        throw PluginError("plugin " + path + " has a descriptor of " + std::to_string(descriptor->struct_size) +
                          " bytes, smaller than ABI " + pluginAbi + "'s");
    if (!descriptor->name || !isValidPluginName(descriptor->name))
        throw PluginError("plugin " + path + " has an invalid name (expected 1 to 32 of a-z, 0-9, '-')");
    if (!descriptor->init || !descriptor->shutdown)
        throw PluginError("plugin " + path + " lacks its init or shutdown function");
    if (descriptor->capabilities & ~knownCapabilities())
        throw PluginError("plugin " + path + " declares capabilities unknown to ABI " + hostAbiVersion());
    return PluginLibrary(std::move(handle), descriptor, path);
}

}  // namespace plexus::plugins
