// syslog-send: audit records through the ATNA plugin's syslog transports, for
// the integration tests (tests/integration/test_atna_syslog.py).
//
//   syslog-send --transport tls|udp --host HOST --port PORT --xml-file FILE
//               [--ca FILE] [--cert FILE --key FILE] [--server-name NAME]
//               [--max-size OCTETS] [--id-prefix TEXT] [--source ID] [--count N]
//
// Record n (from 1) carries FILE's content as its XML and "<id-prefix><n>" as
// its unique id. With --count, sends N records, flushes and exits 0, or prints
// "failed <n>: <reason>" and exits 1. Without it, reads commands from stdin:
// "send K" sends the next K records on the same transport (a failed record is
// the first of the next "send") and answers "ok <last n>" or "failed <n>: <reason>".
#include "SyslogTlsTransport.h"
#include "SyslogUdpTransport.h"

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace {

using namespace plexus::atna;

struct Sender {
    std::unique_ptr<AuditTransport> transport;
    SyslogTlsTransport* tls = nullptr;  // flushed after each batch
    AuditRecord record;
    std::string idPrefix;
    long next = 1;

    // Sends records up to `last`; prints and returns whether all went.
    bool sendUpTo(long last)
    {
        try {
            for (; next <= last; ++next) {
                record.uniqueId = idPrefix + std::to_string(next);
                record.eventId = next;
                record.time = std::chrono::system_clock::now();
                transport->send(record);
            }
            if (tls) tls->flush();
        } catch (const TransportError& e) {
            std::cout << "failed " << next << ": " << e.what() << std::endl;
            return false;
        }
        std::cout << "ok " << last << std::endl;
        return true;
    }
};

std::unique_ptr<AuditTransport> makeTransport(std::map<std::string, std::string>& options)
{
    const auto port = static_cast<std::uint16_t>(std::stoi(options.at("--port")));
    SyslogOrigin origin{10, "plexus-test", ""};
    if (options["--transport"] == "udp") {
        SyslogUdpSettings settings{options.at("--host"), port, 2048, origin};
        if (options.count("--max-size")) settings.maxMessageSize = std::stoul(options["--max-size"]);
        return std::make_unique<SyslogUdpTransport>(settings);
    }
    if (options["--transport"] != "tls") throw std::runtime_error("--transport tls|udp");
    return std::make_unique<SyslogTlsTransport>(SyslogTlsSettings{options.at("--host"), port, options.at("--ca"),
                                                                  options["--cert"], options["--key"],
                                                                  options["--server-name"],
                                                                  std::chrono::milliseconds(3000), origin});
}

}  // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);  // a write to a closed connection is an error, not an exit
    std::map<std::string, std::string> options;
    for (int i = 1; i + 1 < argc; i += 2) options[argv[i]] = argv[i + 1];
    try {
        Sender sender;
        sender.transport = makeTransport(options);
        sender.tls = dynamic_cast<SyslogTlsTransport*>(sender.transport.get());
        std::ifstream xml(options.at("--xml-file"), std::ios::binary);
        sender.record.xml.assign(std::istreambuf_iterator<char>(xml), {});
        sender.record.sourceId = options.count("--source") ? options["--source"] : "plexus.test";
        sender.idPrefix = options.count("--id-prefix") ? options["--id-prefix"] : sender.record.sourceId + ":";
        if (options.count("--count")) return sender.sendUpTo(std::stol(options["--count"])) ? 0 : 1;
        std::string command;
        long count = 0;
        while (std::cin >> command >> count) {
            if (command != "send") throw std::runtime_error("unknown command " + command);
            sender.sendUpTo(sender.next + count - 1);
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "syslog-send: " << e.what() << "\n";
        return 2;
    }
}
