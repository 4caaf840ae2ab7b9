// plexus.conf edited in place (Poco reads INI files but cannot write them):
// plexusctl changes a few keys and sections and keeps every other line,
// comment and blank line byte for byte. The syntax is the one Poco's
// IniFileConfiguration reads: "[section]", "key = value", comment lines
// starting with ';' (or '#'), names compared without regard to case.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::cli {

class ConfigFileError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class ConfigFile {
public:
    static ConfigFile load(const std::string& path);
    // Replaces the file atomically (temporary file, fsync, rename) with the
    // same mode; through a symbolic link, the file it points to.
    void save() const;

    const std::string& path() const { return path_; }
    std::string text() const;

    bool hasSection(std::string_view section) const;
    // The last value of the key in the section (as Poco reads it), trimmed.
    std::optional<std::string> value(std::string_view section, std::string_view key) const;
    // Rewrites the key's last line, or adds "key = value" after the section's
    // last line, or adds the section at the end of the file.
    void setValue(std::string_view section, std::string_view key, std::string_view value);
    // Appends a blank line, "[section]" and `body` (comment and key lines).
    void appendSection(std::string_view section, const std::vector<std::string>& body);
    // Removes the section's lines with the comments just above its header; false when absent.
    bool removeSection(std::string_view section);

private:
    // A section's lines: [start, end), its header at `header`, preceded by the
    // comment lines attached to it (no blank line in between).
    struct Span {
        std::string section;
        std::size_t start, header, end;
    };

    ConfigFile(std::string path, std::vector<std::string> lines, bool endsWithNewline)
        : path_(std::move(path)), lines_(std::move(lines)), endsWithNewline_(endsWithNewline)
    {
    }
    std::vector<Span> spans() const;
    std::optional<Span> lastSpan(std::string_view section) const;
    std::optional<std::size_t> lastKeyLine(std::string_view section, std::string_view key) const;
    void appendLines(const std::vector<std::string>& lines);

    std::string path_;
    std::vector<std::string> lines_;  // without their '\n'
    bool endsWithNewline_;
};

}  // namespace plexus::cli
