// init: writes a complete, working instance into one folder: configuration,
// development PKI, at-rest key, database, trust-space whitelist listing itself.
#include "cli/Commands.h"

#include "store/AtRestKey.h"
#include "store/Schema.h"
#include "trust/DevPki.h"

#include <Poco/XML/XMLWriter.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace plexus::cli {

namespace fs = std::filesystem;

namespace {

struct Instance {
    fs::path dir;
    std::string domain;
    std::string hostname;
    std::string listen;
    int portOffset;  // -1: standard ports
};

unsigned short portFor(const Instance& instance, int standard)
{
    const int port = instance.portOffset < 0 ? standard : instance.portOffset + standard;
    if (port > 65535) throw UsageError("--port-offset makes port " + std::to_string(port) + ", above 65535");
    return static_cast<unsigned short>(port);
}

void writeWhitelist(const fs::path& path, const std::string& domain, const std::string& operatorDn)
{
    std::ofstream out(path);
    Poco::XML::XMLWriter xml(out, Poco::XML::XMLWriter::WRITE_XML_DECLARATION | Poco::XML::XMLWriter::PRETTY_PRINT);
    const std::string ns = "https://listeblanche.mssante.fr/schema";
    auto element = [&](const std::string& name, const std::string& text) {
        xml.startElement(ns, name, name);
        xml.characters(text);
        xml.endElement(ns, name, name);
    };
    xml.startDocument();
    xml.startPrefixMapping("", ns);
    xml.startElement(ns, "ListeBlancheMSSante", "ListeBlancheMSSante");
    element("DateDeGeneration", "2026-01-01T00:00:00Z");
    xml.startElement(ns, "ListeDomaines", "ListeDomaines");
    xml.startElement(ns, "Domaine", "Domaine");
    element("Nom", domain);
    element("Description", "Plexus development instance");
    element("DNCertificatOperateur", operatorDn);
    element("DateMAJ", "2026-01-01T00:00:00Z");
    xml.endElement(ns, "Domaine", "Domaine");
    xml.endElement(ns, "ListeDomaines", "ListeDomaines");
    xml.endElement(ns, "ListeBlancheMSSante", "ListeBlancheMSSante");
    xml.endDocument();
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

void writeConfig(const Instance& in)
{
    const fs::path d = in.dir;
    std::ofstream out(d / "plexus.conf");
    out << "; Plexus instance written by plexusctl init. Paths are absolute.\n"
        << "[server]\n"
        << "hostname = " << in.hostname << "\n"
        << "domains = " << in.domain << "\n"
        << "data_dir = " << d.string() << "\n\n"
        << "[listen]\n"
        << "address = " << in.listen << "\n"
        << "mx = " << portFor(in, 25) << "\n"
        << "submission = " << portFor(in, 587) << "\n"
        << "submissions = " << portFor(in, 465) << "\n"
        << "imap = " << portFor(in, 143) << "\n"
        << "imaps = " << portFor(in, 993) << "\n"
        << "http = " << portFor(in, 80) << "\n\n"
        << "[tls]\n"
        << "; This server's certificate, presented to clients and, as client certificate, to peers.\n"
        << "certificate = " << (d / "pki/server.crt").string() << "\n"
        << "key = " << (d / "pki/server.key").string() << "\n"
        << "; CAs whose certificates peers (MX) and APP accounts may present: the IGC-Santé roots in production.\n"
        << "trust_anchors = " << (d / "pki/ca.crt").string() << "\n"
        << "; The CRLs in use (PEM), merged by plexusctl trust crl add and by the refreshes from crl_sources.\n"
        << "crl =\n"
        << "; Where the CAs publish their CRLs: https:// URLs or files, comma-separated (plexusctl trust crl source).\n"
        << "crl_sources =\n"
        << "; CA bundle for their HTTPS downloads; empty: the system CAs.\n"
        << "crl_sources_ca =\n"
        << "; Minutes between refreshes; they are also fetched at start and on SIGHUP (0: then only).\n"
        << "crl_refresh_minutes = 60\n\n"
        << "[trust]\n"
        << "; The trust-space whitelist plexusd starts with; each good refresh rewrites it (the last good copy).\n"
        << "whitelist = " << (d / "whitelist.xml").string() << "\n"
        << "; Where refreshes fetch it: an https:// URL or a file; empty: the file above alone.\n"
        << "; The national list is https://espacedeconfiance.mssante.fr/listeblanchemssante.xml\n"
        << "whitelist_source =\n"
        << "; Optional SHA-256 checksum of the list (\"<hex digest>  name\"), an https:// URL or a file.\n"
        << "whitelist_checksum =\n"
        << "; CA bundle for the HTTPS download; empty: the system CAs.\n"
        << "whitelist_ca =\n"
        << "; Minutes between refreshes (0: on SIGHUP only). plexusctl whitelist source|refresh manage these.\n"
        << "whitelist_refresh_minutes = 60\n\n"
        << "[store]\n"
        << "database = " << (d / "plexus.db").string() << "\n"
        << "blobs = " << (d / "blobs").string() << "\n"
        << "; The at-rest encryption key: keep it off the database's backups.\n"
        << "key = " << (d / "keys/at-rest.key").string() << "\n"
        << "default_quota_mb = 1024\n\n"
        << "[limits]\n"
        << "message_size = 52428800\n"
        << "header_size = 262144\n"
        << "recipients = 500\n"
        << "line_length = 998\n"
        << "idle_timeout = 300\n"
        << "session_time = 1800\n"
        << "max_sessions = 500\n"
        << "; IMAP: autologout after this long without a command once logged in (RFC 3501 5.4:\n"
        << "; at least 30 minutes), before login; IDLE sessions waiting without a thread.\n"
        << "imap_idle_timeout = 1800\n"
        << "imap_login_timeout = 60\n"
        << "imap_max_idle_sessions = 20000\n\n"
        << "[smtp]\n"
        << "; A message with more Received: fields than this (ours included) is refused as a mail loop.\n"
        << "max_hops = 50\n\n"
        << "[relay]\n"
        << "; Remote recipients an authenticated sender may give per hour (0: no limit); APP accounts apart.\n"
        << "sender_rate_limit = 1000\n"
        << "app_sender_rate_limit = 10000\n\n"
        << "[auth]\n"
        << "; Passwords are an operator option; Pro Santé Connect tokens are the MSSanté rule.\n"
        << "passwords = true\n"
        << "; Development issuer standing in for Pro Santé Connect (RS256 JWT access tokens).\n"
        << "token_issuer = https://" << in.hostname << "/dev-oidc\n"
        << "token_audience = plexus\n"
        << "token_public_key = " << (d / "pki/oidc-issuer.pub").string() << "\n"
        << "throttle_ip_failures = 20\n"
        << "throttle_account_failures = 10\n"
        << "throttle_window = 300\n\n"
        << "[relay]\n"
        << "; Mail for other operators waits in the outbound queue: retried after first_retry_seconds,\n"
        << "; doubling up to max_retry_seconds; a delay notice after delay_notice_hours, returned to\n"
        << "; its sender after lifetime_hours (hours may be fractional). plexusctl queue shows it.\n"
        << "lifetime_hours = 120\n"
        << "delay_notice_hours = 4\n"
        << "first_retry_seconds = 300\n"
        << "max_retry_seconds = 3600\n"
        << "scan_seconds = 5\n"
        << "max_deliveries = 20\n"
        << "max_per_destination = 4\n"
        << "; The SMTP client's timeouts (RFC 5321 4.5.3.2). Mail goes to each domain's MX records,\n"
        << "; or to the HOST:PORT of its static route (plexusctl route set DOMAIN HOST:PORT).\n"
        << "connect_timeout_seconds = 30\n"
        << "command_timeout_seconds = 300\n"
        << "data_timeout_seconds = 600\n\n"
        << "[plugins]\n"
        << "; Loaded at start, in this order, each configured in its [plugin.NAME] section;\n"
        << "; plexusctl plugin add PATH.so and plexusctl plugin remove NAME edit both.\n"
        << "enabled =\n"
        << "; The folder of plugin paths that are not absolute.\n"
        << "; dir = " << (d / "plugins").string() << "\n";
    if (!out) throw std::runtime_error("cannot write " + (d / "plexus.conf").string());
}

}  // namespace

int runInit(const Arguments& args)
{
    args.allowOnly({"dir", "domain", "listen", "port-offset", "hostname"});
    Instance in;
    in.dir = fs::absolute(args.requiredOption("dir"));
    in.domain = args.requiredOption("domain");
    in.hostname = args.option("hostname").value_or("mail." + in.domain);
    in.listen = args.option("listen").value_or("0.0.0.0");
    in.portOffset = -1;
    if (auto offset = args.option("port-offset")) {
        try {
            in.portOffset = std::stoi(*offset);
        } catch (const std::exception&) {
            throw UsageError("--port-offset takes a number");
        }
        if (in.portOffset < 0) throw UsageError("--port-offset must not be negative");
    }
    if (fs::exists(in.dir / "plexus.conf"))
        throw std::runtime_error(in.dir.string() + " already holds an instance (plexus.conf exists)");

    for (const char* sub : {"pki", "keys", "blobs"}) fs::create_directories(in.dir / sub);
    fs::permissions(in.dir / "keys", fs::perms::owner_all, fs::perm_options::replace);
    const fs::path pki = in.dir / "pki";
    trust::CaSpec ca;
    ca.commonName = ("Plexus dev CA " + in.domain).substr(0, 64);  // X.520 upper bound of a CN
    ca.organization = "Plexus development PKI, stands in for IGC-Sante";
    ca.country = "FR";
    trust::createRootCa(ca, (pki / "ca.key").string(), (pki / "ca.crt").string());
    // The loopback names too, so that clients on this machine can check the name (the demo's curl).
    std::vector<std::string> names{in.hostname, in.domain, "localhost", "127.0.0.1"};
    if (in.listen != "0.0.0.0" && in.listen != "127.0.0.1") names.push_back(in.listen);
    trust::issueServerCertificate((pki / "ca.key").string(), (pki / "ca.crt").string(), in.hostname, names,
                                  "Plexus " + in.domain,
                                  (pki / "server.key").string(), (pki / "server.crt").string());
    trust::createSigningKeyPair((pki / "oidc-issuer.key").string(), (pki / "oidc-issuer.pub").string());
    store::AtRestKey::generateFile((in.dir / "keys/at-rest.key").string());
    writeWhitelist(in.dir / "whitelist.xml", in.domain,
                   trust::rfc4514SubjectOfCertificateFile((pki / "server.crt").string()));
    {
        store::Database db((in.dir / "plexus.db").string());
        store::migrateSchema(db);
    }
    writeConfig(in);
    std::cout << "instance for " << in.domain << " written to " << in.dir.string() << "\n"
              << "start it with: plexusd --config " << (in.dir / "plexus.conf").string() << '\n';
    return 0;
}

}  // namespace plexus::cli
