#include "directory/DirectoryQueries.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <set>
#include <tuple>
#include <utility>

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

const std::string& hitSelect()
{
    static const std::string select = std::string(hitColumns) + " FROM mailboxes m" + std::string(ownerJoins);
    return select;
}

// Candidates each match tier of a search ranks (at least the limit asked).
constexpr std::size_t minCandidatesPerTier = 100;

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

// A byte that can be part of a word: ASCII letters and digits, and any
// non-ASCII (UTF-8) byte; ASCII punctuation, including all FTS5 syntax, is not.
bool isWordByte(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x80 || std::isalnum(byte);
}

// Words of user input as mailbox_search tokenizes its rows, so that each is
// one token: the index keeps no positions (detail=column), and a quoted
// string of two tokens ("d’Artagnan") would be a phrase it cannot answer.
std::vector<std::string> wordsOf(const NameFolder& folder, std::string_view text)
{
    constexpr std::size_t maxWords = 16;
    auto words = folder.words(text);
    if (words.size() > maxWords) words.resize(maxWords);
    return words;
}

// Each word a quoted FTS5 string (quotes doubled, though words hold none), so
// that OR, NEAR, AND, NOT are words too; a prefix query when asked; limited to
// one column when one is named.
std::string quotedWords(const std::vector<std::string>& words, bool prefix, std::string_view column = {})
{
    std::string expression;
    for (const auto& word : words) {
        if (!expression.empty()) expression += ' ';
        if (!column.empty()) expression.append(column).append(" : ");
        expression += '"';
        for (const char c : word) expression += c == '"' ? std::string("\"\"") : std::string(1, c);
        expression += prefix ? "\"*" : "\"";
    }
    return expression;
}

// Filters match whole words of one column.
std::string filterExpression(const NameFolder& folder, const SearchQuery& query)
{
    const std::pair<std::string_view, const std::string*> filters[] = {{"profession", &query.profession},
                                                                       {"specialty", &query.specialty},
                                                                       {"city", &query.city},
                                                                       {"structure", &query.structure}};
    std::string expression;
    for (const auto& [column, value] : filters) {
        const std::string words = quotedWords(wordsOf(folder, *value), false, column);
        if (words.empty()) continue;
        if (!expression.empty()) expression += ' ';
        expression += words;
    }
    return expression;
}

std::string joined(std::string text, const std::string& filters)
{
    if (!text.empty() && !filters.empty()) text += ' ';
    return text + filters;
}

// How the text matches an entry, best first; each tier holds the ones before it.
enum class MatchTier { wholeNameWords, nameWordPrefixes, anyFieldPrefixes };
constexpr MatchTier matchTiers[] = {MatchTier::wholeNameWords, MatchTier::nameWordPrefixes,
                                    MatchTier::anyFieldPrefixes};

std::string tierExpression(const std::vector<std::string>& words, MatchTier tier, const std::string& filters)
{
    switch (tier) {
    case MatchTier::wholeNameWords: return joined(quotedWords(words, false, "name"), filters);
    case MatchTier::nameWordPrefixes: return joined(quotedWords(words, true, "name"), filters);
    case MatchTier::anyFieldPrefixes: break;
    }
    return joined(quotedWords(words, true), filters);
}

// A tier's candidate and what it is ranked by: persons before structures,
// then last name (a structure's name), first name, folded, then age.
struct Candidate {
    bool notPerson;
    std::string last;
    std::string first;
    std::int64_t id;
};

// The first `count` mailboxes matching a tier's expression in rowid order, ranked.
std::vector<std::int64_t> rankedCandidates(store::Database& db, const NameFolder& folder, const std::string& match,
                                           std::size_t count)
{
    auto rows = db.prepare("SELECT rowid, owner_is_person, sort_last, sort_first FROM mailbox_search"
                           " WHERE mailbox_search MATCH ?1 ORDER BY rowid LIMIT ?2");
    rows.bind(1, match).bind(2, static_cast<std::int64_t>(count));
    std::vector<Candidate> candidates;
    while (rows.step())
        candidates.push_back(
            Candidate{rows.int64(1) == 0, folder.fold(rows.text(2)), folder.fold(rows.text(3)), rows.int64(0)});
    std::ranges::sort(candidates, [](const Candidate& a, const Candidate& b) {
        return std::tie(a.notPerson, a.last, a.first, a.id) < std::tie(b.notPerson, b.last, b.first, b.id);
    });
    std::vector<std::int64_t> ids;
    ids.reserve(candidates.size());
    for (const auto& candidate : candidates) ids.push_back(candidate.id);
    return ids;
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

bool hasCriteria(const SearchQuery& query)
{
    return std::ranges::any_of(std::initializer_list<const std::string*>{&query.text, &query.profession,
                                                                         &query.specialty, &query.city,
                                                                         &query.structure},
                               [](const std::string* field) { return std::ranges::any_of(*field, isWordByte); });
}

std::vector<std::string> tierExpressions(const NameFolder& folder, const SearchQuery& query)
{
    const auto words = wordsOf(folder, query.text);
    const std::string filters = filterExpression(folder, query);
    if (words.empty() && filters.empty()) return {};
    // Without words, the filters alone: one pass.
    if (words.empty()) return {filters};
    std::vector<std::string> expressions;
    for (const MatchTier tier : matchTiers) expressions.push_back(tierExpression(words, tier, filters));
    return expressions;
}

void mapForReads(store::Database& db)
{
    // Address space, not memory: SQLite caps it at its build's maximum (2 GiB in Debian's).
    db.execute("PRAGMA mmap_size = 4294967296");
}

std::optional<DirectoryHit> lookupAddress(store::Database& db, std::string_view address)
{
    static const std::string sql = hitSelect() + " WHERE m.address = ? ORDER BY m.id LIMIT 1";
    auto statement = db.prepare(sql);
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
    static const std::string sql =
        hitSelect() + " WHERE m.owner_national_id = ?1 AND (?2 OR m.hidden = 0) ORDER BY m.address, m.id";
    auto statement = db.prepare(sql);
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
    const NameFolder folder(db);
    const auto tiers = tierExpressions(folder, query);
    const std::size_t limit = query.limit == 0 ? SearchQuery::defaultLimit
                                               : std::min(query.limit, SearchQuery::maxLimit);
    // A common name matches tens of thousands of entries: ranking them all is
    // what made searches slow. Each tier takes its first candidates in index
    // (rowid) order, which FTS5 yields without reading the rest, and orders
    // them by the sort fields of their rows; whole hits are read for the few
    // ranked first.
    const std::size_t candidates = std::max(limit, minCandidatesPerTier);
    static const std::string hitSql = hitSelect() + " WHERE m.id = ?";
    std::vector<DirectoryHit> hits;
    std::set<std::int64_t> found;  // mailbox ids of the hits so far
    for (const auto& tier : tiers) {
        // A tier holds the hits of the tiers before it: ask for that many more.
        for (const std::int64_t id : rankedCandidates(db, folder, tier, candidates + found.size())) {
            if (hits.size() >= limit) break;
            if (!found.insert(id).second) continue;
            auto hit = db.prepare(hitSql);
            hit.bind(1, id);
            if (hit.step()) hits.push_back(readHit(hit));
        }
        if (hits.size() >= limit) break;
    }
    return hits;
}

}  // namespace plexus::directory
