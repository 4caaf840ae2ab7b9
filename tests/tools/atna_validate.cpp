// atna-validate SCHEMA.xsd [FILE]: validates the audit messages of FILE (or
// stdin), one per line as the ATNA file transport writes them ("<unique id>
// <AuditMessage ...>"; a line that starts with '<' is taken whole). Prints
// "valid N" and exits 0, or "line L: error" for the first invalid one and exits 1.
#include "AuditSchema.h"
#include "XercesSession.h"

#include <fstream>
#include <iostream>

int main(int argc, char** argv)
{
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: atna-validate SCHEMA.xsd [FILE]\n";
        return 2;
    }
    try {
        const plexus::atna::XercesSession xerces;
        plexus::testing::SchemaValidator validator(argv[1]);
        std::ifstream file;
        if (argc == 3) {
            file.open(argv[2]);
            if (!file) throw std::runtime_error(std::string("cannot read ") + argv[2]);
        }
        std::istream& in = argc == 3 ? file : std::cin;
        std::string line;
        std::size_t number = 0, valid = 0;
        while (std::getline(in, line)) {
            ++number;
            if (line.empty()) continue;
            const auto start = line.front() == '<' ? 0 : line.find(' ');
            const auto error = start == std::string::npos ? "no XML on the line" : validator.errorsIn(std::string_view(line).substr(start));
            if (!error.empty()) {
                std::cout << "line " << number << ": " << error << '\n';
                return 1;
            }
            ++valid;
        }
        std::cout << "valid " << valid << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "atna-validate: " << e.what() << '\n';
        return 2;
    }
}
