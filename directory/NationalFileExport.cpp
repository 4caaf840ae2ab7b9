#include "directory/NationalFileExport.h"

#include "directory/NationalFileColumns.h"
#include "directory/Publication.h"
#include "store/AtomicFile.h"

#include <array>

namespace plexus::directory {

using namespace national;

std::string exportHeader()
{
    std::string header;
    for (const auto name : mailboxFileColumns) header.append(name).append("|");
    return header.append(hiddenColumn);
}

std::string exportField(std::string_view value)
{
    std::string field;
    field.reserve(value.size());
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        field += c == '|' || byte < 0x20 || byte == 0x7f ? ' ' : c;
    }
    const auto first = field.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return field.substr(first, field.find_last_not_of(' ') - first + 1);
}

std::string exportLine(const MappedEntry& entry)
{
    std::array<std::string, mailboxColumnCount> columns;
    const Mailbox& m = entry.mailbox;
    columns[mailboxType] = m.type;
    columns[mailboxAddress] = m.address;
    columns[mailboxNationalId] = m.ownerNationalId;
    columns[mailboxStructureId] = m.ownerStructureId;
    columns[mailboxService] = m.service;
    if (const auto& p = entry.person) {
        columns[mailboxCivility] = p->civility;
        columns[mailboxLastName] = p->lastName;
        columns[mailboxFirstName] = p->firstName;
        columns[mailboxProfessionCode] = p->professionCode;
        columns[mailboxProfessionLabel] = p->professionLabel;
        columns[mailboxSpecialtyCode] = p->specialtyCode;
        columns[mailboxSpecialtyLabel] = p->specialtyLabel;
    }
    if (const auto& s = entry.structure) {
        columns[mailboxStructureName] = s->name;
        // The model keeps the street as one line: it goes to the street name column.
        columns[mailboxStreetName] = s->address;
        columns[mailboxPostcode] = s->postcode;
        columns[mailboxDeliveryLine] = s->postcode.empty() ? s->city : s->postcode + " " + s->city;
        columns[mailboxDepartment] = s->department;
    }
    // The file's columns the model has no value for stay empty.
    std::array<std::string_view, mailboxFileColumns.size()> fileLine{};
    for (std::size_t i = 0; i < mailboxColumnCount; ++i) fileLine[mailboxColumnPositions[i]] = columns[i];
    std::string line;
    for (const auto value : fileLine) line.append(exportField(value)).append("|");
    return line.append(m.hidden ? "O" : "N");
}

ExportSummary exportNationalFile(store::Database& directory, const std::vector<MappedEntry>& mailboxes,
                                 const std::string& path, bool dryRun)
{
    std::vector<std::string> lines;
    std::vector<PublicationItem> items;
    for (const auto& mailbox : mailboxes) {
        lines.push_back(exportLine(mailbox));
        items.push_back(PublicationItem{mailbox.mailbox.address, PublishedState{publicationHash({lines.back()}), ""}});
    }
    const auto plan = planPublication(items, publicationState(directory, exportTarget));
    ExportSummary summary{mailboxes.size(), plan.added.size(), plan.changed.size(), plan.removed.size(),
                          plan.unchanged};
    if (dryRun) return summary;

    store::AtomicFile file(path);
    file.write(exportHeader() + "\n");
    for (const auto& line : lines) file.write(line + "\n");
    file.commit(0644);

    store::Transaction transaction(directory);
    for (const auto& [address, state] : plan.removed) forgetPublished(directory, exportTarget, address);
    for (const auto index : plan.added) recordPublished(directory, exportTarget, items[index].address, items[index].state);
    for (const auto index : plan.changed)
        recordPublished(directory, exportTarget, items[index].address, items[index].state);
    transaction.commit();
    return summary;
}

}  // namespace plexus::directory
