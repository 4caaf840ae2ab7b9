#include "imap/Sort.h"

#include "mime/Text.h"

#include <libetpan/libetpan.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <compare>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace plexus::imap {
namespace {

// ---- libetpan -------------------------------------------------------------

template <auto Free>
struct EtpanDeleter {
    template <class T>
    void operator()(T* object) const noexcept
    {
        Free(object);
    }
};

void freeIdList(clist* ids) noexcept
{
    clist_foreach(ids, [](void* id, void*) { std::free(id); }, nullptr);
    clist_free(ids);
}

using OwnedIdList = std::unique_ptr<clist, EtpanDeleter<freeIdList>>;
using OwnedDateTime = std::unique_ptr<mailimf_date_time, EtpanDeleter<mailimf_date_time_free>>;
using OwnedAddressList = std::unique_ptr<mailimf_address_list, EtpanDeleter<mailimf_address_list_free>>;

// The msg-ids of a References, In-Reply-To or Message-ID value, in order
// (libetpan skips the phrases some In-Reply-To values carry).
std::vector<std::string> messageIds(std::string_view value)
{
    std::size_t index = 0;
    clist* parsed = nullptr;
    if (mailimf_msg_id_list_parse(value.data(), value.size(), &index, &parsed) != MAILIMF_NO_ERROR) return {};
    const OwnedIdList owned(parsed);
    std::vector<std::string> ids;
    for (clistiter* it = clist_begin(parsed); it != nullptr; it = clist_next(it)) {
        ids.emplace_back(static_cast<const char*>(clist_content(it)));
    }
    return ids;
}

// ---- text -----------------------------------------------------------------

std::string asciiUpper(std::string text)
{
    std::ranges::transform(text, text.begin(),
                           [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
    return text;
}

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 5256 §2.1 step 1 (after decoding): tabs and continuations become spaces,
// runs of spaces one space.
std::string collapseSpaces(std::string_view text)
{
    std::string collapsed;
    collapsed.reserve(text.size());
    for (const char c : text) {
        if (!isSpace(c)) {
            collapsed += c;
        } else if (collapsed.empty() || collapsed.back() != ' ') {
            collapsed += ' ';
        }
    }
    return collapsed;
}

// An RFC 5322 quoted local part without its quotes and backslashes.
std::string unquote(std::string_view local)
{
    if (local.size() < 2 || local.front() != '"' || local.back() != '"') return std::string(local);
    std::string text;
    for (std::size_t i = 1; i + 1 < local.size(); ++i) {
        if (local[i] == '\\' && i + 2 < local.size()) ++i;
        text += local[i];
    }
    return text;
}

// ---- base subject (RFC 5256 §2.1, ABNF in §5) -----------------------------
// Only the RFC's English markers ("Re", "Fw", "Fwd"), as Dovecot does: other
// forms ("TR:", "Réf :") are kept, so that every client computes the same key.
// The text is uppercased first: the ABNF strings are case-insensitive.

struct Extracted {
    std::string base;
    bool replyOrForward = false;  // a subj-refwd, "(fwd)" trailer or [fwd: ] wrapper was removed
};

// subj-blob = "[" *BLOBCHAR "]" *WSP; BLOBCHAR is any byte but "[" and "]"
// (UTF-8 too: the ABNF's 7-bit ranges predate the UTF-8 conversion of step 1).
std::size_t blobLength(std::string_view s, std::size_t at)
{
    if (at >= s.size() || s[at] != '[') return 0;
    const auto close = s.find_first_of("[]", at + 1);
    if (close == std::string_view::npos || s[close] != ']') return 0;
    const auto next = s.find_first_not_of(' ', close + 1);
    return (next == std::string_view::npos ? s.size() : next) - at;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
std::size_t refwdLength(std::string_view s, std::size_t at)
{
    const std::string_view rest = s.substr(at);
    std::size_t end = rest.starts_with("RE") ? 2 : rest.starts_with("FWD") ? 3 : rest.starts_with("FW") ? 2 : 0;
    if (end == 0) return 0;
    while (end < rest.size() && rest[end] == ' ') ++end;
    end += blobLength(rest, end);
    return end < rest.size() && rest[end] == ':' ? end + 1 : 0;
}

// subj-leader = (*subj-blob subj-refwd) / WSP: its length, and whether it is a subj-refwd.
std::pair<std::size_t, bool> leaderLength(std::string_view s)
{
    if (!s.empty() && s.front() == ' ') return {1, false};
    std::size_t at = 0;
    while (const auto blob = blobLength(s, at)) at += blob;
    const auto refwd = refwdLength(s, at);
    return refwd == 0 ? std::pair{std::size_t{0}, false} : std::pair{at + refwd, true};
}

// Step 2: trailing subj-trailer = "(fwd)" / WSP, repeatedly.
bool removeTrailers(std::string_view& s)
{
    bool forward = false;
    while (!s.empty()) {
        if (s.back() == ' ') {
            s.remove_suffix(1);
        } else if (s.ends_with("(FWD)")) {
            s.remove_suffix(5);
            forward = true;
        } else {
            break;
        }
    }
    return forward;
}

// Steps 3 to 5: all leaders, then a leading blob when a non-empty subj-base
// remains, again until neither applies.
bool removeLeaders(std::string_view& s)
{
    bool refwd = false;
    for (;;) {
        if (const auto [length, isRefwd] = leaderLength(s); length != 0) {
            s.remove_prefix(length);
            refwd = refwd || isRefwd;
        } else if (const auto blob = blobLength(s, 0);
                   blob != 0 && s.find_first_not_of(' ', blob) != std::string_view::npos) {
            s.remove_prefix(blob);
        } else {
            return refwd;
        }
    }
}

// Step 6: subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]".
bool removeForwardWrapper(std::string_view& s)
{
    constexpr std::string_view header = "[FWD:";
    if (s.size() <= header.size() || !s.starts_with(header) || !s.ends_with(']')) return false;
    s = s.substr(header.size(), s.size() - header.size() - 1);
    return true;
}

Extracted extract(std::string_view rawSubject)
{
    const std::string text = asciiUpper(collapseSpaces(mime::decodeHeaderValue(rawSubject)));
    std::string_view s = text;
    bool marked = false;
    for (;;) {
        marked = removeTrailers(s) || marked;
        marked = removeLeaders(s) || marked;
        if (!removeForwardWrapper(s)) break;
        marked = true;
    }
    return {std::string(s), marked};
}

// ---- sent date (RFC 5256 §2.2) ---------------------------------------------

// RFC 5322 §4.3: two-digit years are 19xx from 50, 20xx below; three-digit ones 1900 + n.
int fullYear(int year)
{
    if (year < 50) return year + 2000;
    if (year < 1000) return year + 1900;
    return year;
}

std::optional<std::int64_t> toEpoch(const mailimf_date_time& date)
{
    using namespace std::chrono;
    const year_month_day calendar{year{fullYear(date.dt_year)}, month{static_cast<unsigned>(date.dt_month)},
                                  day{static_cast<unsigned>(date.dt_day)}};
    if (date.dt_month < 1 || date.dt_day < 1 || !calendar.ok()) return std::nullopt;
    const bool timeOk = date.dt_hour >= 0 && date.dt_hour <= 23 && date.dt_min >= 0 && date.dt_min <= 59 &&
                        date.dt_sec >= 0 && date.dt_sec <= 60;
    if (!timeOk) return std::nullopt;
    // dt_zone is ±hhmm as a number: +0130 is 130.
    const int zoneMinutes = date.dt_zone / 100 * 60 + date.dt_zone % 100;
    const auto local = sys_days{calendar} + hours{date.dt_hour} + minutes{date.dt_min} + seconds{date.dt_sec};
    return (local - minutes{zoneMinutes}).time_since_epoch().count();
}

// ---- sort keys (RFC 5256 §3) ------------------------------------------------

// addr-mailbox of the first address: its local part, or a group's name.
std::string firstMailbox(std::string_view rawAddresses)
{
    std::size_t index = 0;
    mailimf_address_list* parsed = nullptr;
    if (mailimf_address_list_parse(rawAddresses.data(), rawAddresses.size(), &index, &parsed) != MAILIMF_NO_ERROR) {
        return {};
    }
    const OwnedAddressList owned(parsed);
    if (clist_isempty(parsed->ad_list)) return {};
    const auto& first = *static_cast<const mailimf_address*>(clist_content(clist_begin(parsed->ad_list)));
    if (first.ad_type == MAILIMF_ADDRESS_GROUP) {
        const char* name = first.ad_data.ad_group->grp_display_name;
        return name == nullptr ? "" : mime::decodeHeaderValue(name);
    }
    const char* spec = first.ad_data.ad_mailbox->mb_addr_spec;
    if (spec == nullptr) return {};
    const std::string_view address(spec);
    return unquote(address.substr(0, address.rfind('@')));
}

using Key = SortCriterion::Key;

// One message with the i;ascii-casemap keys the criteria compare.
struct Keyed {
    const SortData* message;
    std::string cc, from, subject, to;
};

bool uses(const std::vector<SortCriterion>& criteria, Key key)
{
    return std::ranges::any_of(criteria, [key](const SortCriterion& c) { return c.key == key; });
}

Keyed keyed(const SortData& message, const std::vector<SortCriterion>& criteria)
{
    Keyed k{&message, {}, {}, {}, {}};
    if (uses(criteria, Key::Cc)) k.cc = asciiUpper(firstMailbox(message.cc));
    if (uses(criteria, Key::From)) k.from = asciiUpper(firstMailbox(message.from));
    if (uses(criteria, Key::Subject)) k.subject = extract(message.subject).base;
    if (uses(criteria, Key::To)) k.to = asciiUpper(firstMailbox(message.to));
    return k;
}

std::strong_ordering compareOn(Key key, const Keyed& a, const Keyed& b)
{
    switch (key) {
    case Key::Arrival: return a.message->arrival <=> b.message->arrival;
    case Key::Date: return a.message->sent <=> b.message->sent;
    case Key::Size: return a.message->size <=> b.message->size;
    case Key::Cc: return a.cc <=> b.cc;
    case Key::From: return a.from <=> b.from;
    case Key::To: return a.to <=> b.to;
    case Key::Subject: break;
    }
    return a.subject <=> b.subject;
}

Key sortKey(const Arg& item)
{
    static constexpr std::array<std::pair<std::string_view, Key>, 7> names{{
        {"ARRIVAL", Key::Arrival}, {"CC", Key::Cc}, {"DATE", Key::Date}, {"FROM", Key::From},
        {"SIZE", Key::Size}, {"SUBJECT", Key::Subject}, {"TO", Key::To},
    }};
    const auto found = std::ranges::find_if(names, [&](const auto& entry) { return item.is(entry.first); });
    if (found == names.end()) throw CommandError("", "Unknown sort key " + item.text);
    return found->second;
}

// ---- threads (RFC 5256 §4) --------------------------------------------------

// §2.2: by sent date, then by sequence number.
bool sentBefore(const SortData& a, const SortData& b)
{
    return std::tie(a.sent, a.sequence) < std::tie(b.sent, b.sequence);
}

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// A REFERENCES container: a message, or a dummy (message null) standing for
// a referenced message not in the set, or for a subject group (step 5).
struct Container {
    const SortData* message = nullptr;
    std::size_t parent = kNone;
    std::vector<std::size_t> children;
};

class Forest {
public:
    std::size_t add(const SortData* message)
    {
        containers_.push_back({message, kNone, {}});
        return containers_.size() - 1;
    }
    Container& operator[](std::size_t node) { return containers_[node]; }
    const Container& operator[](std::size_t node) const { return containers_[node]; }
    bool isDummy(std::size_t node) const { return containers_[node].message == nullptr; }

    void link(std::size_t parent, std::size_t child)
    {
        containers_[child].parent = parent;
        containers_[parent].children.push_back(child);
    }

    void unlink(std::size_t child)
    {
        const auto parent = std::exchange(containers_[child].parent, kNone);
        if (parent == kNone) return;
        auto& siblings = containers_[parent].children;
        siblings.erase(std::ranges::find(siblings, child));
    }

    // Linking child under parent would close a loop: child is parent or one of
    // its ancestors (which a childless child cannot be).
    bool wouldLoop(std::size_t parent, std::size_t child) const
    {
        if (containers_[child].children.empty()) return parent == child;
        for (auto node = parent; node != kNone; node = containers_[node].parent) {
            if (node == child) return true;
        }
        return false;
    }

    // Every node under root (root included), each after all its descendants.
    std::vector<std::size_t> bottomUp(std::size_t root) const
    {
        std::vector<std::size_t> order;
        std::vector<std::size_t> pending{root};
        while (!pending.empty()) {
            const auto node = pending.back();
            pending.pop_back();
            order.push_back(node);
            pending.insert(pending.end(), containers_[node].children.begin(), containers_[node].children.end());
        }
        std::ranges::reverse(order);
        return order;
    }

    // The message a node sorts by: its own, or a dummy's first child's (steps 4, 6).
    const SortData& dated(std::size_t node) const
    {
        while (isDummy(node)) node = containers_[node].children.front();
        return *containers_[node].message;
    }

    void sortChildren(std::size_t node)
    {
        std::ranges::sort(containers_[node].children,
                          [this](std::size_t a, std::size_t b) { return sentBefore(dated(a), dated(b)); });
    }

private:
    std::vector<Container> containers_;
};

// Step 1: the id_table and the parent/child links of References, or else of
// the first msg-id of In-Reply-To. Messages come in sequence order, so a
// duplicate Message-ID stays with the first and the later ones get none.
class ReferenceLinker {
public:
    explicit ReferenceLinker(Forest& forest) : forest_(forest) {}

    void add(const SortData& message)
    {
        const auto self = containerOf(message);
        auto references = messageIds(message.references);
        if (references.empty()) {
            const auto inReplyTo = messageIds(message.inReplyTo);
            if (!inReplyTo.empty()) references.push_back(inReplyTo.front());
        }
        // 1.A: each reference the parent of the next, unless the next has one already.
        for (std::size_t i = 0; i + 1 < references.size(); ++i) {
            const auto parent = byId(references[i]);
            const auto child = byId(references[i + 1]);
            if (forest_[child].parent == kNone && !forest_.wouldLoop(parent, child)) forest_.link(parent, child);
        }
        // 1.B: the last reference is the parent, replacing a link a truncated References made.
        forest_.unlink(self);
        if (references.empty()) return;
        const auto parent = byId(references.back());
        if (!forest_.wouldLoop(parent, self)) forest_.link(parent, self);
    }

private:
    std::size_t containerOf(const SortData& message)
    {
        const auto ids = messageIds(message.messageId);
        if (ids.empty()) return forest_.add(&message);
        const auto [entry, inserted] = ids_.try_emplace(ids.front(), kNone);
        if (inserted) {
            entry->second = forest_.add(&message);
        } else if (forest_.isDummy(entry->second)) {
            forest_[entry->second].message = &message;
        } else {
            return forest_.add(&message);
        }
        return entry->second;
    }

    // The container of a referenced id; a dummy when no message has it (yet).
    std::size_t byId(const std::string& id)
    {
        const auto [entry, inserted] = ids_.try_emplace(id, kNone);
        if (inserted) entry->second = forest_.add(nullptr);
        return entry->second;
    }

    Forest& forest_;
    std::unordered_map<std::string, std::size_t> ids_;
};

// Step 3, for the children of one node whose subtrees are pruned already: a
// childless dummy goes; a dummy's children take its place, except that
// several children of a dummy at the top stay under it.
void pruneChildren(Forest& forest, std::size_t node, bool isRoot)
{
    std::vector<std::size_t> kept;
    for (const auto child : forest[node].children) {
        auto& container = forest[child];
        if (!forest.isDummy(child) || (isRoot && container.children.size() > 1)) {
            kept.push_back(child);
            continue;
        }
        for (const auto grandchild : container.children) {
            forest[grandchild].parent = node;
            kept.push_back(grandchild);
        }
        container.children.clear();
        container.parent = kNone;
    }
    forest[node].children = std::move(kept);
}

// A top-level thread and its subject: the root message's, or a dummy's first child's.
struct Head {
    std::size_t node;
    Extracted subject;
    bool replyOrForward;  // false for a dummy
};

// Step 5.C: merges `current` into the thread the subject table holds.
void mergeThreads(Forest& forest, std::size_t root, const Head& current, Head& held)
{
    const bool currentDummy = forest.isDummy(current.node);
    const bool heldDummy = forest.isDummy(held.node);
    if (currentDummy && heldDummy) {
        for (const auto child : forest[current.node].children) forest[child].parent = held.node;
        auto& children = forest[held.node].children;
        children.insert(children.end(), forest[current.node].children.begin(), forest[current.node].children.end());
        forest[current.node].children.clear();
        forest.unlink(current.node);
    } else if (heldDummy || (current.replyOrForward && !held.replyOrForward)) {
        forest.unlink(current.node);
        forest.link(held.node, current.node);
    } else {
        const auto dummy = forest.add(nullptr);
        forest.unlink(held.node);
        forest.unlink(current.node);
        forest.link(root, dummy);
        forest.link(dummy, held.node);
        forest.link(dummy, current.node);
        held = {dummy, {}, false};
    }
}

// Step 5: threads under the root with the same base subject are gathered.
void groupBySubject(Forest& forest, std::size_t root)
{
    std::vector<Head> heads;
    for (const auto node : forest[root].children) {
        auto subject = extract(forest.dated(node).subject);
        const bool reply = !forest.isDummy(node) && subject.replyOrForward;
        heads.push_back({node, std::move(subject), reply});
    }
    // 5.B: one thread per subject, preferring a dummy, then a non-reply.
    std::unordered_map<std::string, Head> table;
    for (const auto& head : heads) {
        if (head.subject.base.empty()) continue;
        const auto [entry, inserted] = table.try_emplace(head.subject.base, head);
        auto& held = entry->second;
        if (!inserted && !forest.isDummy(held.node) &&
            (forest.isDummy(head.node) || (held.replyOrForward && !head.replyOrForward))) {
            held = head;
        }
    }
    // 5.C: the others join it (heads moved meanwhile are no longer at the top).
    for (const auto& head : heads) {
        if (head.subject.base.empty() || forest[head.node].parent != root) continue;
        auto& held = table.at(head.subject.base);
        if (held.node != head.node) mergeThreads(forest, root, head, held);
    }
}

// The thread-lists of the root's children (§5: thread-list, thread-members,
// thread-nested): a chain of single children is space-separated in one
// parenthesis, several children each get their own.
std::string render(const Forest& forest, std::size_t root)
{
    std::string out;
    std::vector<std::optional<std::size_t>> work;  // a thread-list to open, or nullopt to close one
    const auto push = [&](const std::vector<std::size_t>& children) {
        work.insert(work.end(), children.rbegin(), children.rend());
    };
    push(forest[root].children);
    while (!work.empty()) {
        const auto item = work.back();
        work.pop_back();
        if (!item) {
            out += ')';
            continue;
        }
        out += '(';
        auto node = *item;
        if (!forest.isDummy(node)) {
            out += std::to_string(forest[node].message->id);
            while (forest[node].children.size() == 1) {
                node = forest[node].children.front();
                out += ' ' + std::to_string(forest[node].message->id);
            }
            if (!forest[node].children.empty()) out += ' ';
        }
        work.emplace_back(std::nullopt);
        push(forest[node].children);
    }
    return out;
}

std::vector<const SortData*> inSequenceOrder(const std::vector<SortData>& messages)
{
    std::vector<const SortData*> ordered;
    ordered.reserve(messages.size());
    for (const auto& message : messages) ordered.push_back(&message);
    std::ranges::sort(ordered, {}, &SortData::sequence);
    return ordered;
}

}  // namespace

std::vector<SortCriterion> parseSortCriteria(const Arg& list)
{
    if (!list.isList() || list.items.empty()) throw CommandError("", "Sort criteria must be a non-empty list");
    std::vector<SortCriterion> criteria;
    bool reverse = false;
    for (const auto& item : list.items) {
        if (item.is("REVERSE")) {
            if (reverse) throw CommandError("", "REVERSE twice in sort criteria");
            reverse = true;
            continue;
        }
        criteria.push_back({sortKey(item), reverse});
        reverse = false;
    }
    if (reverse) throw CommandError("", "REVERSE without a sort key");
    return criteria;
}

std::vector<std::uint32_t> sortMessages(std::vector<SortData> messages, const std::vector<SortCriterion>& criteria)
{
    std::vector<Keyed> keys;
    keys.reserve(messages.size());
    for (const auto& message : messages) keys.push_back(keyed(message, criteria));
    std::ranges::sort(keys, [&](const Keyed& a, const Keyed& b) {
        for (const auto& criterion : criteria) {
            const auto order = compareOn(criterion.key, a, b);
            if (order != 0) return criterion.reverse ? order > 0 : order < 0;
        }
        return a.message->sequence < b.message->sequence;
    });
    std::vector<std::uint32_t> ids;
    ids.reserve(keys.size());
    for (const auto& k : keys) ids.push_back(k.message->id);
    return ids;
}

std::string baseSubject(std::string_view rawSubject)
{
    return extract(rawSubject).base;
}

std::optional<std::int64_t> parseSentDate(std::string_view rawDate)
{
    std::size_t index = 0;
    mailimf_date_time* parsed = nullptr;
    if (mailimf_date_time_parse(rawDate.data(), rawDate.size(), &index, &parsed) != MAILIMF_NO_ERROR) return std::nullopt;
    const OwnedDateTime owned(parsed);
    return toEpoch(*parsed);
}

// ORDEREDSUBJECT: messages grouped by base subject, each group in sent order
// under its first message; groups in the sent order of their first message.
std::string threadOrderedSubject(const std::vector<SortData>& messages)
{
    struct Entry {
        const SortData* message;
        std::string subject;
    };
    std::vector<Entry> entries;
    entries.reserve(messages.size());
    for (const auto& message : messages) entries.push_back({&message, extract(message.subject).base});
    std::ranges::sort(entries, [](const Entry& a, const Entry& b) {
        if (a.subject != b.subject) return a.subject < b.subject;
        return sentBefore(*a.message, *b.message);
    });
    std::vector<std::span<const Entry>> threads;
    for (auto begin = entries.begin(); begin != entries.end();) {
        const auto end = std::find_if(begin, entries.end(), [&](const Entry& e) { return e.subject != begin->subject; });
        threads.emplace_back(begin, end);
        begin = end;
    }
    std::ranges::sort(threads, [](auto a, auto b) { return sentBefore(*a.front().message, *b.front().message); });
    std::string out;
    for (const auto thread : threads) {
        out += '(' + std::to_string(thread.front().message->id);
        const auto replies = thread.subspan(1);
        if (replies.size() == 1) out += ' ' + std::to_string(replies.front().message->id);
        if (replies.size() > 1) {
            out += ' ';
            for (const auto& reply : replies) out += '(' + std::to_string(reply.message->id) + ')';
        }
        out += ')';
    }
    return out;
}

std::string threadReferences(const std::vector<SortData>& messages)
{
    Forest forest;
    ReferenceLinker linker(forest);
    for (const auto* message : inSequenceOrder(messages)) linker.add(*message);
    // Step 2: the parentless containers under one root.
    const auto root = forest.add(nullptr);
    for (std::size_t node = 0; node < root; ++node) {
        if (forest[node].parent == kNone) forest.link(root, node);
    }
    for (const auto node : forest.bottomUp(root)) pruneChildren(forest, node, node == root);  // step 3
    // Step 4: the top level by sent date, a dummy by its first child.
    for (const auto node : forest[root].children) {
        if (forest.isDummy(node)) forest.sortChildren(node);
    }
    forest.sortChildren(root);
    groupBySubject(forest, root);
    for (const auto node : forest.bottomUp(root)) forest.sortChildren(node);  // step 6
    return render(forest, root);
}

}  // namespace plexus::imap
