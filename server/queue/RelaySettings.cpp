#include "queue/RelaySettings.h"

#include <Poco/String.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace plexus::queue {

namespace {

using Config = Poco::Util::AbstractConfiguration;
using std::chrono::milliseconds;

std::string valueText(double value)
{
    std::string text = std::to_string(value);
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
    return text;
}

// A decimal number of `unit` (fractions allowed) in (0, max], in milliseconds.
milliseconds duration(const Config& config, const std::string& key, const char* unitName, double unitMs,
                      milliseconds fallback, double max)
{
    const std::string full = "relay." + key;
    if (!config.has(full)) return fallback;
    const std::string text = Poco::trim(config.getRawString(full));
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    const bool inRange = !text.empty() && error == std::errc() && end == text.data() + text.size() &&
                         std::isfinite(value) && value > 0 && value <= max;
    const auto ms = inRange ? std::llround(value * unitMs) : 0;
    if (ms < 1)
        throw RelayConfigError("[relay] " + key + " must be a number of " + unitName + " above 0 and at most " +
                               valueText(max) + " (fractions allowed, at least 1 ms), not \"" + text + "\"");
    return milliseconds(ms);
}

std::size_t count(const Config& config, const std::string& key, std::size_t fallback, std::size_t max)
{
    const std::string full = "relay." + key;
    if (!config.has(full)) return fallback;
    const std::string text = Poco::trim(config.getRawString(full));
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 1 || value > max)
        throw RelayConfigError("[relay] " + key + " must be a whole number from 1 to " + std::to_string(max) +
                               ", not \"" + text + "\"");
    return value;
}

std::string seconds(milliseconds ms) { return valueText(static_cast<double>(ms.count()) / 1000) + " s"; }

}  // namespace

RelaySettings loadRelaySettings(const Config& config)
{
    constexpr double kHourMs = 3'600'000, kSecondMs = 1000;
    RelaySettings s;
    s.lifetime = duration(config, "lifetime_hours", "hours", kHourMs, s.lifetime, 2400);
    s.delayNotice = duration(config, "delay_notice_hours", "hours", kHourMs, s.delayNotice, 2400);
    s.firstRetry = duration(config, "first_retry_seconds", "seconds", kSecondMs, s.firstRetry, 86400);
    s.maxRetry = duration(config, "max_retry_seconds", "seconds", kSecondMs, s.maxRetry, 86400);
    s.scanInterval = duration(config, "scan_seconds", "seconds", kSecondMs, s.scanInterval, 3600);
    s.maxDeliveries = count(config, "max_deliveries", s.maxDeliveries, 1000);
    // Unset, it follows a small max_deliveries down instead of contradicting it.
    s.maxPerDestination = count(config, "max_per_destination", std::min(s.maxPerDestination, s.maxDeliveries), 1000);

    if (s.delayNotice >= s.lifetime)
        throw RelayConfigError("[relay] delay_notice_hours (" + seconds(s.delayNotice) +
                               ") must be shorter than lifetime_hours (" + seconds(s.lifetime) +
                               "): the delay notice would never go");
    if (s.firstRetry > s.maxRetry)
        throw RelayConfigError("[relay] first_retry_seconds (" + seconds(s.firstRetry) +
                               ") must not be above max_retry_seconds (" + seconds(s.maxRetry) + ")");
    if (s.maxPerDestination > s.maxDeliveries)
        throw RelayConfigError("[relay] max_per_destination (" + std::to_string(s.maxPerDestination) +
                               ") must not be above max_deliveries (" + std::to_string(s.maxDeliveries) + ")");
    return s;
}

}  // namespace plexus::queue
