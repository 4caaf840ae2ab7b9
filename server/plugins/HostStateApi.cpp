// The host-services table, the plugin's own state: key-value storage, audit
// events in the durable event log, and metrics.
#include "plugins/HostContext.h"

#include "events/EventLog.h"
#include "metrics/Metrics.h"
#include "plugins/PluginStorage.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>

namespace plexus::plugins {

namespace {

// Storage errors: the limits are the plugin's mistake, anything else the store's.
plexus_status storageCall(plexus_host* host, const char* what, const std::function<plexus_status()>& call)
{
    try {
        return call();
    } catch (const std::length_error& e) {
        return refuse(host, PLEXUS_ERR_TOO_LARGE, std::string(what) + ": " + e.what());
    } catch (const std::invalid_argument& e) {
        return refuse(host, PLEXUS_ERR_INVALID, std::string(what) + ": " + e.what());
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_TEMPORARY, std::string(what) + ": " + e.what());
    }
}

plexus_status storagePut(plexus_host* host, const char* key, const void* value, std::size_t size)
{
    if (!host || !key || (size && !value)) return PLEXUS_ERR_INVALID;
    return storageCall(host, "storage_put", [&] {
        const std::string_view bytes(static_cast<const char*>(value), size);
        host->services.commits.submit([&](store::Database& db) { PluginStorage::put(db, host->name(), key, bytes); }).get();
        return PLEXUS_OK;
    });
}

plexus_status storageGet(plexus_host* host, const char* key, plexus_bytes_sink sink, void* user)
{
    if (!host || !key || !sink) return PLEXUS_ERR_INVALID;
    return storageCall(host, "storage_get", [&] {
        auto db = host->services.reads.acquire();
        const auto value = PluginStorage::get(*db, host->name(), key);
        if (!value) return PLEXUS_ERR_NOT_FOUND;
        sink(user, value->data(), value->size());
        return PLEXUS_OK;
    });
}

plexus_status storageDelete(plexus_host* host, const char* key)
{
    if (!host || !key) return PLEXUS_ERR_INVALID;
    return storageCall(host, "storage_delete", [&] {
        bool removed = false;
        host->services.commits
            .submit([&](store::Database& db) { removed = PluginStorage::remove(db, host->name(), key); })
            .get();
        return removed ? PLEXUS_OK : PLEXUS_ERR_NOT_FOUND;
    });
}

plexus_status storageList(plexus_host* host, const char* prefix,
                          void (*each)(void* user, const char* key, const void* value, std::size_t size), void* user)
{
    if (!host || !prefix || !each) return PLEXUS_ERR_INVALID;
    return storageCall(host, "storage_list", [&] {
        std::vector<std::pair<std::string, std::string>> entries;
        {
            auto db = host->services.reads.acquire();
            entries = PluginStorage::list(*db, host->name(), prefix, std::numeric_limits<std::size_t>::max());
        }
        // Called without a lease held: the plugin may use storage from inside.
        for (const auto& [key, value] : entries) each(user, key.c_str(), value.data(), value.size());
        return PLEXUS_OK;
    });
}

bool isEventType(std::string_view type)
{
    return !type.empty() && type.size() <= 64 && std::all_of(type.begin(), type.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

std::string orDefault(const char* value, const std::string& fallback)
{
    return value && *value ? std::string(value) : fallback;
}

plexus_status audit(plexus_host* host, const plexus_audit_event* event)
{
    if (!host || !event || event->struct_size < sizeof(plexus_audit_event)) return PLEXUS_ERR_INVALID;
    const std::string type = event->type ? event->type : "";
    if (!isEventType(type)) return refuse(host, PLEXUS_ERR_INVALID, "audit: type must be 1 to 64 of a-z, 0-9, '_', '.', '-'");
    const std::string detail = orDefault(event->detail_json, "{}");
    try {
        Poco::JSON::Parser parser;
        if (parser.parse(detail).type() != typeid(Poco::JSON::Object::Ptr))
            return refuse(host, PLEXUS_ERR_INVALID, "audit: detail_json must be a JSON object");
    } catch (const Poco::Exception& e) {
        return refuse(host, PLEXUS_ERR_INVALID, "audit: detail_json is not JSON: " + e.displayText());
    }
    const events::Event entry{"plugin." + host->name() + "." + type, orDefault(event->actor, host->actor()),
                              orDefault(event->client, "local"), orDefault(event->object, ""),
                              orDefault(event->outcome, "success"), detail};
    try {
        host->services.commits.submit([&](store::Database& db) { events::EventLog::append(db, entry); }).get();
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_TEMPORARY, std::string("audit: ") + e.what());
    }
    host->eventsAppended();
    return PLEXUS_OK;
}

bool isMetricName(std::string_view name)
{
    return !name.empty() && name.size() <= 64 && !(name[0] >= '0' && name[0] <= '9') &&
           std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// plexus_plugin_<plugin>_<metric>, the plugin's dashes made underscores (Prometheus names).
std::string metricName(const plexus_host& host, std::string_view metric)
{
    std::string name = "plexus_plugin_" + host.name() + "_" + std::string(metric);
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

template <typename Update>
plexus_status updateMetric(plexus_host* host, const char* metric, const char* help, Update update)
{
    if (!host || !metric || !isMetricName(metric))
        return refuse(host, PLEXUS_ERR_INVALID, "metric names are 1 to 64 of a-z, 0-9, '_', not starting with a digit");
    try {
        update(metrics::Registry::instance(), metricName(*host, metric), orDefault(help, "Plugin metric"));
        return PLEXUS_OK;
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_INVALID, std::string("metric ") + metric + ": " + e.what());
    }
}

}  // namespace

void fillStateApi(plexus_host_api& api)
{
    api.storage_put = storagePut;
    api.storage_get = storageGet;
    api.storage_delete = storageDelete;
    api.storage_list = storageList;
    api.audit = audit;
    api.metric_add = [](plexus_host* host, const char* metric, const char* help, std::uint64_t amount) {
        return updateMetric(host, metric, help, [amount](metrics::Registry& r, const std::string& name,
                                                         const std::string& text) { r.counter(name, text).add(amount); });
    };
    api.metric_set = [](plexus_host* host, const char* metric, const char* help, std::int64_t value) {
        return updateMetric(host, metric, help, [value](metrics::Registry& r, const std::string& name,
                                                        const std::string& text) { r.gauge(name, text).set(value); });
    };
}

}  // namespace plexus::plugins
