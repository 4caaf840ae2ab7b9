#include "cli/ConfigFile.h"

#include "store/AtomicFile.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace plexus::cli {

namespace {

namespace fs = std::filesystem;

std::string_view trimmed(std::string_view text)
{
    const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    return text;
}

bool sameName(std::string_view a, std::string_view b)
{
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

bool isBlank(std::string_view line) { return trimmed(line).empty(); }

bool isComment(std::string_view line)
{
    const auto text = trimmed(line);
    return !text.empty() && (text.front() == ';' || text.front() == '#');
}

// "[name]" as Poco reads it: up to the ']' (or the end), trimmed.
std::optional<std::string_view> headerName(std::string_view line)
{
    const auto text = trimmed(line);
    if (text.empty() || text.front() != '[') return std::nullopt;
    return trimmed(text.substr(1, text.find(']') - 1));
}

struct KeyLine {
    std::string_view key, value;
};

// Any other non-blank line is a key, with or without "= value".
std::optional<KeyLine> keyLine(std::string_view line)
{
    if (isBlank(line) || isComment(line) || headerName(line)) return std::nullopt;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) return KeyLine{trimmed(line), {}};
    return KeyLine{trimmed(line.substr(0, equals)), trimmed(line.substr(equals + 1))};
}

std::string assignment(std::string_view key, std::string_view value)
{
    return std::string(key) + (value.empty() ? " =" : " = ") + std::string(value);
}

}  // namespace

ConfigFile ConfigFile::load(const std::string& path)
{
    if (!fs::exists(path)) throw ConfigFileError("configuration file " + path + " does not exist");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigFileError("cannot read " + path);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) throw ConfigFileError("cannot read " + path);
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) lines.push_back(std::move(line));
    return ConfigFile(path, std::move(lines), !text.empty() && text.back() == '\n');
}

std::string ConfigFile::text() const
{
    std::string text;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
        if (i > 0) text += '\n';
        text += lines_[i];
    }
    if (endsWithNewline_ && !lines_.empty()) text += '\n';
    return text;
}

void ConfigFile::save() const
{
    std::error_code error;
    fs::path target = fs::canonical(path_, error);
    if (error) target = path_;
    struct stat st {};
    const mode_t mode = ::stat(target.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
    try {
        store::AtomicFile replacement(target.string());
        replacement.write(text());
        replacement.commit(mode);
    } catch (const store::FileError& e) {
        throw ConfigFileError(e.what());
    }
}

std::vector<ConfigFile::Span> ConfigFile::spans() const
{
    std::vector<Span> spans;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
        const auto name = headerName(lines_[i]);
        if (!name) continue;
        std::size_t start = i;
        while (start > 0 && isComment(lines_[start - 1])) --start;
        if (!spans.empty()) spans.back().end = start;
        spans.push_back({std::string(*name), start, i, lines_.size()});
    }
    return spans;
}

std::optional<ConfigFile::Span> ConfigFile::lastSpan(std::string_view section) const
{
    std::optional<Span> last;
    for (auto& span : spans())
        if (sameName(span.section, section)) last = std::move(span);
    return last;
}

bool ConfigFile::hasSection(std::string_view section) const { return lastSpan(section).has_value(); }

std::optional<std::size_t> ConfigFile::lastKeyLine(std::string_view section, std::string_view key) const
{
    std::optional<std::size_t> found;
    std::string_view current;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
        if (const auto name = headerName(lines_[i])) {
            current = *name;
        } else if (const auto entry = keyLine(lines_[i]);
                   entry && sameName(current, section) && sameName(entry->key, key)) {
            found = i;  // Poco keeps the last one
        }
    }
    return found;
}

std::optional<std::string> ConfigFile::value(std::string_view section, std::string_view key) const
{
    const auto index = lastKeyLine(section, key);
    if (!index) return std::nullopt;
    return std::string(keyLine(lines_[*index])->value);
}

void ConfigFile::setValue(std::string_view section, std::string_view key, std::string_view value)
{
    if (const auto index = lastKeyLine(section, key)) {
        std::string& line = lines_[*index];
        const std::string indentation = line.substr(0, line.find_first_not_of(" \t"));
        line = indentation + assignment(keyLine(line)->key, value);
        return;
    }
    if (const auto span = lastSpan(section)) {
        std::size_t end = span->end;  // after the section's last line, before the blank lines that close it
        while (end > span->header + 1 && isBlank(lines_[end - 1])) --end;
        lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(end), assignment(key, value));
        return;
    }
    appendLines({"[" + std::string(section) + "]", assignment(key, value)});
}

void ConfigFile::appendSection(std::string_view section, const std::vector<std::string>& body)
{
    if (hasSection(section)) throw ConfigFileError(path_ + " already has a [" + std::string(section) + "] section");
    std::vector<std::string> lines{"[" + std::string(section) + "]"};
    lines.insert(lines.end(), body.begin(), body.end());
    appendLines(lines);
}

bool ConfigFile::removeSection(std::string_view section)
{
    bool removed = false;
    while (const auto span = lastSpan(section)) {
        std::size_t start = span->start;
        // The last section takes the blank lines before it along, so that adding
        // a section and removing it gives back the same file.
        if (span->end == lines_.size())
            while (start > 0 && isBlank(lines_[start - 1])) --start;
        lines_.erase(lines_.begin() + static_cast<std::ptrdiff_t>(start),
                     lines_.begin() + static_cast<std::ptrdiff_t>(span->end));
        removed = true;
    }
    return removed;
}

void ConfigFile::appendLines(const std::vector<std::string>& lines)
{
    if (!lines_.empty() && !isBlank(lines_.back())) lines_.emplace_back();
    lines_.insert(lines_.end(), lines.begin(), lines.end());
    endsWithNewline_ = true;
}

}  // namespace plexus::cli
