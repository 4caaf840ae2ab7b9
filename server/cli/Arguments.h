// Command-line words of plexusctl: positional words and --options.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::cli {

class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Arguments {
    std::vector<std::string> words;
    std::map<std::string, std::string> options;  // --name value (the last one when repeated)
    std::multimap<std::string, std::string> allOptions;  // every --name value, in order
    std::set<std::string> flags;                 // --name (no value)

    // `flagNames` are the options that take no value.
    static Arguments parse(int argc, char** argv, const std::set<std::string>& flagNames);
    std::string word(std::size_t index, const std::string& what) const;
    std::optional<std::string> option(const std::string& name) const;
    std::string requiredOption(const std::string& name) const;
    // Every value of a repeatable option, in command-line order.
    std::vector<std::string> optionValues(const std::string& name) const;
    bool flag(const std::string& name) const { return flags.count(name) > 0; }
    // Refuses options the command does not know, so typos are not silently ignored.
    void allowOnly(const std::set<std::string>& names) const;
};

}  // namespace plexus::cli
