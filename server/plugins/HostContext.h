// The host's side of one loaded plugin: what the plexus_host* handed to it
// points to, with what it registered and its call counters. Internal to the
// plugin host (plugins/*.cpp).
#pragma once

#include "plugins/EventConsumers.h"
#include "plugins/MessageEdit.h"
#include "plugins/PluginMessage.h"
#include "plugins/PluginHost.h"
#include "plugins/PluginLibrary.h"
#include "plugins/PluginSettings.h"

#include <plexus/plugin.h>

#include <Poco/Logger.h>

#include <atomic>
#include <memory>
#include <optional>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace plexus::plugins {

template <typename Function>
struct Registered {
    Function function;
    void* user;
};

struct TimerRegistration {
    std::chrono::milliseconds interval;
    plexus_timer_callback callback;
    void* user;
};

struct RouteRegistration {
    std::string method;  // "*" for any
    std::string path;    // without the final '*' when `prefix`
    bool prefix;
    plexus_http_handler handler;
    void* user;
};

// The table of host services given to every plugin, filled by the parts below.
const plexus_host_api& hostApi();
void fillMessageApi(plexus_host_api& api);   // HostMessageApi.cpp
void fillAdminApi(plexus_host_api& api);     // HostAdminApi.cpp: submission, mailboxes, directory
void fillStateApi(plexus_host_api& api);     // HostStateApi.cpp: storage, audit, metrics

// Host functions answer PLEXUS_ERR_* and say why in the plugin's log.
plexus_status refuse(plexus_host* host, plexus_status status, const std::string& why);

}  // namespace plexus::plugins

struct plexus_host {
    plexus_host(plexus::plugins::PluginSettings pluginSettings, plexus::plugins::PluginLibrary pluginLibrary,
                plexus::plugins::HostServices& hostServices, std::function<void()> onEventsAppended)
        : settings(std::move(pluginSettings)),
          library(std::move(pluginLibrary)),
          services(hostServices),
          eventsAppended(std::move(onEventsAppended)),
          log(Poco::Logger::get("plugin." + settings.name))
    {
    }

    const std::string& name() const { return settings.name; }
    std::string actor() const { return "plugin:" + settings.name; }
    bool may(std::uint64_t capability) const { return library.descriptor().capabilities & capability; }

    plexus::plugins::PluginSettings settings;
    plexus::plugins::PluginLibrary library;
    plexus::plugins::HostServices& services;
    std::function<void()> eventsAppended;  // after an audit event, consumers look at once
    Poco::Logger& log;
    void* state = nullptr;
    bool initialising = false;  // registrations are accepted during init() only

    std::vector<plexus::plugins::Registered<plexus_connect_hook>> connectHooks;
    std::vector<plexus::plugins::Registered<plexus_mail_from_hook>> mailFromHooks;
    std::vector<plexus::plugins::Registered<plexus_rcpt_to_hook>> rcptToHooks;
    std::vector<plexus::plugins::Registered<plexus_message_hook>> messageHooks;
    std::vector<plexus::plugins::Registered<plexus_auth_hook>> authHooks;
    std::vector<plexus::plugins::ConsumerSpec> consumers;
    std::vector<plexus::plugins::TimerRegistration> timers;
    std::vector<plexus::plugins::RouteRegistration> routes;

    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> failures{0};  // errors, exceptions, overruns, refusals for saturation
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<int> running{0};  // verdict hook calls not yet returned, late ones included
};

// A message a plugin reads: the one a message hook is given (editable), or
// one it opened from a mailbox.
struct plexus_message {
    plexus_message(plexus_host& plugin, plexus::plugins::MessageView messageView, bool inMessageHook)
        : owner(plugin), view(std::move(messageView)), editable(inMessageHook)
    {
    }

    plexus_host& owner;
    plexus::plugins::MessageView view;
    bool editable;
    std::string from;  // kept for plexus_message_info
    std::vector<plexus::plugins::HeaderAddition> additions;
    std::optional<plexus::plugins::ContentReplacement> replacement;
};

struct plexus_stream {
    plexus::plugins::PartStream stream;
};

struct plexus_http_response {
    plexus::plugins::HttpAnswer answer;
    bool answered = false;
};
