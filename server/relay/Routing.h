// Where mail for a remote domain goes: the hosts to try, in order. A static
// route from the configuration wins; otherwise DNS MX records (RFC 5321 5.1),
// the domain's own address records when it has no MX (implicit MX), and a null
// MX (RFC 7505) means the domain accepts no mail at all.
#pragma once

#include <Poco/Net/IPAddress.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::relay {

constexpr std::uint16_t kSmtpPort = 25;

// A bad relay setting (a route, a timeout) or a DNS answer that does not parse.
class RelayError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "HOST", "HOST:PORT", "[HOST]:PORT" or "[IPv6]:PORT"; the port defaults to 25.
struct RouteTarget {
    std::string host;
    std::uint16_t port = kSmtpPort;
    static RouteTarget parse(std::string_view text);  // throws RelayError
    std::string toString() const;
    bool operator==(const RouteTarget&) const = default;
};

// The static routes (`[routes] DOMAIN = HOST:PORT`): an immutable value, replaced
// whole on reload. A routed domain skips MX lookup; its host is resolved to
// addresses directly, as for a relay host.
class RouteTable {
public:
    RouteTable() = default;
    // Every key of `section`, domains with dots included. Throws RelayError.
    static RouteTable fromConfig(const Poco::Util::AbstractConfiguration& config, const std::string& section = "routes");

    // Domains compare case-insensitively; a trailing dot is ignored.
    void set(std::string_view domain, RouteTarget target);
    const RouteTarget* find(std::string_view domain) const;
    const std::map<std::string, RouteTarget>& entries() const { return targets_; }

private:
    std::map<std::string, RouteTarget> targets_;  // key: normalised domain
};

// One MX resource record; `exchange` has no trailing dot and is empty for the root (".").
struct MxRecord {
    std::uint16_t preference = 0;
    std::string exchange;
    bool operator==(const MxRecord&) const = default;
};

// The MX records in the answer section of a DNS response (RFC 1035 4.1, wire
// format), other record types (a CNAME chain) skipped. Throws RelayError when
// the message does not parse.
std::vector<MxRecord> parseMxAnswer(std::span<const unsigned char> message);

enum class LookupStatus {
    Found,
    NoRecords,         // the name exists without records of that type (NODATA)
    NoSuchDomain,      // NXDOMAIN: permanent
    TemporaryFailure,  // SERVFAIL, timeout, no resolver
};

struct MxLookup {
    LookupStatus status = LookupStatus::Found;
    std::vector<MxRecord> records;
    std::string error;  // what the resolver said, when not Found
};

struct AddressLookup {
    LookupStatus status = LookupStatus::Found;
    std::vector<Poco::Net::IPAddress> addresses;
    std::string error;
};

// DNS as the router needs it; tests substitute their own answers.
class Resolver {
public:
    virtual ~Resolver() = default;
    virtual MxLookup lookupMx(const std::string& domain) = 0;
    virtual AddressLookup lookupAddresses(const std::string& host) = 0;
};

// MX through libresolv (res_nquery, one resolver state per call: thread-safe),
// addresses through getaddrinfo (so /etc/hosts applies, as for any host name).
class SystemResolver : public Resolver {
public:
    MxLookup lookupMx(const std::string& domain) override;
    AddressLookup lookupAddresses(const std::string& host) override;
};

struct RelayHost {
    std::string name;
    std::uint16_t port = kSmtpPort;
    std::vector<Poco::Net::IPAddress> addresses;  // empty when lookupError says why
    std::string lookupError;
};

struct Route {
    enum class Failure { None, Temporary, Permanent };
    std::vector<RelayHost> hosts;  // in the order to try them
    Failure failure = Failure::None;
    std::string reason;            // why, when failure != None
    std::string source;            // "static route", "MX" or "implicit MX", for logs
};

class Router {
public:
    Router(std::shared_ptr<Resolver> resolver, RouteTable routes);

    // Thread-safe; deliveries in progress keep the table they started with.
    void replaceRoutes(RouteTable routes);
    std::shared_ptr<const RouteTable> routes() const;

    Route route(const std::string& domain) const;

private:
    Route staticRoute(const RouteTarget& target) const;
    Route mxRoute(const std::string& domain) const;
    Route implicitMxRoute(const std::string& domain) const;
    RelayHost resolveHost(const std::string& name, std::uint16_t port) const;

    std::shared_ptr<Resolver> resolver_;
    mutable std::mutex mutex_;
    std::shared_ptr<const RouteTable> routes_;
};

// MX records sorted by preference, lowest first, those of equal preference in
// random order (RFC 5321 5.1), to spread the load over equal hosts.
std::vector<MxRecord> inDeliveryOrder(std::vector<MxRecord> records);

}  // namespace plexus::relay
