#include "metrics/Metrics.h"

#include <sstream>
#include <stdexcept>

namespace plexus::metrics {

void Histogram::observe(double seconds)
{
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (seconds <= bounds[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sumMicros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

double Histogram::sum() const
{
    return static_cast<double>(sumMicros_.load(std::memory_order_relaxed)) / 1e6;
}

Registry& Registry::instance()
{
    static Registry registry;
    return registry;
}

Registry::Family& Registry::family(const std::string& name, const std::string& type, const std::string& help)
{
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.type = type;
        it->second.help = help;
    } else if (it->second.type != type) {
        throw std::logic_error("metric " + name + " registered as " + it->second.type + " and " + type);
    }
    return it->second;
}

template <typename T>
static T& seriesIn(std::map<std::string, std::unique_ptr<T>>& series, const std::string& labels)
{
    auto& slot = series[labels];
    if (!slot) slot = std::make_unique<T>();
    return *slot;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const std::string& labels)
{
    std::lock_guard lock(mutex_);
    return seriesIn(family(name, "counter", help).counters, labels);
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const std::string& labels)
{
    std::lock_guard lock(mutex_);
    return seriesIn(family(name, "gauge", help).gauges, labels);
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, const std::string& labels)
{
    std::lock_guard lock(mutex_);
    return seriesIn(family(name, "histogram", help).histograms, labels);
}

static std::string seriesName(const std::string& name, const std::string& labels)
{
    return labels.empty() ? name : name + "{" + labels + "}";
}

std::string Registry::render() const
{
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    for (const auto& [name, family] : families_) {
        out << "# HELP " << name << ' ' << family.help << '\n' << "# TYPE " << name << ' ' << family.type << '\n';
        for (const auto& [labels, counter] : family.counters) out << seriesName(name, labels) << ' ' << counter->value() << '\n';
        for (const auto& [labels, gauge] : family.gauges) out << seriesName(name, labels) << ' ' << gauge->value() << '\n';
        for (const auto& [labels, histogram] : family.histograms) {
            const std::string sep = labels.empty() ? "" : labels + ",";
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < Histogram::bounds.size(); ++i) {
                cumulative += histogram->bucket(i);
                out << name << "_bucket{" << sep << "le=\"" << Histogram::bounds[i] << "\"} " << cumulative << '\n';
            }
            out << name << "_bucket{" << sep << "le=\"+Inf\"} " << histogram->count() << '\n';
            out << seriesName(name + "_sum", labels) << ' ' << histogram->sum() << '\n';
            out << seriesName(name + "_count", labels) << ' ' << histogram->count() << '\n';
        }
    }
    return out.str();
}

}  // namespace plexus::metrics
