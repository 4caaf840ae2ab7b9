// The host-services table, core part: logging, configuration, errors,
// registrations and HTTP answers. The other parts fill the rest of the table.
#include "plugins/GuardedCall.h"
#include "plugins/HostContext.h"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace plexus::plugins {

namespace {

constexpr std::size_t kMaxLogLine = 4096;

// Log lines from a plugin stay one line each and bounded.
std::string oneLine(std::string_view text)
{
    std::string line(text.substr(0, kMaxLogLine));
    std::replace_if(line.begin(), line.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
    return line;
}

void hostLog(plexus_host* host, plexus_log_level level, const char* message)
{
    if (!host || !message) return;
    const std::string line = oneLine(message);
    switch (level) {
    case PLEXUS_LOG_ERROR: host->log.error(line); break;
    case PLEXUS_LOG_WARNING: host->log.warning(line); break;
    case PLEXUS_LOG_INFO: host->log.information(line); break;
    default: host->log.debug(line); break;
    }
}

const char* configGet(plexus_host* host, const char* key)
{
    if (!host || !key) return nullptr;
    const auto found = host->settings.values.find(key);
    return found == host->settings.values.end() ? nullptr : found->second.c_str();
}

void setError(plexus_host*, const char* message) { setPluginError(message ? oneLine(message) : std::string()); }

plexus_status registrationRefused(plexus_host* host, std::uint64_t capability, const char* what)
{
    if (!host) return PLEXUS_ERR_INVALID;
    if (!host->initialising) return refuse(host, PLEXUS_ERR_INVALID, std::string(what) + " registered outside init()");
    if (!host->may(capability))
        return refuse(host, PLEXUS_ERR_DENIED,
                      std::string(what) + " needs capability " + capabilityNames(capability) +
                          ", which the plugin's descriptor does not declare");
    return PLEXUS_OK;
}

template <typename Hook>
plexus_status registerHook(plexus_host* host, std::vector<Registered<Hook>> plexus_host::*hooks,
                           std::uint64_t capability, const char* what, Hook hook, void* user)
{
    if (const auto refused = registrationRefused(host, capability, what)) return refused;
    if (!hook) return refuse(host, PLEXUS_ERR_INVALID, std::string(what) + " without a function");
    (host->*hooks).push_back({hook, user});
    return PLEXUS_OK;
}

bool isConsumerName(std::string_view name)
{
    return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::vector<std::string> typePrefixes(std::string_view list)
{
    std::vector<std::string> prefixes;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto comma = std::min(list.find(',', start), list.size());
        const std::string prefix = Poco::trim(std::string(list.substr(start, comma - start)));
        if (!prefix.empty() && prefix != "*") prefixes.push_back(prefix);
        start = comma + 1;
    }
    return prefixes;
}

ConsumeResult consumeResultOf(const CallResult& result)
{
    if (result.ok()) return {};
    if (result.outcome == CallResult::Outcome::Error && result.status == PLEXUS_ERR_TEMPORARY)
        return {ConsumeOutcome::Temporary, result.describe()};
    if (result.outcome == CallResult::Outcome::Error && result.status == PLEXUS_ERR_PERMANENT)
        return {ConsumeOutcome::Permanent, result.describe()};
    return {ConsumeOutcome::Failed, result.describe()};
}

plexus_status registerEventConsumer(plexus_host* host, const plexus_consumer_spec* spec)
{
    if (const auto refused = registrationRefused(host, PLEXUS_CAP_EVENTS, "an event consumer")) return refused;
    if (!spec || spec->struct_size < sizeof(plexus_consumer_spec) || !spec->consume || !spec->name)
        return refuse(host, PLEXUS_ERR_INVALID, "malformed plexus_consumer_spec");
    if (!isConsumerName(spec->name))
        return refuse(host, PLEXUS_ERR_INVALID, "consumer name must be 1 to 32 of a-z, 0-9, '-', '_'");
    const std::string name = spec->name;
    if (std::any_of(host->consumers.begin(), host->consumers.end(), [&](const auto& c) { return c.name == name; }))
        return refuse(host, PLEXUS_ERR_EXISTS, "consumer " + name + " registered twice");
    ConsumerSpec consumer;
    consumer.plugin = host->name();
    consumer.name = name;
    consumer.typePrefixes = typePrefixes(spec->type_prefixes ? spec->type_prefixes : "");
    consumer.fromOldest = spec->start == PLEXUS_EVENTS_FROM_OLDEST;
    consumer.maxAttempts = host->settings.eventMaxAttempts;
    consumer.consume = [function = spec->consume, user = spec->user](const events::StoredEvent& stored) {
        const auto& e = stored.event;
        const plexus_event event{sizeof(plexus_event), stored.id,          stored.timeMicros,
                                 e.type.c_str(),       e.actor.c_str(),    e.client.c_str(),
                                 e.object.c_str(),     e.outcome.c_str(),  e.detailJson.c_str()};
        return consumeResultOf(callInline([&] { return function(user, &event); }));
    };
    host->consumers.push_back(std::move(consumer));
    return PLEXUS_OK;
}

plexus_status registerTimer(plexus_host* host, std::uint32_t intervalMs, plexus_timer_callback callback, void* user)
{
    if (const auto refused = registrationRefused(host, PLEXUS_CAP_TIMERS, "a timer")) return refused;
    if (!callback || intervalMs < 100)
        return refuse(host, PLEXUS_ERR_INVALID, "a timer needs a function and an interval of at least 100 ms");
    host->timers.push_back({std::chrono::milliseconds(intervalMs), callback, user});
    return PLEXUS_OK;
}

bool isHttpToken(std::string_view text)
{
    return !text.empty() && text.size() <= 32 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

plexus_status registerHttpRoute(plexus_host* host, const char* method, const char* path, plexus_http_handler handler,
                                void* user)
{
    if (const auto refused = registrationRefused(host, PLEXUS_CAP_HTTP, "an HTTP route")) return refused;
    if (!method || !path || !handler) return refuse(host, PLEXUS_ERR_INVALID, "an HTTP route needs method, path, handler");
    const std::string m = method;
    std::string p = path;
    if (m != "*" && !isHttpToken(m)) return refuse(host, PLEXUS_ERR_INVALID, "HTTP method " + m + " is not valid");
    if (p.empty() || p.front() != '/' || p.size() > 256 ||
        std::any_of(p.begin(), p.end(), [](unsigned char c) { return c <= ' ' || c == '?' || c == '#'; }))
        return refuse(host, PLEXUS_ERR_INVALID, "HTTP route path must start with '/' and hold no space, '?' or '#'");
    const bool prefix = p.back() == '*';
    if (prefix) p.pop_back();
    host->routes.push_back({m, p, prefix, handler, user});
    return PLEXUS_OK;
}

bool isHeaderText(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c == '\t' || (c >= ' ' && c != 127); });
}

plexus_status httpRespond(plexus_http_response* response, int status, const char* contentType, const void* body,
                          std::size_t size)
{
    if (!response || response->answered || status < 100 || status > 599 || (size && !body)) return PLEXUS_ERR_INVALID;
    const std::string type = contentType ? contentType : "";
    if (!isHeaderText(type)) return PLEXUS_ERR_INVALID;
    response->answer.status = status;
    response->answer.contentType = type.empty() ? "application/octet-stream" : type;
    response->answer.body.assign(static_cast<const char*>(body), size);
    response->answered = true;
    return PLEXUS_OK;
}

plexus_status httpSetHeader(plexus_http_response* response, const char* name, const char* value)
{
    if (!response || !name || !value) return PLEXUS_ERR_INVALID;
    const std::string n = name;
    // Framing and connection management stay the server's.
    static const std::vector<std::string> reserved{"content-length", "transfer-encoding", "connection", "content-type"};
    const bool token = !n.empty() && std::all_of(n.begin(), n.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
    });
    if (!token || !isHeaderText(value) ||
        std::find(reserved.begin(), reserved.end(), Poco::toLower(n)) != reserved.end())
        return PLEXUS_ERR_INVALID;
    response->answer.headers.emplace_back(n, value);
    return PLEXUS_OK;
}

plexus_host_api buildApi()
{
    plexus_host_api api{};
    api.struct_size = sizeof(plexus_host_api);
    api.abi_major = PLEXUS_ABI_MAJOR;
    api.abi_minor = PLEXUS_ABI_MINOR;
    api.host_version = PLEXUS_VERSION;
    api.log = hostLog;
    api.config_get = configGet;
    api.set_error = setError;
    api.register_connect_hook = [](plexus_host* h, plexus_connect_hook f, void* u) {
        return registerHook(h, &plexus_host::connectHooks, PLEXUS_CAP_SMTP_HOOKS, "a connect hook", f, u);
    };
    api.register_mail_from_hook = [](plexus_host* h, plexus_mail_from_hook f, void* u) {
        return registerHook(h, &plexus_host::mailFromHooks, PLEXUS_CAP_SMTP_HOOKS, "a MAIL FROM hook", f, u);
    };
    api.register_rcpt_to_hook = [](plexus_host* h, plexus_rcpt_to_hook f, void* u) {
        return registerHook(h, &plexus_host::rcptToHooks, PLEXUS_CAP_SMTP_HOOKS, "a RCPT TO hook", f, u);
    };
    api.register_message_hook = [](plexus_host* h, plexus_message_hook f, void* u) {
        return registerHook(h, &plexus_host::messageHooks, PLEXUS_CAP_MESSAGE_HOOK, "a message hook", f, u);
    };
    api.register_auth_hook = [](plexus_host* h, plexus_auth_hook f, void* u) {
        return registerHook(h, &plexus_host::authHooks, PLEXUS_CAP_AUTH_HOOK, "an authentication hook", f, u);
    };
    api.register_event_consumer = registerEventConsumer;
    api.register_timer = registerTimer;
    api.register_http_route = registerHttpRoute;
    api.http_respond = httpRespond;
    api.http_set_header = httpSetHeader;
    api.plugin_name = [](plexus_host* host) { return host ? host->name().c_str() : ""; };
    fillMessageApi(api);
    fillAdminApi(api);
    fillStateApi(api);
    return api;
}

}  // namespace

plexus_status refuse(plexus_host* host, plexus_status status, const std::string& why)
{
    if (host) host->log.warning(oneLine(why));
    return status;
}

const plexus_host_api& hostApi()
{
    static const plexus_host_api api = buildApi();
    return api;
}

}  // namespace plexus::plugins
