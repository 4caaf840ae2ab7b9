#include "cli/Arguments.h"

namespace plexus::cli {

Arguments Arguments::parse(int argc, char** argv, const std::set<std::string>& flagNames)
{
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0) {
            args.words.push_back(arg);
            continue;
        }
        const std::string name = arg.substr(2);
        if (flagNames.count(name)) {
            args.flags.insert(name);
        } else if (i + 1 < argc) {
            args.options[name] = argv[++i];
            args.allOptions.emplace(name, argv[i]);
        } else {
            throw UsageError("option " + arg + " needs a value");
        }
    }
    return args;
}

std::string Arguments::word(std::size_t index, const std::string& what) const
{
    if (index >= words.size()) throw UsageError("missing " + what);
    return words[index];
}

std::optional<std::string> Arguments::option(const std::string& name) const
{
    const auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
}

std::string Arguments::requiredOption(const std::string& name) const
{
    auto value = option(name);
    if (!value) throw UsageError("missing --" + name);
    return *value;
}

std::vector<std::string> Arguments::optionValues(const std::string& name) const
{
    std::vector<std::string> values;
    const auto [first, last] = allOptions.equal_range(name);
    for (auto it = first; it != last; ++it) values.push_back(it->second);
    return values;
}

void Arguments::allowOnly(const std::set<std::string>& names) const
{
    for (const auto& [name, value] : options)
        if (!names.count(name)) throw UsageError("unknown option --" + name);
    for (const auto& name : flags)
        if (!names.count(name)) throw UsageError("unknown option --" + name);
}

}  // namespace plexus::cli
