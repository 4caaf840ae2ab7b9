#include "directory/SyncControls.h"

#include <lber.h>
#include <ldap.h>

#include <memory>

namespace plexus::directory {

namespace {

struct BerFree {
    void operator()(BerElement* ber) const { ber_free(ber, 1); }
};
using Ber = std::unique_ptr<BerElement, BerFree>;

// A decoder over a copy of `bytes`, positioned inside the value's outer
// element, which must span the bytes exactly; every ber_scanf is checked.
class Decoder {
public:
    Decoder(std::string_view bytes, const char* what) : what_(what)
    {
        if (bytes.empty()) fail();  // liblber reads a null buffer otherwise
        berval value{static_cast<ber_len_t>(bytes.size()), const_cast<char*>(bytes.data())};
        ber_.reset(ber_init(&value));
        if (!ber_) throw SyncProtocolError(std::string("cannot decode the ") + what_);
        ber_len_t length = 0;
        tag_ = ber_skip_tag(ber_.get(), &length);
        if (tag_ == LBER_DEFAULT || remaining() != length) fail();
        contents_ = bytes.substr(bytes.size() - length);
    }

    // The outer element's tag, and its contents (for a primitive one).
    ber_tag_t tag() const { return tag_; }
    std::string_view contents() const { return contents_; }

    ber_tag_t peek()
    {
        ber_len_t length = 0;
        return ber_peek_tag(ber_.get(), &length);
    }
    // ber_scanf with its result checked; the format must not allocate.
    template <typename... Args>
    void scan(const char* format, Args... args)
    {
        if (ber_scanf(ber_.get(), format, args...) == LBER_ERROR) fail();
    }
    std::string octets()
    {
        berval value{};
        scan("m", &value);
        return std::string(value.bv_val, value.bv_len);
    }
    std::optional<std::string> optionalCookie()
    {
        if (peek() != LDAP_TAG_SYNC_COOKIE) return std::nullopt;
        return octets();
    }
    bool optionalBoolean(bool fallback)
    {
        if (peek() != LBER_BOOLEAN) return fallback;
        ber_int_t value = 0;
        scan("b", &value);
        return value != 0;
    }
    std::vector<std::string> uuidSet()
    {
        BerVarray values = nullptr;
        if (ber_scanf(ber_.get(), "[W]", &values) == LBER_ERROR) fail();
        const std::unique_ptr<BerVarray, void (*)(BerVarray*)> owner(&values, [](BerVarray* v) { ber_bvarray_free(*v); });
        std::vector<std::string> uuids;
        for (auto* v = values; v && v->bv_val; ++v) uuids.push_back(formatUuid({v->bv_val, v->bv_len}));
        return uuids;
    }
    // Every element of the outer one was read.
    void finish()
    {
        if (remaining() != 0) throw SyncProtocolError(std::string("unexpected data in the ") + what_);
    }
    [[noreturn]] void fail() const { throw SyncProtocolError(std::string("malformed ") + what_); }

private:
    ber_len_t remaining() const
    {
        ber_len_t bytes = 0;
        if (ber_get_option(ber_.get(), LBER_OPT_BER_REMAINING_BYTES, &bytes) != LBER_OPT_SUCCESS) fail();
        return bytes;
    }

    const char* what_;
    Ber ber_;
    ber_tag_t tag_ = LBER_DEFAULT;
    std::string_view contents_;
};

}  // namespace

std::string formatUuid(std::string_view octets)
{
    if (octets.size() != 16)
        throw SyncProtocolError("a syncUUID has 16 octets, not " + std::to_string(octets.size()));
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t i = 0; i < octets.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        const auto byte = static_cast<unsigned char>(octets[i]);
        text += digits[byte >> 4];
        text += digits[byte & 0x0f];
    }
    return text;
}

std::string encodeSyncRequest(SyncMode mode, const std::optional<std::string>& cookie, bool reloadHint)
{
    Ber ber(ber_alloc_t(LBER_USE_DER));
    if (!ber) throw std::bad_alloc();
    bool ok = ber_printf(ber.get(), "{e", static_cast<ber_int_t>(mode)) != -1;
    if (ok && cookie) {
        berval value{static_cast<ber_len_t>(cookie->size()), const_cast<char*>(cookie->data())};
        ok = ber_printf(ber.get(), "O", &value) != -1;
    }
    if (ok && reloadHint) ok = ber_printf(ber.get(), "b", static_cast<ber_int_t>(1)) != -1;
    ok = ok && ber_printf(ber.get(), "N}") != -1;
    berval encoded{};
    if (!ok || ber_flatten2(ber.get(), &encoded, 0) != 0) throw SyncProtocolError("cannot encode the Sync Request");
    return std::string(encoded.bv_val, encoded.bv_len);
}

SyncStateValue decodeSyncState(std::string_view ber)
{
    Decoder in(ber, "Sync State control");
    SyncStateValue value;
    ber_int_t state = 0;
    if (in.tag() != LBER_SEQUENCE) in.fail();
    in.scan("e", &state);
    if (state < 0 || state > 3) in.fail();
    value.state = static_cast<SyncState>(state);
    value.entryUuid = formatUuid(in.octets());
    value.cookie = in.optionalCookie();
    in.finish();
    return value;
}

SyncDoneValue decodeSyncDone(std::string_view ber)
{
    Decoder in(ber, "Sync Done control");
    SyncDoneValue value;
    if (in.tag() != LBER_SEQUENCE) in.fail();
    value.cookie = in.optionalCookie();
    value.refreshDeletes = in.optionalBoolean(false);
    in.finish();
    return value;
}

SyncInfoValue decodeSyncInfo(std::string_view ber)
{
    Decoder in(ber, "Sync Info message");
    SyncInfoValue value;
    switch (in.tag()) {
    case LDAP_TAG_SYNC_NEW_COOKIE:
        value.kind = SyncInfoValue::Kind::NewCookie;
        value.cookie = std::string(in.contents());
        return value;
    case LDAP_TAG_SYNC_REFRESH_DELETE:
    case LDAP_TAG_SYNC_REFRESH_PRESENT:
        value.kind = in.tag() == LDAP_TAG_SYNC_REFRESH_DELETE ? SyncInfoValue::Kind::RefreshDelete
                                                               : SyncInfoValue::Kind::RefreshPresent;
        value.cookie = in.optionalCookie();
        value.refreshDone = in.optionalBoolean(true);
        in.finish();
        return value;
    case LDAP_TAG_SYNC_ID_SET:
        value.kind = SyncInfoValue::Kind::SyncIdSet;
        value.cookie = in.optionalCookie();
        value.refreshDeletes = in.optionalBoolean(false);
        value.uuids = in.uuidSet();
        in.finish();
        return value;
    default: in.fail();
    }
}

}  // namespace plexus::directory
