#include "directory/NationalFileImport.h"

#include "directory/NationalFileColumns.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace plexus::directory {

namespace {

using namespace national;

constexpr std::size_t maxSkipReasons = 10;

std::string_view trim(std::string_view text)
{
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b)
{
    return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

// Fields of a pipe-separated line, trimmed. The national files end lines with
// a '|' too: a last empty field is dropped.
std::vector<std::string_view> fieldsOf(std::string_view line)
{
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        const auto bar = line.find('|', start);
        fields.push_back(trim(line.substr(start, bar == std::string_view::npos ? bar : bar - start)));
        if (bar == std::string_view::npos) break;
        start = bar + 1;
    }
    if (fields.size() > 1 && fields.back().empty()) fields.pop_back();
    return fields;
}

// Reads lines of at most maxBytes without ever holding more: a longer line is
// consumed and reported as too long.
class LineReader {
public:
    LineReader(std::istream& in, std::size_t maxBytes) : in_(in), maxBytes_(maxBytes) {}

    enum class Result { line, tooLong, end };
    Result next(std::string& line)
    {
        line.clear();
        bool tooLong = false;
        char c;
        bool any = false;
        while (in_.get(c)) {
            any = true;
            if (c == '\n') break;
            if (line.size() < maxBytes_) line += c;
            else tooLong = true;
        }
        if (!any) return Result::end;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return tooLong ? Result::tooLong : Result::line;
    }

private:
    std::istream& in_;
    std::size_t maxBytes_;
};

// Where each needed column is in this file's header; ImportError naming the missing ones.
template <std::size_t N>
std::array<std::size_t, N> mapHeader(const std::vector<std::string_view>& header,
                                     const std::array<std::string_view, N>& names)
{
    std::array<std::size_t, N> positions{};
    std::string missing;
    for (std::size_t i = 0; i < N; ++i) {
        const auto found = std::ranges::find_if(header, [&](std::string_view h) { return equalsIgnoringAsciiCase(h, names[i]); });
        if (found == header.end()) missing += (missing.empty() ? "" : ", ") + std::string(names[i]);
        else positions[i] = static_cast<std::size_t>(found - header.begin());
    }
    if (!missing.empty()) throw ImportError("the file's header lacks the columns: " + missing);
    return positions;
}

std::optional<std::size_t> findColumn(const std::vector<std::string_view>& header, std::string_view name)
{
    const auto found = std::ranges::find_if(header, [&](std::string_view h) { return equalsIgnoringAsciiCase(h, name); });
    if (found == header.end()) return std::nullopt;
    return static_cast<std::size_t>(found - header.begin());
}

std::string joinWords(std::initializer_list<std::string_view> parts)
{
    std::string joined;
    for (const auto part : parts) {
        if (part.empty()) continue;
        if (!joined.empty()) joined += ' ';
        joined += part;
    }
    return joined;
}

bool isMailboxType(std::string_view type)
{
    return type == "PER" || type == "ORG" || type == "APP" || type == "CAB";
}

// A plausible address: one '@', something on each side, no space.
bool isAddress(std::string_view address)
{
    const auto at = address.find('@');
    return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
           address.find('@', at + 1) == std::string_view::npos && address.find(' ') == std::string_view::npos;
}

// One import: the records seen in this file (temp table, so that a 1 M-line
// file costs no memory) and the counts.
class Import {
public:
    Import(DirectoryStore& store, NationalFileKind kind, const ImportOptions& options)
        : store_(store), source_(sourceOf(kind)), options_(options), batch_(store.begin())
    {
        auto& db = store_.database();
        db.execute("CREATE TEMP TABLE IF NOT EXISTS import_seen (kind INTEGER NOT NULL, key TEXT NOT NULL, "
                   "PRIMARY KEY (kind, key)) WITHOUT ROWID");
        db.execute("DELETE FROM temp.import_seen");
    }

    ImportReport& report() { return report_; }

    void skip(std::size_t lineNumber, const std::string& why)
    {
        ++report_.skipped;
        if (report_.skipReasons.size() < maxSkipReasons)
            report_.skipReasons.push_back("line " + std::to_string(lineNumber) + ": " + why);
    }

    // Upserts a record the first time its key appears in the file (a person
    // has one line per mailbox or activity: the first one wins).
    template <typename Record>
    void put(RecordKind kind, const Record& record, ImportCounts& counts)
    {
        auto& db = store_.database();
        db.prepare("INSERT OR IGNORE INTO temp.import_seen (kind, key) VALUES (?, ?)")
            .bind(1, static_cast<std::int64_t>(kind))
            .bind(2, record.sourceKey)
            .run();
        if (db.changes() == 0) return;
        switch (batch_.upsert(record)) {
        case UpsertOutcome::added: ++counts.added; break;
        case UpsertOutcome::changed: ++counts.changed; break;
        case UpsertOutcome::unchanged: ++counts.unchanged; break;
        }
    }

    // Removes what the previous import of this kind held and this file no
    // longer has, unless it is more than the allowed share; then commits.
    void finish(std::initializer_list<std::pair<RecordKind, ImportCounts*>> kinds)
    {
        std::vector<std::pair<RecordKind, std::vector<std::string>>> stale;
        for (const auto& [kind, counts] : kinds) {
            auto keys = staleKeys(kind);
            const std::size_t previous = counts->changed + counts->unchanged + keys.size();
            if (!options_.force && previous > 0 &&
                static_cast<double>(keys.size()) > options_.maxDeleteShare * static_cast<double>(previous))
                throw ImportError("the file would delete " + std::to_string(keys.size()) + " of " +
                                  std::to_string(previous) + " " + nameOf(kind) + " (more than " +
                                  std::to_string(static_cast<int>(options_.maxDeleteShare * 100)) +
                                  "%); nothing imported, use --force to import it anyway");
            stale.emplace_back(kind, std::move(keys));
        }
        for (const auto& [kind, keys] : stale) {
            auto* counts = std::ranges::find(kinds, kind, &std::pair<RecordKind, ImportCounts*>::first)->second;
            for (const auto& key : keys)
                if (batch_.remove(kind, source_, key)) ++counts->deleted;
        }
        batch_.commit();
    }

    std::string_view source() const { return source_; }

private:
    static std::string nameOf(RecordKind kind)
    {
        switch (kind) {
        case RecordKind::person: return "persons";
        case RecordKind::structure: return "structures";
        case RecordKind::mailbox: return "mailboxes";
        }
        return "";
    }

    std::vector<std::string> staleKeys(RecordKind kind)
    {
        static constexpr std::array<const char*, 3> sql{
            "SELECT source_key FROM persons WHERE source = ?1 AND source_key NOT IN "
            "(SELECT key FROM temp.import_seen WHERE kind = ?2)",
            "SELECT source_key FROM structures WHERE source = ?1 AND source_key NOT IN "
            "(SELECT key FROM temp.import_seen WHERE kind = ?2)",
            "SELECT source_key FROM mailboxes WHERE source = ?1 AND source_key NOT IN "
            "(SELECT key FROM temp.import_seen WHERE kind = ?2)"};
        auto statement = store_.database().prepare(sql[static_cast<std::size_t>(kind)]);
        statement.bind(1, source_).bind(2, static_cast<std::int64_t>(kind));
        std::vector<std::string> keys;
        while (statement.step()) keys.push_back(statement.text(0));
        return keys;
    }

    DirectoryStore& store_;
    std::string source_;
    const ImportOptions& options_;
    DirectoryStore::Batch batch_;
    ImportReport report_;
};

// A structure from a mailbox line: FINESS has 9 characters, SIRET 14 digits;
// other identifiers get no structure record (the mailbox still names it).
std::optional<Structure> structureOf(const std::vector<std::string_view>& f,
                                     const std::array<std::size_t, mailboxColumnCount>& at, std::string_view source)
{
    const std::string_view id = f[at[mailboxStructureId]];
    if (id.size() != 9 && id.size() != 14) return std::nullopt;
    Structure s;
    s.source = source;
    s.sourceKey = id;
    (id.size() == 9 ? s.finess : s.siret) = id;
    s.name = f[at[mailboxStructureName]];
    s.address = joinWords({f[at[mailboxStreetNumber]], f[at[mailboxStreetType]], f[at[mailboxStreetName]]});
    s.postcode = f[at[mailboxPostcode]];
    // "75013 PARIS": the city is what follows the postcode.
    std::string_view delivery = f[at[mailboxDeliveryLine]];
    if (!s.postcode.empty() && delivery.starts_with(s.postcode)) delivery.remove_prefix(s.postcode.size());
    s.city = trim(delivery);
    s.department = f[at[mailboxDepartment]];
    return s;
}

// Calls handle(number, fields) for each line after the header; lines too long,
// or with another number of fields than the header, are counted and skipped.
template <typename Handle>
void forEachRecordLine(Import& import, LineReader& reader, std::size_t columns, Handle handle)
{
    std::string line;
    for (std::size_t number = 2;; ++number) {
        const auto result = reader.next(line);
        if (result == LineReader::Result::end) break;
        ++import.report().lines;
        if (result == LineReader::Result::tooLong) {
            import.skip(number, "line too long");
            continue;
        }
        const auto fields = fieldsOf(line);
        if (fields.size() != columns) {
            import.skip(number, std::to_string(fields.size()) + " fields instead of " + std::to_string(columns));
            continue;
        }
        handle(number, fields);
    }
}

void importMailboxLines(Import& import, LineReader& reader, const std::vector<std::string_view>& header)
{
    const auto at = mapHeader(header, mailboxColumns);
    const auto hiddenAt = findColumn(header, hiddenColumn);
    auto& report = import.report();
    forEachRecordLine(import, reader, header.size(), [&](std::size_t number, const std::vector<std::string_view>& f) {
        Mailbox mailbox{std::string(import.source()), "", std::string(f[at[mailboxAddress]]),
                        std::string(f[at[mailboxType]]), "", std::string(f[at[mailboxStructureId]]),
                        std::string(f[at[mailboxService]]), false};
        if (!isAddress(mailbox.address)) {
            import.skip(number, "no valid mailbox address");
            return;
        }
        if (!isMailboxType(mailbox.type)) {
            import.skip(number, "unknown mailbox type '" + mailbox.type + "'");
            return;
        }
        std::ranges::transform(mailbox.address, mailbox.address.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        mailbox.sourceKey = mailbox.address;
        if (hiddenAt) mailbox.hidden = f[*hiddenAt] == "O" || f[*hiddenAt] == "1";
        const std::string_view nationalId = f[at[mailboxNationalId]];
        if (!nationalId.empty()) {
            mailbox.ownerNationalId = nationalId;
            Person person{std::string(import.source()), std::string(nationalId), std::string(nationalId),
                          std::string(f[at[mailboxCivility]]), std::string(f[at[mailboxLastName]]),
                          std::string(f[at[mailboxFirstName]]), std::string(f[at[mailboxProfessionCode]]),
                          std::string(f[at[mailboxProfessionLabel]]), std::string(f[at[mailboxSpecialtyCode]]),
                          std::string(f[at[mailboxSpecialtyLabel]]), ""};
            import.put(RecordKind::person, person, report.persons);
        }
        if (const auto structure = structureOf(f, at, import.source()))
            import.put(RecordKind::structure, *structure, report.structures);
        import.put(RecordKind::mailbox, mailbox, report.mailboxes);
    });
    import.finish({{RecordKind::person, &report.persons},
                   {RecordKind::structure, &report.structures},
                   {RecordKind::mailbox, &report.mailboxes}});
}

void importActivityLines(Import& import, LineReader& reader, const std::vector<std::string_view>& header)
{
    const auto at = mapHeader(header, activityColumns);
    auto& report = import.report();
    forEachRecordLine(import, reader, header.size(), [&](std::size_t number, const std::vector<std::string_view>& f) {
        const std::string_view nationalId = f[at[activityNationalId]];
        if (nationalId.empty() || f[at[activityLastName]].empty()) {
            import.skip(number, "no national id or name");
            return;
        }
        Person person{std::string(import.source()), std::string(nationalId), std::string(nationalId),
                      std::string(f[at[activityCivility]]), std::string(f[at[activityLastName]]),
                      std::string(f[at[activityFirstName]]), std::string(f[at[activityProfessionCode]]),
                      std::string(f[at[activityProfessionLabel]]), std::string(f[at[activitySpecialtyCode]]),
                      std::string(f[at[activitySpecialtyLabel]]), std::string(f[at[activityPracticeMode]])};
        import.put(RecordKind::person, person, report.persons);
    });
    import.finish({{RecordKind::person, &report.persons}});
}

}  // namespace

std::optional<NationalFileKind> nationalFileKindOf(std::string_view fileName)
{
    if (fileName.find("Extraction_Correspondance_MSSante") != std::string_view::npos)
        return NationalFileKind::correspondance;
    if (fileName.find("PS_LibreAcces_Personne_activite") != std::string_view::npos)
        return NationalFileKind::personneActivite;
    return std::nullopt;
}

std::string_view sourceOf(NationalFileKind kind)
{
    return kind == NationalFileKind::correspondance ? "file:correspondance" : "file:personne-activite";
}

ImportReport importNationalFile(DirectoryStore& store, NationalFileKind kind, std::istream& in,
                                const ImportOptions& options)
{
    LineReader reader(in, options.maxLineBytes);
    std::string headerLine;
    if (reader.next(headerLine) != LineReader::Result::line || trim(headerLine).empty())
        throw ImportError("the file has no header line");
    if (headerLine.starts_with("\xEF\xBB\xBF")) headerLine.erase(0, 3);  // UTF-8 byte order mark
    const auto header = fieldsOf(headerLine);

    Import import(store, kind, options);
    if (kind == NationalFileKind::correspondance) importMailboxLines(import, reader, header);
    else importActivityLines(import, reader, header);
    return import.report();
}

}  // namespace plexus::directory
