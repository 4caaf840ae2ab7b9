#include "relay/Routing.h"

#include <Poco/String.h>

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <random>

namespace plexus::relay {

namespace {

std::string normalisedDomain(std::string_view domain)
{
    std::string key = Poco::toLower(std::string(domain));
    if (!key.empty() && key.back() == '.') key.pop_back();
    return key;
}

std::uint16_t parsePort(std::string_view text, std::string_view whole)
{
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        throw RelayError("route \"" + std::string(whole) + "\": the port must be a number from 1 to 65535");
    return static_cast<std::uint16_t>(value);
}

// Every key below `prefix` with its value: Poco splits keys at dots, so
// "[routes] example.org = x" is the path routes → example → org.
void collectRoutes(const Poco::Util::AbstractConfiguration& config, const std::string& prefix,
                   const std::string& domain, RouteTable& table)
{
    Poco::Util::AbstractConfiguration::Keys keys;
    config.keys(prefix, keys);
    for (const auto& key : keys) {
        const std::string path = prefix + "." + key;
        const std::string name = domain.empty() ? key : domain + "." + key;
        if (config.has(path)) table.set(name, RouteTarget::parse(Poco::trim(config.getRawString(path))));
        collectRoutes(config, path, name, table);
    }
}

// One resolver state per lookup: res_nquery on the process-wide _res is not
// thread-safe. res_ninit reads /etc/resolv.conf; res_nclose frees what it took.
class ResolverState {
public:
    ResolverState() : ready_(res_ninit(&state_) == 0) {}
    ~ResolverState()
    {
        if (ready_) res_nclose(&state_);
    }
    ResolverState(const ResolverState&) = delete;
    ResolverState& operator=(const ResolverState&) = delete;

    bool ready() const { return ready_; }
    res_state get() { return &state_; }

private:
    struct __res_state state_ {};
    bool ready_;
};

using AddressInfoPtr = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

// The DNS answered, and there is nothing: retrying will not help.
bool isDefinite(LookupStatus status) { return status == LookupStatus::NoSuchDomain || status == LookupStatus::NoRecords; }

}  // namespace

RouteTarget RouteTarget::parse(std::string_view text)
{
    const std::string whole = Poco::trim(std::string(text));
    std::string_view rest(whole);
    RouteTarget target;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) throw RelayError("route \"" + whole + "\": missing ']'");
        target.host = rest.substr(1, close - 1);
        rest.remove_prefix(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) throw RelayError("route \"" + whole + "\": expected :PORT after ']'");
    } else {
        const auto colon = rest.find(':');
        if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos)
            throw RelayError("route \"" + whole + "\": write an IPv6 address in brackets, [ADDRESS]:PORT");
        target.host = rest.substr(0, colon);
        rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon);
    }
    if (rest.starts_with(':')) target.port = parsePort(rest.substr(1), whole);
    if (target.host.empty() || target.host.find_first_of(" \t") != std::string::npos)
        throw RelayError("route \"" + whole + "\": expected HOST or HOST:PORT");
    return target;
}

std::string RouteTarget::toString() const
{
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

RouteTable RouteTable::fromConfig(const Poco::Util::AbstractConfiguration& config, const std::string& section)
{
    RouteTable table;
    collectRoutes(config, section, "", table);
    return table;
}

void RouteTable::set(std::string_view domain, RouteTarget target)
{
    const std::string key = normalisedDomain(domain);
    if (key.empty()) throw RelayError("a route needs a domain");
    targets_[key] = std::move(target);
}

const RouteTarget* RouteTable::find(std::string_view domain) const
{
    const auto it = targets_.find(normalisedDomain(domain));
    return it == targets_.end() ? nullptr : &it->second;
}

std::vector<MxRecord> parseMxAnswer(std::span<const unsigned char> message)
{
    ns_msg parsed;
    if (message.size() > NS_MAXMSG || ns_initparse(message.data(), static_cast<int>(message.size()), &parsed) < 0)
        throw RelayError("malformed DNS answer");
    std::vector<MxRecord> records;
    for (int i = 0; i < ns_msg_count(parsed, ns_s_an); ++i) {
        ns_rr rr;
        if (ns_parserr(&parsed, ns_s_an, i, &rr) < 0) throw RelayError("malformed DNS answer record");
        if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in) continue;
        // RDATA: 16-bit preference, then the exchange, a possibly compressed name (RFC 1035 3.3.9).
        const unsigned char* rdata = ns_rr_rdata(rr);
        if (ns_rr_rdlen(rr) < 3) throw RelayError("malformed MX record");
        char name[NS_MAXDNAME];
        const int nameLength = dn_expand(ns_msg_base(parsed), ns_msg_end(parsed), rdata + 2, name, sizeof name);
        if (nameLength < 0 || 2 + nameLength != ns_rr_rdlen(rr)) throw RelayError("malformed MX exchange name");
        MxRecord record{static_cast<std::uint16_t>(ns_get16(rdata)), name};
        if (!record.exchange.empty() && record.exchange.back() == '.') record.exchange.pop_back();
        records.push_back(std::move(record));
    }
    return records;
}

std::vector<MxRecord> inDeliveryOrder(std::vector<MxRecord> records)
{
    thread_local std::mt19937 random{std::random_device{}()};
    std::sort(records.begin(), records.end(),
              [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
    for (auto first = records.begin(); first != records.end();) {
        const auto last = std::find_if(first, records.end(),
                                       [&](const MxRecord& r) { return r.preference != first->preference; });
        std::shuffle(first, last, random);
        first = last;
    }
    return records;
}

MxLookup SystemResolver::lookupMx(const std::string& domain)
{
    ResolverState state;
    if (!state.ready()) return {LookupStatus::TemporaryFailure, {}, "cannot initialise the DNS resolver"};
    std::vector<unsigned char> answer(NS_MAXMSG);
    const int length = res_nquery(state.get(), domain.c_str(), ns_c_in, ns_t_mx, answer.data(),
                                  static_cast<int>(answer.size()));
    if (length < 0) {
        switch (state.get()->res_h_errno) {
        case HOST_NOT_FOUND: return {LookupStatus::NoSuchDomain, {}, "no such domain (NXDOMAIN)"};
        case NO_DATA: return {LookupStatus::NoRecords, {}, "no MX records"};
        case TRY_AGAIN: return {LookupStatus::TemporaryFailure, {}, "DNS server failure or timeout"};
        default: return {LookupStatus::TemporaryFailure, {}, "DNS query failed (unrecoverable server error)"};
        }
    }
    try {
        auto records = parseMxAnswer(std::span(answer.data(), std::min<std::size_t>(length, answer.size())));
        if (records.empty()) return {LookupStatus::NoRecords, {}, "no MX records"};
        return {LookupStatus::Found, std::move(records), ""};
    } catch (const RelayError& e) {
        return {LookupStatus::TemporaryFailure, {}, e.what()};
    }
}

AddressLookup SystemResolver::lookupAddresses(const std::string& host)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int error = getaddrinfo(host.c_str(), nullptr, &hints, &found);
    const AddressInfoPtr owned(found, freeaddrinfo);
    switch (error) {
    case 0: break;
    case EAI_NONAME: return {LookupStatus::NoSuchDomain, {}, "no such host"};
    case EAI_NODATA: return {LookupStatus::NoRecords, {}, "no address records"};
    default: return {LookupStatus::TemporaryFailure, {}, gai_strerror(error)};
    }
    AddressLookup lookup;
    for (const addrinfo* info = found; info; info = info->ai_next) {
        if (info->ai_family != AF_INET && info->ai_family != AF_INET6) continue;
        const Poco::Net::IPAddress address(*info->ai_addr);
        if (std::find(lookup.addresses.begin(), lookup.addresses.end(), address) == lookup.addresses.end())
            lookup.addresses.push_back(address);
    }
    if (lookup.addresses.empty()) return {LookupStatus::NoRecords, {}, "no address records"};
    return lookup;
}

Router::Router(std::shared_ptr<Resolver> resolver, RouteTable routes)
    : resolver_(std::move(resolver)), routes_(std::make_shared<const RouteTable>(std::move(routes)))
{
}

void Router::replaceRoutes(RouteTable routes)
{
    auto replacement = std::make_shared<const RouteTable>(std::move(routes));
    std::lock_guard lock(mutex_);
    routes_ = std::move(replacement);
}

std::shared_ptr<const RouteTable> Router::routes() const
{
    std::lock_guard lock(mutex_);
    return routes_;
}

Route Router::route(const std::string& domain) const
{
    const std::string name = normalisedDomain(domain);
    if (const RouteTarget* target = routes()->find(name)) return staticRoute(*target);
    return mxRoute(name);
}

RelayHost Router::resolveHost(const std::string& name, std::uint16_t port) const
{
    RelayHost host{name, port, {}, {}};
    auto lookup = resolver_->lookupAddresses(name);
    if (lookup.status == LookupStatus::Found)
        host.addresses = std::move(lookup.addresses);
    else
        host.lookupError = name + ": " + lookup.error;
    return host;
}

Route Router::staticRoute(const RouteTarget& target) const
{
    Route route{{resolveHost(target.host, target.port)}, Route::Failure::None, "", "static route"};
    if (route.hosts.front().addresses.empty()) {
        route.failure = Route::Failure::Temporary;
        route.reason = "static route " + target.toString() + ": " + route.hosts.front().lookupError;
    }
    return route;
}

Route Router::mxRoute(const std::string& domain) const
{
    auto lookup = resolver_->lookupMx(domain);
    switch (lookup.status) {
    case LookupStatus::NoRecords: return implicitMxRoute(domain);
    case LookupStatus::NoSuchDomain:
        return {{}, Route::Failure::Permanent, "domain " + domain + " does not exist (NXDOMAIN)", "MX"};
    case LookupStatus::TemporaryFailure:
        return {{}, Route::Failure::Temporary, "MX lookup for " + domain + " failed: " + lookup.error, "MX"};
    case LookupStatus::Found: break;
    }
    // RFC 7505: a single MX of "." says the domain accepts no mail. A root
    // exchange among other records is unusable and left out.
    auto& records = lookup.records;
    const auto isNull = [](const MxRecord& r) { return r.exchange.empty(); };
    if (records.size() == 1 && isNull(records.front()))
        return {{}, Route::Failure::Permanent, "domain " + domain + " accepts no mail (null MX, RFC 7505)", "MX"};
    records.erase(std::remove_if(records.begin(), records.end(), isNull), records.end());
    Route route{{}, Route::Failure::None, "", "MX"};
    std::string errors;
    for (const auto& record : inDeliveryOrder(std::move(records))) {
        route.hosts.push_back(resolveHost(record.exchange, kSmtpPort));
        if (!route.hosts.back().lookupError.empty())
            errors += (errors.empty() ? "" : "; ") + route.hosts.back().lookupError;
    }
    if (std::all_of(route.hosts.begin(), route.hosts.end(), [](const RelayHost& h) { return h.addresses.empty(); })) {
        route.failure = Route::Failure::Temporary;
        route.reason = "no MX host of " + domain + " has an address: " + errors;
    }
    return route;
}

// RFC 5321 5.1: without MX records the domain itself is the host (implicit MX).
Route Router::implicitMxRoute(const std::string& domain) const
{
    auto lookup = resolver_->lookupAddresses(domain);
    if (lookup.status == LookupStatus::Found)
        return {{{domain, kSmtpPort, std::move(lookup.addresses), ""}}, Route::Failure::None, "", "implicit MX"};
    if (isDefinite(lookup.status))
        return {{}, Route::Failure::Permanent,
                "domain " + domain + " has neither MX nor address records (" + lookup.error + ")", "implicit MX"};
    return {{}, Route::Failure::Temporary, "address lookup for " + domain + " failed: " + lookup.error, "implicit MX"};
}

}  // namespace plexus::relay
