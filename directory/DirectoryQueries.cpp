#include "directory/DirectoryQueries.h"

#include <algorithm>
#include <cctype>

namespace plexus::directory {

namespace {

// Mailbox, then owner person and structure looked up in the mailbox's source
// (the first record of a source for an id, as in the search index).
constexpr std::string_view hitColumns =
    "SELECT m.source, m.source_key, m.address, m.type, m.owner_national_id, m.owner_structure_id, m.service, m.hidden,"
    " p.source, p.source_key, p.national_id, p.civility, p.last_name, p.first_name, p.profession_code,"
    " p.profession_label, p.specialty_code, p.specialty_label, p.practice_mode,"
    " s.source, s.source_key, s.finess, s.siret, s.name, s.address, s.postcode, s.city, s.department";
constexpr std::string_view ownerJoins =
    " LEFT JOIN persons p ON p.id = (SELECT id FROM persons WHERE national_id = m.owner_national_id"
    "   AND source = m.source AND m.owner_national_id <> '' ORDER BY id LIMIT 1)"
    " LEFT JOIN structures s ON s.id = (SELECT id FROM structures WHERE structure_id = m.owner_structure_id"
    "   AND source = m.source AND m.owner_structure_id <> '' ORDER BY id LIMIT 1)";

std::string hitSelect()
{
    return std::string(hitColumns) + " FROM mailboxes m" + std::string(ownerJoins);
}

DirectoryHit readHit(const store::Statement& s)
{
    DirectoryHit hit;
    hit.mailbox = Mailbox{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.int64(7) != 0};
    if (!s.isNull(8))
        hit.person = Person{s.text(8),  s.text(9),  s.text(10), s.text(11), s.text(12), s.text(13),
                            s.text(14), s.text(15), s.text(16), s.text(17), s.text(18)};
    if (!s.isNull(19))
        hit.structure = Structure{s.text(19), s.text(20), s.text(21), s.text(22), s.text(23),
                                  s.text(24), s.text(25), s.text(26), s.text(27)};
    return hit;
}

std::vector<DirectoryHit> readHits(store::Statement& statement)
{
    std::vector<DirectoryHit> hits;
    while (statement.step()) hits.push_back(readHit(statement));
    return hits;
}

std::string lowerAscii(std::string_view text)
{
    std::string lower(text);
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

// Words of user input: runs of ASCII letters and digits and of any non-ASCII
// (UTF-8) bytes; ASCII punctuation, including all FTS5 syntax, separates words.
std::vector<std::string> wordsOf(std::string_view text)
{
    constexpr std::size_t maxWords = 16;
    std::vector<std::string> words;
    std::string word;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80 || std::isalnum(byte)) {
            word += c;
        } else if (!word.empty()) {
            words.push_back(std::move(word));
            word.clear();
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    if (words.size() > maxWords) words.resize(maxWords);
    return words;
}

// Each word a quoted FTS5 string (quotes doubled, though words hold none), so
// that OR, NEAR, AND, NOT are words too; a prefix query when asked.
std::string quotedWords(const std::vector<std::string>& words, bool prefix)
{
    std::string expression;
    for (const auto& word : words) {
        if (!expression.empty()) expression += ' ';
        expression += '"';
        for (const char c : word) expression += c == '"' ? std::string("\"\"") : std::string(1, c);
        expression += prefix ? "\"*" : "\"";
    }
    return expression;
}

void checkLength(std::string_view field, std::string_view value)
{
    if (value.size() > SearchQuery::maxTextBytes)
        throw InvalidQuery(std::string(field) + " is longer than " + std::to_string(SearchQuery::maxTextBytes) +
                           " bytes");
}

}  // namespace

std::string DirectoryHit::displayName() const
{
    if (person) {
        std::string name = person->firstName;
        if (!person->lastName.empty()) name += (name.empty() ? "" : " ") + person->lastName;
        return name;
    }
    return structure ? structure->name : std::string();
}

std::string matchExpression(const SearchQuery& query)
{
    std::string expression = quotedWords(wordsOf(query.text), true);
    // Filters match whole words of one column.
    const std::pair<const char*, const std::string*> filters[] = {{"profession", &query.profession},
                                                                  {"specialty", &query.specialty},
                                                                  {"city", &query.city},
                                                                  {"structure", &query.structure}};
    for (const auto& [column, value] : filters) {
        const auto words = wordsOf(*value);
        if (words.empty()) continue;
        for (const auto& word : words) {
            if (!expression.empty()) expression += ' ';
            expression += std::string(column) + " : " + quotedWords({word}, false);
        }
    }
    return expression;
}

std::optional<DirectoryHit> lookupAddress(store::Database& db, std::string_view address)
{
    auto statement = db.prepare(hitSelect() + " WHERE m.address = ? ORDER BY m.id LIMIT 1");
    statement.bind(1, lowerAscii(address));
    if (!statement.step()) return std::nullopt;
    return readHit(statement);
}

AddressStatus addressStatus(store::Database& db, std::string_view address)
{
    auto listed = db.prepare("SELECT 1 FROM mailboxes WHERE address = ? LIMIT 1");
    listed.bind(1, lowerAscii(address));
    if (listed.step()) return AddressStatus::listed;
    auto any = db.prepare("SELECT 1 FROM mailboxes LIMIT 1");
    return any.step() ? AddressStatus::unlisted : AddressStatus::notLoaded;
}

std::vector<DirectoryHit> mailboxesOf(store::Database& db, std::string_view nationalId, bool includeHidden)
{
    auto statement = db.prepare(hitSelect() +
                                " WHERE m.owner_national_id = ?1 AND (?2 OR m.hidden = 0) ORDER BY m.address, m.id");
    statement.bind(1, nationalId).bind(2, std::int64_t{includeHidden ? 1 : 0});
    return readHits(statement);
}

std::vector<Person> personsOf(store::Database& db, std::string_view nationalId)
{
    auto s = db.prepare("SELECT source, source_key, national_id, civility, last_name, first_name, profession_code, "
                        "profession_label, specialty_code, specialty_label, practice_mode FROM persons "
                        "WHERE national_id = ? ORDER BY source, id");
    s.bind(1, nationalId);
    std::vector<Person> persons;
    while (s.step())
        persons.push_back(Person{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6),
                                 s.text(7), s.text(8), s.text(9), s.text(10)});
    return persons;
}

std::optional<Structure> structureOf(store::Database& db, std::string_view structureId)
{
    auto s = db.prepare("SELECT source, source_key, finess, siret, name, address, postcode, city, department "
                        "FROM structures WHERE structure_id = ? ORDER BY source, id LIMIT 1");
    s.bind(1, structureId);
    if (!s.step()) return std::nullopt;
    return Structure{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7), s.text(8)};
}

std::vector<DirectoryHit> search(store::Database& db, const SearchQuery& query)
{
    checkLength("text", query.text);
    checkLength("profession", query.profession);
    checkLength("specialty", query.specialty);
    checkLength("city", query.city);
    checkLength("structure", query.structure);
    const std::string expression = matchExpression(query);
    if (expression.empty()) return {};
    const std::size_t limit = query.limit == 0 ? SearchQuery::defaultLimit
                                               : std::min(query.limit, SearchQuery::maxLimit);
    // Weights per column (name, service, profession, specialty, city, structure, address): names first.
    auto statement = db.prepare(
        "WITH ranked AS (SELECT rowid AS id, bm25(mailbox_search, 10.0, 2.0, 1.0, 1.0, 1.0, 2.0, 4.0) AS score"
        " FROM mailbox_search WHERE mailbox_search MATCH ?1 ORDER BY score LIMIT ?2) " +
        std::string(hitColumns) + " FROM ranked r JOIN mailboxes m ON m.id = r.id" + std::string(ownerJoins) +
        " ORDER BY r.score, m.id");
    statement.bind(1, expression).bind(2, static_cast<std::int64_t>(limit));
    return readHits(statement);
}

}  // namespace plexus::directory
