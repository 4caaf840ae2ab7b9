// directory-bench DB [LOOKUPS] [SEARCHES] [SLOWEST]: address lookup and
// free-text search latency on a directory database, calling the queries
// in-process, so that the figures are the store's (µs), not a process
// start-up. Prints JSON, with the SLOWEST (default 5) searches of each kind and
// what each of their tiers' FTS5 queries costs when run again alone.
#include "directory/DirectoryQueries.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace plexus::directory;
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> values, double p)
{
    std::ranges::sort(values);
    return values.empty() ? 0 : values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

// Random visible addresses and their owners' last names, sampled by rowid.
struct Sample {
    std::vector<std::string> addresses;
    std::vector<std::string> lastNames;
    std::vector<std::string> cities;
};

Sample sample(plexus::store::Database& db, std::size_t count, std::mt19937& rng)
{
    auto max = db.prepare("SELECT max(id) FROM mailboxes");
    max.step();
    std::uniform_int_distribution<std::int64_t> id(1, max.int64(0));
    Sample s;
    while (s.addresses.size() < count) {
        auto hit = db.prepare("SELECT m.address, coalesce(p.last_name, ''), coalesce(st.city, '') FROM mailboxes m "
                              "LEFT JOIN persons p ON p.national_id = m.owner_national_id AND p.source = m.source "
                              "LEFT JOIN structures st ON st.structure_id = m.owner_structure_id AND st.source = m.source "
                              "WHERE m.id = ?");
        hit.bind(1, id(rng));
        if (!hit.step()) continue;
        s.addresses.push_back(hit.text(0));
        if (!hit.text(1).empty()) s.lastNames.push_back(hit.text(1));
        if (!hit.text(2).empty()) s.cities.push_back(hit.text(2));
    }
    return s;
}

double microsSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// Latencies of one kind of query, in µs, and the searches measured (same order).
struct Latencies {
    std::string kind;
    std::vector<double> micros;
    std::vector<SearchQuery> queries{};
};

// After each query, a pause of a tenth of its time: run with `chrt -f`, the
// process then never uses up the kernel's real-time budget
// (sched_rt_runtime_us, 950 ms a second) and is not throttled mid-query.
template <typename Query>
void timed(Latencies& latencies, Query&& query)
{
    const auto start = Clock::now();
    query();
    latencies.micros.push_back(microsSince(start));
    std::this_thread::sleep_for((Clock::now() - start) / 10 + std::chrono::microseconds(20));
}

std::string json(std::string_view text)
{
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\"";
}

// The slowest searches of a kind, each with its tiers' FTS5 queries timed alone
// (the candidates search takes of a tier, without ranking nor reading hits).
void printSlowest(plexus::store::Database& db, const Latencies& latencies, std::size_t slowest)
{
    std::vector<std::size_t> order(latencies.micros.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::ranges::sort(order, [&](std::size_t a, std::size_t b) { return latencies.micros[a] > latencies.micros[b]; });
    if (order.size() > slowest) order.resize(slowest);
    std::cout << json(latencies.kind) << ": [";
    const NameFolder folder(db);
    const char* separator = "";
    for (const std::size_t i : order) {
        const SearchQuery& query = latencies.queries[i];
        std::cout << separator << "{\"text\": " << json(query.text) << ", \"profession\": " << json(query.profession)
                  << ", \"city\": " << json(query.city) << ", \"us\": " << latencies.micros[i] << ", \"tiers\": [";
        const char* tierSeparator = "";
        for (const auto& match : tierExpressions(folder, query)) {
            auto candidates = db.prepare("SELECT rowid FROM mailbox_search WHERE mailbox_search MATCH ? "
                                         "ORDER BY rowid LIMIT 100");
            candidates.bind(1, match);
            const auto start = Clock::now();
            std::size_t rows = 0;
            while (candidates.step()) ++rows;
            std::cout << tierSeparator << "{\"match\": " << json(match) << ", \"us\": " << microsSince(start)
                      << ", \"rows\": " << rows << "}";
            tierSeparator = ", ";
        }
        std::cout << "]}";
        separator = ", ";
    }
    std::cout << "]";
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: directory-bench DB [LOOKUPS] [SEARCHES] [SLOWEST]\n";
        return 2;
    }
    const std::size_t lookups = argc > 2 ? std::stoul(argv[2]) : 20000;
    const std::size_t searches = argc > 3 ? std::stoul(argv[3]) : 2000;
    const std::size_t slowest = argc > 4 ? std::stoul(argv[4]) : 5;
    DirectoryStore store(argv[1]);
    auto& db = store.database();
    if (std::getenv("DIRECTORY_BENCH_NO_MMAP") == nullptr) mapForReads(db);  // as plexusd's connections
    std::mt19937 rng(42);
    const auto s = sample(db, std::max(lookups, searches), rng);

    Latencies lookup{"lookup", {}};
    std::size_t found = 0;
    for (std::size_t i = 0; i < lookups; ++i) timed(lookup, [&] { found += lookupAddress(db, s.addresses[i]) ? 1 : 0; });

    // Half name prefixes (3 to 6 letters), a quarter whole names with a city
    // filter, a quarter a 4-letter prefix with a profession filter: what users type.
    Latencies prefix{"search prefix", {}}, nameCity{"search name+city", {}}, prefixProfession{"search prefix+profession", {}};
    std::size_t results = 0;
    std::uniform_int_distribution<std::size_t> prefixLength(3, 6);
    for (std::size_t i = 0; i < searches && !s.lastNames.empty(); ++i) {
        const std::string& name = s.lastNames[i % s.lastNames.size()];
        SearchQuery query{.limit = 20};
        Latencies* kind = &prefix;
        switch (i % 4) {
        case 0:
        case 1: query.text = name.substr(0, prefixLength(rng)); break;
        case 2: query.text = name; query.city = s.cities[i % s.cities.size()]; kind = &nameCity; break;
        default: query.text = name.substr(0, 4); query.profession = "infirmier"; kind = &prefixProfession; break;
        }
        timed(*kind, [&] { results += search(db, query).size(); });
        kind->queries.push_back(std::move(query));
    }

    auto count = db.prepare("SELECT count(*) FROM mailboxes");
    count.step();
    std::cout << "{\"mailboxes\": " << count.int64(0) << ", \"lookups\": " << lookups << ", \"lookups_found\": " << found
              << ", \"searches\": " << searches << ", \"search_results\": " << results << ", \"latency_us\": {";
    const char* separator = "";
    for (const auto* latencies : {&lookup, &prefix, &nameCity, &prefixProfession}) {
        std::cout << separator << "\"" << latencies->kind << "\": {\"count\": " << latencies->micros.size()
                  << ", \"p50\": " << percentile(latencies->micros, 0.50)
                  << ", \"p99\": " << percentile(latencies->micros, 0.99)
                  << ", \"p99.9\": " << percentile(latencies->micros, 0.999)
                  << ", \"max\": " << percentile(latencies->micros, 1.0) << "}";
        separator = ", ";
    }
    std::cout << "}, \"slowest\": {";
    separator = "";
    for (const auto* latencies : {&prefix, &nameCity, &prefixProfession}) {
        std::cout << separator;
        printSlowest(db, *latencies, slowest);
        separator = ", ";
    }
    std::cout << "}}\n";
    return found == lookups ? 0 : 1;
}
