#include "plugins/PluginHost.h"

#include "events/EventLog.h"
#include "metrics/Metrics.h"
#include "plugins/GuardedCall.h"
#include "plugins/HostContext.h"
#include "plugins/PluginStatus.h"
#include "plugins/PluginTimers.h"

#include <Poco/JSON/Object.h>

#include <algorithm>
#include <cstring>
#include <regex>
#include <stop_token>
#include <thread>

namespace plexus::plugins {

namespace {

using Clock = std::chrono::steady_clock;
using Received = intake::MessageReceiver::Received;

// The replies a hook's verdicts lead to when the plugin does not choose them.
struct ReplyDefaults {
    int rejectCode;
    const char* rejectEnhanced;
    int deferCode;
    const char* deferEnhanced;
    int failureCode;  // the plugin failed: an error, an exception, its deadline
    const char* failureEnhanced;
    const char* failureText;
};
constexpr ReplyDefaults kSmtpReplies{550, "5.7.1", 451, "4.7.1", 451, "4.3.0",
                                     "Temporary local problem in message processing; try again later"};
constexpr ReplyDefaults kAuthReplies{535, "5.7.8", 454, "4.7.0", 454, "4.7.0",
                                     "Temporary authentication failure; try again later"};

// What a verdict hook is given, copied: a hook past its deadline may still
// read it on its pool thread after the session has moved on.
struct HookCall {
    HookCall(const SessionInfo& sessionInfo, const Envelope* envelopeGiven, std::string argumentGiven)
        : session(sessionInfo), argument(std::move(argumentGiven))
    {
        info = {sizeof(plexus_session_info), session.service.c_str(),  session.clientAddress.c_str(),
                session.helo.c_str(),        session.tls ? 1 : 0,       session.identity.c_str(),
                session.peerCertificateDn.c_str()};
        if (envelopeGiven) envelope = *envelopeGiven;
        for (const auto& recipient : envelope.recipients) recipients.push_back(recipient.c_str());
        cEnvelope = {sizeof(plexus_envelope), envelope.sender.c_str(), recipients.data(), recipients.size()};
        verdict.struct_size = sizeof(plexus_verdict);
    }
    HookCall(const HookCall&) = delete;
    HookCall& operator=(const HookCall&) = delete;

    SessionInfo session;
    Envelope envelope;
    std::string argument;
    plexus_session_info info{};
    std::vector<const char*> recipients;
    plexus_envelope cEnvelope{};
    plexus_verdict verdict{};
};

std::string boundedText(const char* buffer, std::size_t size)
{
    std::string text(buffer, strnlen(buffer, size));
    // Sent to the client on one reply line.
    std::replace_if(text.begin(), text.end(), [](unsigned char c) { return c < 32 || c > 126; }, '?');
    return text;
}

// A verdict with the host's codes and text, which the plugin's may then replace.
Verdict hostVerdict(const plexus_host& plugin, Verdict::Action action, int code, const char* enhanced,
                const std::string& text)
{
    Verdict verdict;
    verdict.action = action;
    verdict.plugin = plugin.name();
    verdict.smtpCode = code;
    verdict.enhancedCode = enhanced;
    verdict.text = text + " (plugin " + plugin.name() + ")";
    return verdict;
}

// The plugin's verdict with codes of the right class, or nullopt when it is not one.
std::optional<Verdict> verdictOf(const plexus_host& plugin, const plexus_verdict& given, const ReplyDefaults& defaults,
                                 bool takeOverAllowed)
{
    Verdict verdict;
    switch (given.action) {
    case PLEXUS_CONTINUE: return Verdict{};
    case PLEXUS_REJECT:
        verdict = hostVerdict(plugin, Verdict::Action::Reject, defaults.rejectCode, defaults.rejectEnhanced,
                          "Refused by local policy");
        break;
    case PLEXUS_DEFER:
        verdict = hostVerdict(plugin, Verdict::Action::Defer, defaults.deferCode, defaults.deferEnhanced,
                              "Try again later");
        break;
    case PLEXUS_TAKE_OVER:
        if (!takeOverAllowed) return std::nullopt;
        return hostVerdict(plugin, Verdict::Action::TakeOver, 250, "2.0.0", "Ok: delivered");
    default: return std::nullopt;
    }
    const int replyClass = verdict.smtpCode / 100;
    if (given.smtp_code / 100 == replyClass) verdict.smtpCode = given.smtp_code;
    static const std::regex enhanced(R"([45]\.[0-9]{1,3}\.[0-9]{1,3})");
    const std::string code = boundedText(given.enhanced_code, sizeof given.enhanced_code);
    if (std::regex_match(code, enhanced) && code[0] - '0' == replyClass) verdict.enhancedCode = code;
    const std::string text = boundedText(given.text, sizeof given.text);
    if (!text.empty()) verdict.text = text;
    return verdict;
}

std::string label(const plexus_host& plugin, const char* hook)
{
    return "plugin=\"" + plugin.name() + "\",hook=\"" + hook + "\"";
}

// Which hooks a plugin registered, for plexusctl plugins.
std::string hookSummary(const plexus_host& plugin)
{
    std::vector<std::string> names;
    const auto add = [&](bool present, const std::string& name) {
        if (present) names.push_back(name);
    };
    add(!plugin.connectHooks.empty(), "connect");
    add(!plugin.mailFromHooks.empty(), "mail_from");
    add(!plugin.rcptToHooks.empty(), "rcpt_to");
    add(!plugin.messageHooks.empty(), "message");
    add(!plugin.authHooks.empty(), "auth");
    for (const auto& consumer : plugin.consumers) names.push_back("consumer:" + consumer.name);
    add(!plugin.timers.empty(), "timer");
    add(!plugin.routes.empty(), "http");
    std::string summary;
    for (const auto& name : names) summary += (summary.empty() ? "" : ",") + name;
    return summary;
}

HttpAnswer jsonAnswer(int status, const std::string& error)
{
    Poco::JSON::Object body;
    body.set("error", error);
    return {status, "application/json", events::detailJson(body), {}};
}

}  // namespace

std::string Verdict::smtpReply() const { return std::to_string(smtpCode) + " " + enhancedCode + " " + text; }

struct PluginHost::Runtime {
    Runtime(HostServices hostServices, std::vector<PluginSettings> pluginSettings)
        : services(std::move(hostServices)),
          settings(std::move(pluginSettings)),
          consumers(services.reads, services.commits),
          log(Poco::Logger::get("plugins"))
    {
    }

    Verdict failure(plexus_host& plugin, const char* hook, const CallResult& result, const SessionInfo& session,
                    const ReplyDefaults& defaults);
    void countCall(plexus_host& plugin, const char* hook, Clock::time_point started);
    void shutdownPlugins();
    void flushCounters(std::stop_token stop);

    template <typename Hook>
    Verdict chain(const char* hook, std::vector<Registered<Hook>> plexus_host::*hooks, const SessionInfo& session,
                  const Envelope* envelope, const std::string& argument, const ReplyDefaults& defaults,
                  plexus_status (*invoke)(const Registered<Hook>&, HookCall&));

    HostServices services;
    std::vector<PluginSettings> settings;
    DeadlineCalls calls;
    std::vector<std::unique_ptr<plexus_host>> plugins;  // initialised ones, in configuration order
    EventConsumers consumers;
    PluginTimers timers;
    std::jthread flusher;
    Poco::Logger& log;
};

void PluginHost::Runtime::countCall(plexus_host& plugin, const char* hook, Clock::time_point started)
{
    ++plugin.calls;
    auto& registry = metrics::Registry::instance();
    registry.counter("plexus_plugin_hook_calls_total", "Calls of plugins' hooks", label(plugin, hook)).add();
    registry.histogram("plexus_plugin_hook_seconds", "Time plugins' hooks took (to their deadline)", label(plugin, hook))
        .observe(std::chrono::duration<double>(Clock::now() - started).count());
}

Verdict PluginHost::Runtime::failure(plexus_host& plugin, const char* hook, const CallResult& result,
                                     const SessionInfo& session, const ReplyDefaults& defaults)
{
    ++plugin.failures;
    if (result.outcome == CallResult::Outcome::Timeout) ++plugin.timeouts;
    metrics::Registry::instance()
        .counter("plexus_plugin_hook_failures_total", "Plugin hook calls that failed (error, exception, deadline)",
                 label(plugin, hook))
        .add();
    const std::string reason = result.describe();
    plugin.log.warning("%s hook for %s: %s; answering a temporary failure", std::string(hook), session.clientAddress,
                       reason);
    Poco::JSON::Object detail;
    detail.set("service", session.service);
    detail.set("identity", session.identity);
    const events::Event event{"plugin.failed", plugin.actor(), session.clientAddress, hook, reason,
                              events::detailJson(detail)};
    services.commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
    Verdict verdict;
    verdict.action = Verdict::Action::Defer;
    verdict.plugin = plugin.name();
    verdict.pluginFailed = true;
    verdict.smtpCode = defaults.failureCode;
    verdict.enhancedCode = defaults.failureEnhanced;
    verdict.text = defaults.failureText;
    return verdict;
}

template <typename Hook>
Verdict PluginHost::Runtime::chain(const char* hook, std::vector<Registered<Hook>> plexus_host::*hooks,
                                   const SessionInfo& session, const Envelope* envelope, const std::string& argument,
                                   const ReplyDefaults& defaults,
                                   plexus_status (*invoke)(const Registered<Hook>&, HookCall&))
{
    for (const auto& plugin : plugins) {
        for (const auto& registered : (*plugin).*hooks) {
            auto call = std::make_shared<HookCall>(session, envelope, argument);
            const auto started = Clock::now();
            const auto result = calls.call(plugin->running, plugin->settings.deadline, [call, registered, invoke] { return invoke(registered, *call); });
            countCall(*plugin, hook, started);
            if (!result.ok()) return failure(*plugin, hook, result, session, defaults);
            const auto verdict = verdictOf(*plugin, call->verdict, defaults, false);
            if (!verdict)
                return failure(*plugin, hook, {CallResult::Outcome::Error, PLEXUS_ERR_INVALID, "an invalid verdict"},
                               session, defaults);
            if (!verdict->proceeds()) {
                plugin->log.information("%s hook for %s: %s", std::string(hook), session.clientAddress,
                                        verdict->smtpReply());
                return *verdict;
            }
        }
    }
    return {};
}

PluginHost::PluginHost(HostServices services, std::vector<PluginSettings> plugins)
    : runtime_(std::make_unique<Runtime>(std::move(services), std::move(plugins)))
{
}

PluginHost::~PluginHost() { stop(); }

void PluginHost::start()
{
    auto& rt = *runtime_;
    for (const auto& settings : rt.settings) {
        std::unique_ptr<plexus_host> plugin;
        std::string error;
        try {
            plugin = std::make_unique<plexus_host>(settings, PluginLibrary::open(settings.path), rt.services,
                                                   [this] { eventsAppended(); });
            plugin->initialising = true;
            const auto& descriptor = plugin->library.descriptor();
            const auto result = callInline([&] { return descriptor.init(&hostApi(), plugin.get(), &plugin->state); });
            plugin->initialising = false;
            if (!result.ok()) error = "its init() failed: " + result.describe();
        } catch (const PluginError& e) {
            error = e.what();
        }
        if (!error.empty()) {
            rt.services.commits.submit([&](store::Database& db) { PluginStatus::failed(db, settings.name, settings.path, error); }).get();
            rt.log.error("plugin %s: %s", settings.name, error);
            rt.shutdownPlugins();
            throw PluginError("plugin " + settings.name + ": " + error);
        }
        const std::string hooks = hookSummary(*plugin);
        rt.services.commits.submit([&](store::Database& db) { PluginStatus::loaded(db, *plugin, hooks); }).get();
        rt.log.information("plugin %s %s (ABI %s) loaded from %s: %s", settings.name,
                           std::string(plugin->library.descriptor().version), plugin->library.abiVersion(),
                           settings.path, hooks.empty() ? std::string("no hooks") : hooks);
        rt.plugins.push_back(std::move(plugin));
    }
    for (const auto& plugin : rt.plugins) {
        for (const auto& consumer : plugin->consumers) rt.consumers.add(consumer);
        for (const auto& timer : plugin->timers)
            rt.timers.add(plugin->name(), timer.interval, [timer] {
                const auto result = callInline([&] { return timer.callback(timer.user); });
                if (!result.ok()) throw std::runtime_error(result.describe());
            });
    }
    rt.consumers.onPoison([&rt](const std::string& plugin, const std::string& consumer, std::int64_t eventId,
                                const std::string& error) {
        Poco::JSON::Object detail;
        detail.set("consumer", consumer);
        detail.set("event_id", eventId);
        const events::Event event{"plugin.event_poisoned", "plugin:" + plugin, "local", std::to_string(eventId), error,
                                  events::detailJson(detail)};
        rt.services.commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
    });
    rt.consumers.start();
    rt.timers.start();
    if (!rt.plugins.empty()) rt.flusher = std::jthread([&rt](std::stop_token stop) { rt.flushCounters(stop); });
}

// Counters reach plugin_status every few seconds, for plexusctl plugins.
void PluginHost::Runtime::flushCounters(std::stop_token stop)
{
    std::mutex mutex;
    std::condition_variable_any wake;
    for (;;) {
        {
            std::unique_lock lock(mutex);
            if (wake.wait_for(lock, stop, std::chrono::seconds(5), [] { return false; }) || stop.stop_requested())
                return;
        }
        services.commits.post([this](store::Database& db) {
            for (const auto& plugin : plugins) PluginStatus::counters(db, *plugin);
        });
    }
}

void PluginHost::Runtime::shutdownPlugins()
{
    // Late verdict hooks still run plugin code: give them a moment before shutdown() and dlclose.
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    const auto busy = [this] {
        return std::any_of(plugins.begin(), plugins.end(), [](const auto& p) { return p->running.load() > 0; });
    };
    while (busy() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    while (!plugins.empty()) {
        auto plugin = std::move(plugins.back());
        plugins.pop_back();
        if (plugin->running.load() > 0) {
            // Its code is still running on a pool thread: it can be neither shut down nor unloaded.
            log.error("plugin %s is still running a hook; left loaded without shutdown", plugin->name());
            static std::vector<std::unique_ptr<plexus_host>> stuck;
            stuck.push_back(std::move(plugin));
            continue;
        }
        const auto result = callInline([&] {
            plugin->library.descriptor().shutdown(plugin->state);
            return PLEXUS_OK;
        });
        if (!result.ok()) log.error("plugin %s: shutdown failed: %s", plugin->name(), result.describe());
        try {
            services.commits.submit([&](store::Database& db) { PluginStatus::stopped(db, *plugin); }).get();
        } catch (const std::exception& e) {
            log.warning("plugin %s: status not saved: %s", plugin->name(), std::string(e.what()));
        }
        log.information("plugin %s stopped", plugin->name());
    }
}

void PluginHost::stop()
{
    auto& rt = *runtime_;
    if (rt.flusher.joinable()) {
        rt.flusher.request_stop();
        rt.flusher.join();
    }
    rt.consumers.stop();
    rt.timers.stop();
    rt.shutdownPlugins();
}

bool PluginHost::empty() const { return runtime_->plugins.empty(); }

bool PluginHost::hasMessageHooks() const
{
    const auto& plugins = runtime_->plugins;
    return std::any_of(plugins.begin(), plugins.end(), [](const auto& p) { return !p->messageHooks.empty(); });
}

Verdict PluginHost::onConnect(const SessionInfo& session)
{
    return runtime_->chain<plexus_connect_hook>(
        "connect", &plexus_host::connectHooks, session, nullptr, "", kSmtpReplies,
        [](const Registered<plexus_connect_hook>& r, HookCall& c) { return r.function(r.user, &c.info, &c.verdict); });
}

Verdict PluginHost::onMailFrom(const SessionInfo& session, const std::string& sender)
{
    return runtime_->chain<plexus_mail_from_hook>(
        "mail_from", &plexus_host::mailFromHooks, session, nullptr, sender, kSmtpReplies,
        [](const Registered<plexus_mail_from_hook>& r, HookCall& c) {
            return r.function(r.user, &c.info, c.argument.c_str(), &c.verdict);
        });
}

Verdict PluginHost::onRcptTo(const SessionInfo& session, const Envelope& envelope, const std::string& recipient)
{
    return runtime_->chain<plexus_rcpt_to_hook>(
        "rcpt_to", &plexus_host::rcptToHooks, session, &envelope, recipient, kSmtpReplies,
        [](const Registered<plexus_rcpt_to_hook>& r, HookCall& c) {
            return r.function(r.user, &c.info, &c.cEnvelope, c.argument.c_str(), &c.verdict);
        });
}

Verdict PluginHost::onAuth(const SessionInfo& session, const std::string& mechanism)
{
    return runtime_->chain<plexus_auth_hook>(
        "auth", &plexus_host::authHooks, session, nullptr, mechanism, kAuthReplies,
        [](const Registered<plexus_auth_hook>& r, HookCall& c) {
            return r.function(r.user, &c.info, c.argument.c_str(), &c.verdict);
        });
}

MessageOutcome PluginHost::onMessage(const SessionInfo& session, const Envelope& envelope, Received received)
{
    auto& rt = *runtime_;
    const auto& mailboxes = rt.services.mailboxes;
    Received current = std::move(received);
    const auto refused = [&](Verdict verdict) {
        mailboxes.unlinkBlobs({current.blobPath});
        return MessageOutcome{std::move(verdict), {}};
    };
    std::vector<HeaderAddition> additions;
    for (const auto& plugin : rt.plugins) {
        for (const auto& hook : plugin->messageHooks) {
            auto call = std::make_shared<HookCall>(session, &envelope, "");
            auto message = std::make_shared<plexus_message>(
                *plugin, MessageView(mailboxes, current.blobPath, current.structure), true);
            const auto started = Clock::now();
            const auto result = rt.calls.call(plugin->running, plugin->settings.deadline, [call, message, hook] {
                return hook.function(hook.user, &call->info, &call->cEnvelope, message.get(), &call->verdict);
            });
            rt.countCall(*plugin, "message", started);
            if (!result.ok()) return refused(rt.failure(*plugin, "message", result, session, kSmtpReplies));
            const auto verdict = verdictOf(*plugin, call->verdict, kSmtpReplies, true);
            if (!verdict)
                return refused(rt.failure(*plugin, "message",
                                          {CallResult::Outcome::Error, PLEXUS_ERR_INVALID, "an invalid verdict"},
                                          session, kSmtpReplies));
            if (message->replacement) {
                try {
                    auto replaced = message->replacement->finish();
                    message->replacement.reset();
                    mailboxes.unlinkBlobs({current.blobPath});
                    current = std::move(replaced);
                } catch (const std::exception& e) {
                    return refused(rt.failure(*plugin, "message",
                                              {CallResult::Outcome::Error, PLEXUS_ERR_INVALID,
                                               std::string("its replacement content was refused: ") + e.what()},
                                              session, kSmtpReplies));
                }
            }
            additions.insert(additions.end(), message->additions.begin(), message->additions.end());
            if (!verdict->proceeds()) {
                plugin->log.information("message hook for %s: %s", session.clientAddress, verdict->smtpReply());
                return refused(*verdict);
            }
        }
    }
    if (additions.empty()) return {Verdict{}, std::move(current)};
    try {
        auto edited = prependHeaders(mailboxes, current.blobPath, additions, rt.services.maxMessageSize,
                                     rt.services.maxHeaderSize);
        mailboxes.unlinkBlobs({current.blobPath});
        return {Verdict{}, std::move(edited)};
    } catch (const MessageTooLarge&) {
        Verdict tooBig;
        tooBig.action = Verdict::Action::Reject;
        tooBig.smtpCode = 552;
        tooBig.enhancedCode = "5.3.4";
        tooBig.text = "Message size exceeds the limit once the headers added by plugins are counted";
        return refused(tooBig);
    } catch (const std::exception& e) {
        rt.log.error("adding plugins' headers failed: %s", std::string(e.what()));
        Verdict failed;
        failed.action = Verdict::Action::Defer;
        failed.pluginFailed = true;
        failed.smtpCode = kSmtpReplies.failureCode;
        failed.enhancedCode = kSmtpReplies.failureEnhanced;
        failed.text = kSmtpReplies.failureText;
        return refused(failed);
    }
}

HttpAnswer PluginHost::serveHttp(const HttpCall& call)
{
    auto& rt = *runtime_;
    // call.path is "/<plugin>/<route...>".
    const auto slash = call.path.find('/', 1);
    const std::string name = call.path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    const std::string path = slash == std::string::npos ? "/" : call.path.substr(slash);
    const auto plugin = std::find_if(rt.plugins.begin(), rt.plugins.end(), [&](const auto& p) { return p->name() == name; });
    if (!isValidPluginName(name) || plugin == rt.plugins.end()) return jsonAnswer(404, "no such plugin");
    const RouteRegistration* route = nullptr;
    bool pathKnown = false;
    for (const auto& candidate : (*plugin)->routes) {
        const bool matches = candidate.prefix ? path.starts_with(candidate.path) : path == candidate.path;
        if (!matches) continue;
        pathKnown = true;
        if (candidate.method != "*" && candidate.method != call.method) continue;
        // An exact route wins over prefixes; the longest prefix wins among them.
        if (!route || (route->prefix && (!candidate.prefix || candidate.path.size() > route->path.size())))
            route = &candidate;
    }
    if (!route) return pathKnown ? jsonAnswer(405, "method not allowed") : jsonAnswer(404, "no such resource");
    std::vector<const char*> headers;
    for (const auto& [headerName, value] : call.headers) {
        headers.push_back(headerName.c_str());
        headers.push_back(value.c_str());
    }
    const plexus_http_request request{sizeof(plexus_http_request), call.method.c_str(), path.c_str(),
                                      call.query.c_str(),          call.identity.c_str(), call.contentType.c_str(),
                                      headers.data(),              call.headers.size(), call.body.data(),
                                      call.body.size()};
    plexus_http_response response;
    const auto started = Clock::now();
    const auto result = callInline([&] { return route->handler(route->user, &request, &response); });
    rt.countCall(**plugin, "http", started);
    if (!result.ok()) {
        ++(*plugin)->failures;
        (*plugin)->log.warning("HTTP %s %s: %s", call.method, path, result.describe());
        return result.status == PLEXUS_ERR_TEMPORARY ? jsonAnswer(503, "the plugin is temporarily unavailable")
                                                     : jsonAnswer(500, "the plugin failed");
    }
    if (!response.answered) return jsonAnswer(500, "the plugin gave no answer");
    return response.answer;
}

void PluginHost::eventsAppended() { runtime_->consumers.nudge(); }

}  // namespace plexus::plugins
