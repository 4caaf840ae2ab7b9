#include "relay/Routing.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <arpa/nameser.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace plexus::relay {
namespace {

// DNS messages in wire format (RFC 1035 4.1), as a resolver receives them.
class DnsMessage {
public:
    explicit DnsMessage(const std::string& question)
    {
        put16(0x1234);  // id
        put16(0x8180);  // response, recursion desired and available, NOERROR
        put16(1);       // QDCOUNT
        put16(0);       // ANCOUNT, set by each answer
        put16(0);
        put16(0);
        putName(question);
        put16(ns_t_mx);
        put16(ns_c_in);
    }

    // An MX record for the question name (a pointer to offset 12); the exchange
    // is written in full, or as a label followed by a pointer to the question
    // name when it ends with it (compression, RFC 1035 4.1.4).
    DnsMessage& mx(std::uint16_t preference, const std::string& exchange, bool compress = false)
    {
        std::vector<std::uint8_t> rdata{static_cast<std::uint8_t>(preference >> 8),
                                        static_cast<std::uint8_t>(preference & 0xff)};
        if (compress) {
            const auto dot = exchange.find('.');
            rdata.push_back(static_cast<std::uint8_t>(dot));
            rdata.insert(rdata.end(), exchange.begin(), exchange.begin() + static_cast<std::ptrdiff_t>(dot));
            rdata.push_back(0xc0);
            rdata.push_back(12);
        } else {
            for (auto b : encodeName(exchange)) rdata.push_back(b);
        }
        return answer(ns_t_mx, rdata);
    }

    DnsMessage& answer(std::uint16_t type, const std::vector<std::uint8_t>& rdata)
    {
        bytes_.push_back(0xc0);  // owner: the question name
        bytes_.push_back(12);
        put16(type);
        put16(ns_c_in);
        put16(0);
        put16(3600);  // TTL
        put16(static_cast<std::uint16_t>(rdata.size()));
        bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
        ++bytes_[7];
        return *this;
    }

    std::vector<std::uint8_t>& bytes() { return bytes_; }
    std::vector<MxRecord> parse() const { return parseMxAnswer(bytes_); }

    static std::vector<std::uint8_t> encodeName(const std::string& name)
    {
        std::vector<std::uint8_t> out;
        std::istringstream labels(name);
        for (std::string label; std::getline(labels, label, '.');) {
            out.push_back(static_cast<std::uint8_t>(label.size()));
            out.insert(out.end(), label.begin(), label.end());
        }
        out.push_back(0);
        return out;
    }

private:
    void put16(std::uint16_t value)
    {
        bytes_.push_back(static_cast<std::uint8_t>(value >> 8));
        bytes_.push_back(static_cast<std::uint8_t>(value & 0xff));
    }
    void putName(const std::string& name)
    {
        for (auto b : encodeName(name)) bytes_.push_back(b);
    }

    std::vector<std::uint8_t> bytes_;
};

TEST(MxAnswer, ParsesRecordsWithCompressedAndFullNames)
{
    const auto records = DnsMessage("clinique.mssante.test")
                             .mx(10, "mx1.clinique.mssante.test", true)
                             .mx(20, "relais.operateur.example")
                             .parse();
    EXPECT_EQ(records, (std::vector<MxRecord>{{10, "mx1.clinique.mssante.test"}, {20, "relais.operateur.example"}}));
}

TEST(MxAnswer, SkipsOtherRecordTypesInTheAnswer)
{
    DnsMessage message("alias.mssante.test");
    message.answer(ns_t_cname, DnsMessage::encodeName("real.mssante.test")).mx(5, "mx.real.mssante.test");
    EXPECT_EQ(message.parse(), (std::vector<MxRecord>{{5, "mx.real.mssante.test"}}));
}

TEST(MxAnswer, NullMxIsTheEmptyExchange)
{
    DnsMessage message("nomail.mssante.test");
    message.answer(ns_t_mx, {0, 0, 0});  // preference 0, the root name
    EXPECT_EQ(message.parse(), (std::vector<MxRecord>{{0, ""}}));
}

TEST(MxAnswer, NoAnswerRecordsIsAnEmptyList)
{
    EXPECT_TRUE(DnsMessage("empty.mssante.test").parse().empty());
}

TEST(MxAnswer, RefusesTruncatedMessages)
{
    DnsMessage message("clinique.mssante.test");
    message.mx(10, "mx1.clinique.mssante.test");
    message.bytes().resize(message.bytes().size() - 4);
    EXPECT_THROW(message.parse(), RelayError);
    EXPECT_THROW(parseMxAnswer(std::vector<std::uint8_t>{1, 2, 3}), RelayError);
}

TEST(MxAnswer, RefusesRdataLongerThanItsName)
{
    auto rdata = DnsMessage::encodeName("mx.clinique.mssante.test");
    rdata.insert(rdata.begin(), {0, 10});
    rdata.push_back(0xff);  // trailing garbage inside RDLENGTH
    DnsMessage message("clinique.mssante.test");
    message.answer(ns_t_mx, rdata);
    EXPECT_THROW(message.parse(), RelayError);
}

TEST(MxAnswer, RefusesACompressionPointerOutsideTheMessage)
{
    DnsMessage message("clinique.mssante.test");
    message.answer(ns_t_mx, {0, 10, 0xc3, 0xff});
    EXPECT_THROW(message.parse(), RelayError);
}

TEST(DeliveryOrder, SortsByPreferenceAndShufflesEqualOnes)
{
    const std::vector<MxRecord> records{{20, "c"}, {10, "a"}, {30, "d"}, {10, "b"}};
    std::set<std::string> firsts;
    for (int i = 0; i < 200; ++i) {
        const auto ordered = inDeliveryOrder(records);
        ASSERT_EQ(ordered.size(), 4u);
        EXPECT_EQ(ordered[0].preference, 10);
        EXPECT_EQ(ordered[1].preference, 10);
        EXPECT_EQ(ordered[2].exchange, "c");
        EXPECT_EQ(ordered[3].exchange, "d");
        firsts.insert(ordered[0].exchange);
    }
    EXPECT_EQ(firsts, (std::set<std::string>{"a", "b"}));
}

TEST(RouteTarget, ParsesHostsPortsAndBrackets)
{
    EXPECT_EQ(RouteTarget::parse("mx.example.org"), (RouteTarget{"mx.example.org", 25}));
    EXPECT_EQ(RouteTarget::parse(" 127.0.0.1:2525 "), (RouteTarget{"127.0.0.1", 2525}));
    EXPECT_EQ(RouteTarget::parse("[relay.example.org]:587"), (RouteTarget{"relay.example.org", 587}));
    EXPECT_EQ(RouteTarget::parse("[::1]:2525"), (RouteTarget{"::1", 2525}));
    EXPECT_EQ(RouteTarget::parse("[::1]"), (RouteTarget{"::1", 25}));
    EXPECT_EQ(RouteTarget::parse("[::1]:2525").toString(), "[::1]:2525");
    EXPECT_EQ(RouteTarget::parse("mx.example.org").toString(), "mx.example.org:25");
}

TEST(RouteTarget, RefusesMalformedTargets)
{
    for (const char* bad : {"", ":25", "host:", "host:0", "host:65536", "host:2x", "::1:25", "[::1", "[::1]x",
                            "two words:25"})
        EXPECT_THROW(RouteTarget::parse(bad), RelayError) << bad;
}

TEST(RouteTable, ReadsDottedDomainsFromTheRoutesSection)
{
    std::istringstream ini("[server]\nhostname = mx.hopital.test\n"
                           "[routes]\nclinique.mssante.test = 127.0.0.1:2525\n"
                           "Labo.Example.ORG. = relay.example.org\n"
                           "example.org = [::1]:26\n");
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(ini));
    const auto table = RouteTable::fromConfig(*config);
    EXPECT_EQ(table.entries().size(), 3u);
    ASSERT_NE(table.find("CLINIQUE.mssante.test."), nullptr);
    EXPECT_EQ(*table.find("clinique.mssante.test"), (RouteTarget{"127.0.0.1", 2525}));
    // A domain that is also the prefix of another key path.
    ASSERT_NE(table.find("labo.example.org"), nullptr);
    EXPECT_EQ(table.find("labo.example.org")->host, "relay.example.org");
    ASSERT_NE(table.find("example.org"), nullptr);
    EXPECT_EQ(table.find("example.org")->port, 26);
    EXPECT_EQ(table.find("other.example.org"), nullptr);
}

TEST(RouteTable, ABadTargetNamesItself)
{
    std::istringstream ini("[routes]\nclinique.mssante.test = host:99999\n");
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(ini));
    try {
        RouteTable::fromConfig(*config);
        FAIL() << "accepted a bad port";
    } catch (const RelayError& e) {
        EXPECT_NE(std::string(e.what()).find("host:99999"), std::string::npos) << e.what();
    }
}

// Answers from a table, no network.
class FakeResolver : public Resolver {
public:
    std::map<std::string, MxLookup> mx;
    std::map<std::string, AddressLookup> addresses;

    MxLookup lookupMx(const std::string& domain) override
    {
        const auto it = mx.find(domain);
        return it != mx.end() ? it->second : MxLookup{LookupStatus::NoSuchDomain, {}, "no such domain (NXDOMAIN)"};
    }
    AddressLookup lookupAddresses(const std::string& host) override
    {
        const auto it = addresses.find(host);
        return it != addresses.end() ? it->second : AddressLookup{LookupStatus::NoSuchDomain, {}, "no such host"};
    }
    void address(const std::string& host, const std::string& ip)
    {
        addresses[host] = {LookupStatus::Found, {Poco::Net::IPAddress(ip)}, ""};
    }
};

TEST(SystemResolver, ResolvesHostsFileNames)
{
    const auto lookup = SystemResolver().lookupAddresses("localhost");
    ASSERT_EQ(lookup.status, LookupStatus::Found) << lookup.error;
    EXPECT_FALSE(lookup.addresses.empty());
    for (const auto& address : lookup.addresses) EXPECT_TRUE(address.isLoopback()) << address.toString();
}

std::vector<std::string> hostNames(const Route& route)
{
    std::vector<std::string> names;
    for (const auto& host : route.hosts) names.push_back(host.name + ":" + std::to_string(host.port));
    return names;
}

class RouterTest : public ::testing::Test {
protected:
    std::shared_ptr<FakeResolver> dns = std::make_shared<FakeResolver>();
    Router router{dns, RouteTable()};
};

TEST_F(RouterTest, StaticRouteWinsOverDns)
{
    dns->mx["clinique.mssante.test"] = {LookupStatus::Found, {{10, "mx.clinique.mssante.test"}}, ""};
    dns->address("mx.clinique.mssante.test", "192.0.2.1");
    dns->address("localhost", "127.0.0.1");
    RouteTable table;
    table.set("clinique.mssante.test", {"localhost", 2525});
    router.replaceRoutes(table);
    const auto route = router.route("Clinique.MSSante.test");
    EXPECT_EQ(route.source, "static route");
    EXPECT_EQ(hostNames(route), std::vector<std::string>{"localhost:2525"});
    EXPECT_EQ(route.hosts[0].addresses, (std::vector<Poco::Net::IPAddress>{Poco::Net::IPAddress("127.0.0.1")}));

    router.replaceRoutes(RouteTable());
    EXPECT_EQ(router.route("clinique.mssante.test").hosts.at(0).name, "mx.clinique.mssante.test");
}

TEST_F(RouterTest, StaticRouteToAnUnknownHostIsTemporary)
{
    RouteTable table;
    table.set("clinique.mssante.test", {"nowhere.invalid", 25});
    router.replaceRoutes(table);
    const auto route = router.route("clinique.mssante.test");
    EXPECT_EQ(route.failure, Route::Failure::Temporary);
    EXPECT_EQ(route.reason, "static route nowhere.invalid:25: nowhere.invalid: no such host");
}

TEST_F(RouterTest, MxHostsInPreferenceOrderOnPort25)
{
    dns->mx["hopital.test"] = {LookupStatus::Found, {{20, "backup.hopital.test"}, {10, "mx.hopital.test"}}, ""};
    dns->address("mx.hopital.test", "192.0.2.1");
    dns->address("backup.hopital.test", "192.0.2.2");
    const auto route = router.route("hopital.test");
    EXPECT_EQ(route.failure, Route::Failure::None);
    EXPECT_EQ(route.source, "MX");
    EXPECT_EQ(hostNames(route), (std::vector<std::string>{"mx.hopital.test:25", "backup.hopital.test:25"}));
}

TEST_F(RouterTest, MxHostWithoutAddressIsKeptWithItsReason)
{
    dns->mx["hopital.test"] = {LookupStatus::Found, {{10, "gone.hopital.test"}, {20, "mx.hopital.test"}}, ""};
    dns->address("mx.hopital.test", "192.0.2.1");
    const auto route = router.route("hopital.test");
    EXPECT_EQ(route.failure, Route::Failure::None);
    ASSERT_EQ(route.hosts.size(), 2u);
    EXPECT_TRUE(route.hosts[0].addresses.empty());
    EXPECT_EQ(route.hosts[0].lookupError, "gone.hopital.test: no such host");
}

TEST_F(RouterTest, NoMxHostWithAnAddressIsTemporary)
{
    dns->mx["hopital.test"] = {LookupStatus::Found, {{10, "a.hopital.test"}, {20, "b.hopital.test"}}, ""};
    dns->addresses["b.hopital.test"] = {LookupStatus::TemporaryFailure, {}, "Temporary failure in name resolution"};
    const auto route = router.route("hopital.test");
    EXPECT_EQ(route.failure, Route::Failure::Temporary);
    EXPECT_EQ(route.reason, "no MX host of hopital.test has an address: a.hopital.test: no such host; "
                            "b.hopital.test: Temporary failure in name resolution");
}

TEST_F(RouterTest, NullMxIsPermanent)
{
    dns->mx["nomail.test"] = {LookupStatus::Found, {{0, ""}}, ""};
    dns->address("nomail.test", "192.0.2.1");
    const auto route = router.route("nomail.test");
    EXPECT_EQ(route.failure, Route::Failure::Permanent);
    EXPECT_EQ(route.reason, "domain nomail.test accepts no mail (null MX, RFC 7505)");
    EXPECT_TRUE(route.hosts.empty());
}

TEST_F(RouterTest, RootExchangeAmongOthersIsLeftOut)
{
    dns->mx["odd.test"] = {LookupStatus::Found, {{0, ""}, {10, "mx.odd.test"}}, ""};
    dns->address("mx.odd.test", "192.0.2.1");
    EXPECT_EQ(hostNames(router.route("odd.test")), std::vector<std::string>{"mx.odd.test:25"});
}

TEST_F(RouterTest, NoMxFallsBackToTheDomainsAddress)
{
    dns->mx["small.test"] = {LookupStatus::NoRecords, {}, "no MX records"};
    dns->address("small.test", "2001:db8::25");
    const auto route = router.route("small.test");
    EXPECT_EQ(route.source, "implicit MX");
    EXPECT_EQ(hostNames(route), std::vector<std::string>{"small.test:25"});
    EXPECT_EQ(route.hosts.at(0).addresses.at(0).toString(), "2001:db8::25");
}

TEST_F(RouterTest, NeitherMxNorAddressIsPermanent)
{
    dns->mx["bare.test"] = {LookupStatus::NoRecords, {}, "no MX records"};
    dns->addresses["bare.test"] = {LookupStatus::NoRecords, {}, "no address records"};
    const auto route = router.route("bare.test");
    EXPECT_EQ(route.failure, Route::Failure::Permanent);
    EXPECT_EQ(route.reason, "domain bare.test has neither MX nor address records (no address records)");
}

TEST_F(RouterTest, ImplicitMxLookupFailureIsTemporary)
{
    dns->mx["flaky.test"] = {LookupStatus::NoRecords, {}, "no MX records"};
    dns->addresses["flaky.test"] = {LookupStatus::TemporaryFailure, {}, "Temporary failure in name resolution"};
    EXPECT_EQ(router.route("flaky.test").failure, Route::Failure::Temporary);
}

TEST_F(RouterTest, NxDomainIsPermanentAndServfailTemporary)
{
    const auto missing = router.route("missing.test");
    EXPECT_EQ(missing.failure, Route::Failure::Permanent);
    EXPECT_EQ(missing.reason, "domain missing.test does not exist (NXDOMAIN)");
    dns->mx["broken.test"] = {LookupStatus::TemporaryFailure, {}, "DNS server failure or timeout"};
    const auto broken = router.route("broken.test");
    EXPECT_EQ(broken.failure, Route::Failure::Temporary);
    EXPECT_EQ(broken.reason, "MX lookup for broken.test failed: DNS server failure or timeout");
}

}  // namespace
}  // namespace plexus::relay
