// relay-probe: relays one message with SmtpRelayClient::deliver and prints each
// recipient's outcome, for the integration tests.
//
//   relay-probe --config plexus.conf --from SENDER --message FILE
//               [--envid XTEXT] [--ret FULL|HDRS]
//               --to ADDRESS [--notify LIST] [--orcpt TYPE;ADDRESS] [--to ...]
//
// The configuration is plexusd's: server.hostname, [tls], trust.whitelist,
// [relay] timeouts and [routes]. Output: "remote-host\t...", "peer-took-dsn\tyes|no",
// then "RECIPIENT\tdelivered|temporary|permanent\tREPLY" per recipient.
#include "net/TlsContext.h"
#include "relay/Routing.h"
#include "relay/SmtpRelayClient.h"
#include "store/AtRestKey.h"
#include "store/BlobReader.h"
#include "store/BlobWriter.h"
#include "trust/Whitelist.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace plexus;

// A scratch folder for the probe's at-rest key and the message blob, removed on exit.
class ScratchDir {
public:
    ScratchDir() : path_(fs::temp_directory_path() / ("relay-probe-" + std::to_string(::getpid())))
    {
        fs::create_directories(path_);
        fs::permissions(path_, fs::perms::owner_all);
    }
    ~ScratchDir() { fs::remove_all(path_); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

const char* outcomeName(queue::Outcome outcome)
{
    switch (outcome) {
    case queue::Outcome::Delivered: return "delivered";
    case queue::Outcome::Temporary: return "temporary";
    case queue::Outcome::Permanent: return "permanent";
    }
    return "?";
}

int usage()
{
    std::cerr << "usage: relay-probe --config FILE --from SENDER --message FILE [--envid X] [--ret FULL|HDRS]\n"
                 "                   --to ADDRESS [--notify LIST] [--orcpt TYPE;ADDRESS] ...\n";
    return 2;
}

int run(int argc, char** argv)
{
    std::map<std::string, std::string> options;
    queue::OutboundMessage message;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string name = argv[i], value = argv[i + 1];
        if (name == "--to") {
            message.recipients.push_back({value, "", ""});
        } else if ((name == "--notify" || name == "--orcpt") && !message.recipients.empty()) {
            (name == "--notify" ? message.recipients.back().notify : message.recipients.back().orcpt) = value;
        } else if (name == "--config" || name == "--from" || name == "--message" || name == "--envid" || name == "--ret") {
            options[name] = value;
        } else {
            return usage();
        }
    }
    if (argc % 2 == 0 || !options.count("--config") || !options.count("--from") || !options.count("--message") ||
        message.recipients.empty())
        return usage();

    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(options["--config"]));
    const net::TlsContexts tls({config->getString("tls.certificate"), config->getString("tls.key"),
                                config->getString("tls.trust_anchors"), config->getString("tls.crl", "")});
    const auto whitelist =
        std::make_shared<const trust::Whitelist>(trust::Whitelist::loadFile(config->getString("trust.whitelist")));
    const relay::Router router(std::make_shared<relay::SystemResolver>(), relay::RouteTable::fromConfig(*config));
    relay::SmtpRelayClient client(relay::ClientSettings::fromConfig(*config), router, tls, [whitelist] { return whitelist; });

    // The queue hands over an encrypted blob; make one from the message file.
    const ScratchDir scratch;
    const std::string keyPath = scratch / "at-rest.key", blobPath = scratch / "message.blob";
    store::AtRestKey::generateFile(keyPath);
    const auto key = store::AtRestKey::loadFile(keyPath);
    std::uint64_t size = 0;
    {
        store::BlobWriter writer(key, blobPath);
        std::ifstream in(options["--message"], std::ios::binary);
        if (!in) throw std::runtime_error("cannot read " + options["--message"]);
        std::vector<char> chunk(64 * 1024);
        while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0)
        {
            writer.write(chunk.data(), static_cast<std::size_t>(in.gcount()));
            size += static_cast<std::uint64_t>(in.gcount());
        }
        writer.commit();
    }
    message.queueId = "probe";
    message.sender = options["--from"];
    message.envid = options["--envid"];
    message.ret = options["--ret"];
    message.domain = message.recipients.front().address.substr(message.recipients.front().address.rfind('@') + 1);
    message.size = size;
    message.openContent = [&] { return store::BlobReader(key, blobPath); };

    const auto result = client.deliver(message);
    std::cout << "remote-host\t" << result.remoteHost << "\n"
              << "peer-took-dsn\t" << (result.peerTookDsn ? "yes" : "no") << "\n";
    for (const auto& recipient : result.recipients)
        std::cout << recipient.address << "\t" << outcomeName(recipient.outcome) << "\t" << recipient.reply << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "relay-probe: " << e.what() << "\n";
        return 1;
    }
}
