// directory import|search|show: the national directory's local copy
// ([directory] database), as plexusd reads it.
#include "cli/Commands.h"

#include "directory/DirectoryQueries.h"
#include "directory/NationalFileImport.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

namespace plexus::cli {

namespace {

using namespace directory;

std::string joined(std::initializer_list<std::string_view> parts, std::string_view separator = " ")
{
    std::string text;
    for (const auto part : parts) {
        if (part.empty()) continue;
        if (!text.empty()) text += separator;
        text += part;
    }
    return text;
}

void printCounts(const char* what, const ImportCounts& c)
{
    std::cout << "  " << what << ": " << c.added << " added, " << c.changed << " changed, " << c.deleted
              << " deleted, " << c.unchanged << " unchanged\n";
}

int importFile(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "force", "kind"});
    const std::string path = args.word(2, "FILE (a national extraction)");
    auto kind = nationalFileKindOf(std::filesystem::path(path).filename().string());
    if (const auto option = args.option("kind")) {
        if (*option == "correspondance") kind = NationalFileKind::correspondance;
        else if (*option == "personne-activite") kind = NationalFileKind::personneActivite;
        else throw UsageError("--kind must be correspondance or personne-activite");
    }
    if (!kind)
        throw UsageError("cannot tell the file's kind from its name; use --kind correspondance|personne-activite");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);

    DirectoryStore store(settings.directory.database);
    const auto started = std::chrono::steady_clock::now();
    ImportReport report;
    try {
        report = importNationalFile(store, *kind, in, {.maxDeleteShare = settings.directory.maxDeleteShare,
                                                       .force = args.flag("force")});
    } catch (const ImportError&) {
        auditChange(settings, "directory.import", path, "failure");
        throw;
    }
    if (in.bad()) throw std::runtime_error("error reading " + path);
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auditChange(settings, "directory.import", path);

    std::cout << "imported " << path << " (" << sourceOf(*kind) << "): " << report.lines << " lines, "
              << report.skipped << " skipped, in " << std::fixed << std::setprecision(1) << seconds << " s\n";
    if (*kind == NationalFileKind::correspondance) printCounts("mailboxes", report.mailboxes);
    printCounts("persons", report.persons);
    if (*kind == NationalFileKind::correspondance) printCounts("structures", report.structures);
    for (const auto& reason : report.skipReasons) std::cout << "  skipped " << reason << '\n';
    return 0;
}

std::size_t limitOption(const Arguments& args)
{
    const auto text = args.option("limit");
    if (!text) return SearchQuery::defaultLimit;
    std::size_t limit = 0;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (error != std::errc() || end != text->data() + text->size() || limit == 0 || limit > SearchQuery::maxLimit)
        throw UsageError("--limit must be a number from 1 to " + std::to_string(SearchQuery::maxLimit));
    return limit;
}

int searchDirectory(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "profession", "specialty", "city", "structure", "limit"});
    SearchQuery query{.text = args.words.size() > 2 ? args.words[2] : "",
                      .profession = args.option("profession").value_or(""),
                      .specialty = args.option("specialty").value_or(""),
                      .city = args.option("city").value_or(""),
                      .structure = args.option("structure").value_or(""),
                      .limit = limitOption(args)};
    if (!hasCriteria(query)) throw UsageError("give words to search for: TEXT or a filter");
    DirectoryStore store(settings.directory.database);
    const auto hits = search(store.database(), query);
    for (const auto& hit : hits) {
        const std::string profession = hit.person ? hit.person->professionLabel : "";
        const std::string place = hit.structure ? joined({hit.structure->postcode, hit.structure->city}) : "";
        std::cout << hit.mailbox.address << '\t' << hit.mailbox.type << '\t' << hit.displayName() << '\t'
                  << profession << '\t' << place << '\n';
    }
    std::cout << hits.size() << (hits.size() == 1 ? " mailbox" : " mailboxes") << '\n';
    return 0;
}

void printPerson(const Person& p)
{
    std::cout << "person " << p.nationalId << " (" << p.source << ")\n"
              << "  name: " << joined({p.civility, p.firstName, p.lastName}) << '\n'
              << "  profession: " << joined({p.professionCode, p.professionLabel}) << '\n';
    if (!p.specialtyCode.empty()) std::cout << "  specialty: " << joined({p.specialtyCode, p.specialtyLabel}) << '\n';
    if (!p.practiceMode.empty()) std::cout << "  mode of practice: " << p.practiceMode << '\n';
}

void printMailbox(const DirectoryHit& hit)
{
    const auto& m = hit.mailbox;
    std::cout << "mailbox " << m.address << " (" << m.source << ")\n"
              << "  type: " << m.type << '\n'
              << "  liste rouge: " << (m.hidden ? "yes (never shown by searches)" : "no") << '\n';
    if (!hit.displayName().empty()) std::cout << "  owner: " << hit.displayName();
    if (!m.ownerNationalId.empty()) std::cout << " (" << m.ownerNationalId << ")";
    if (!hit.displayName().empty() || !m.ownerNationalId.empty()) std::cout << '\n';
    if (hit.person) std::cout << "  profession: " << joined({hit.person->professionCode, hit.person->professionLabel}) << '\n';
    if (hit.structure) {
        const auto& s = *hit.structure;
        std::cout << "  structure: " << joined({s.name, "(" + s.structureId() + ")"}) << '\n'
                  << "  address: " << joined({s.address, s.postcode, s.city}, ", ") << '\n';
    } else if (!m.ownerStructureId.empty()) {
        std::cout << "  structure: " << m.ownerStructureId << '\n';
    }
    if (!m.service.empty()) std::cout << "  service: " << m.service << '\n';
}

int showEntry(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config"});
    const std::string key = args.word(2, "ADDRESS or national id");
    DirectoryStore store(settings.directory.database);
    if (key.find('@') != std::string::npos) {
        const auto hit = lookupAddress(store.database(), key);
        if (!hit) throw std::runtime_error(key + " is not in the directory");
        printMailbox(*hit);
        return 0;
    }
    const auto persons = personsOf(store.database(), key);
    const auto mailboxes = mailboxesOf(store.database(), key, true);
    if (persons.empty() && mailboxes.empty()) throw std::runtime_error("no one with national id " + key + " in the directory");
    for (const auto& person : persons) printPerson(person);
    for (const auto& mailbox : mailboxes) printMailbox(mailbox);
    return 0;
}

}  // namespace

int runDirectoryCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string action = args.word(1, "a directory command (configure, sync, configure-publish, publish, import, search, show)");
    if (action == "configure" || action == "sync" || action == "configure-publish" || action == "publish")
        return runDirectoryLdapCommand(settings, args);
    if (action == "import") return importFile(settings, args);
    if (action == "search") return searchDirectory(settings, args);
    if (action == "show") return showEntry(settings, args);
    throw UsageError("unknown directory command " + action);
}

}  // namespace plexus::cli
