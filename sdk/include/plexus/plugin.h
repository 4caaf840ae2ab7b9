/* plexus/plugin.h: the Plexus plugin ABI, in C.
 *
 * A plugin is a shared library exporting one function, plexus_plugin_entry(),
 * that returns its descriptor. plexusd loads the libraries named in its
 * configuration, checks the ABI version, then calls init() with the table of
 * host services (plexus_host_api) and a handle (plexus_host*) standing for
 * this plugin. During init() the plugin registers its hooks, event consumers,
 * timers and HTTP routes; the host calls them until shutdown().
 *
 * ABI promises (PLEXUS_ABI_MAJOR.PLEXUS_ABI_MINOR):
 *   - A new minor only appends: new members at the end of structs, new
 *     functions at the end of plexus_host_api, new enum values. Every struct
 *     starts with struct_size, so each side can tell what the other knows.
 *   - A new major may change anything; plexusd refuses a plugin built for
 *     another major, and one built for a newer minor than its own.
 *   - Before using a host function added after 1.0, test it with
 *     PLEXUS_HOST_HAS(api, member).
 *
 * Ownership:
 *   - Strings are UTF-8 and NUL-terminated. Anything the host passes to a
 *     callback is borrowed for the duration of that call; copy what you keep.
 *   - Variable-size results come back through a sink callback, called during
 *     the host function (never after it returns).
 *   - config_get() strings live until shutdown(); a message's part and info
 *     strings live until the message is closed (or the hook returns).
 *   - Nothing allocated by one side is freed by the other.
 *   - What a plugin passes to a register_* function (names, prefixes, paths)
 *     is copied by the host; `user` pointers are kept as they are.
 *
 * Threading:
 *   - init() and shutdown() run on one thread, in configuration order
 *     (shutdown in reverse), while no hook runs.
 *   - Verdict hooks and HTTP routes are called concurrently from many session
 *     threads: they must be thread-safe. A verdict hook has a deadline
 *     (per plugin, `deadline_ms`, default 5000 ms); past it the session goes on
 *     with a temporary failure and the late result is ignored, so a hook must
 *     not keep pointers it was given beyond its return.
 *   - Each event consumer runs on its own thread, one event at a time, in
 *     event order. Each timer runs on the plugin's timer thread, never
 *     concurrently with itself.
 *   - Every host service may be called from any thread, at any time between
 *     init() and the return of shutdown(), including from inside callbacks.
 *
 * Errors: every callback returns a plexus_status. Anything but PLEXUS_OK from a
 * verdict hook is a temporary failure for that message (SMTP 4xx), logged and
 * audited; call set_error() first to say why. C++ exceptions must not cross
 * this boundary (plexus/plugin.hpp catches them for you); the host catches any
 * that do and treats them as PLEXUS_ERR_INTERNAL.
 */
#ifndef PLEXUS_PLUGIN_H
#define PLEXUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLEXUS_ABI_MAJOR 1
#define PLEXUS_ABI_MINOR 0

#if defined(__GNUC__) || defined(__clang__)
#define PLEXUS_EXPORT __attribute__((visibility("default")))
#else
#define PLEXUS_EXPORT
#endif

/* The one symbol a plugin exports. */
#define PLEXUS_PLUGIN_ENTRY_SYMBOL "plexus_plugin_entry"

/* True when the host's table has `member` (it may be older than this header). */
#define PLEXUS_HOST_HAS(api, member) \
    ((api)->struct_size >= offsetof(plexus_host_api, member) + sizeof((api)->member) && (api)->member != NULL)

typedef enum plexus_status {
    PLEXUS_OK = 0,
    PLEXUS_ERR_INVALID = 1,     /* a malformed argument */
    PLEXUS_ERR_NOT_FOUND = 2,   /* no such key, message, mailbox, header or part */
    PLEXUS_ERR_EXISTS = 3,      /* already there */
    PLEXUS_ERR_DENIED = 4,      /* not allowed: capability not declared, sender not allowed... */
    PLEXUS_ERR_TOO_LARGE = 5,   /* beyond a size limit */
    PLEXUS_ERR_TEMPORARY = 6,   /* try again later (a peer or the store is unavailable) */
    PLEXUS_ERR_PERMANENT = 7,   /* event consumers: this event can never be processed */
    PLEXUS_ERR_UNSUPPORTED = 8, /* not in this host */
    PLEXUS_ERR_INTERNAL = 9     /* anything else */
} plexus_status;

/* What a plugin declares it uses; the host refuses registrations and services
 * outside them (PLEXUS_ERR_DENIED), and `plexusctl plugins` shows them.
 * Logging, configuration, storage, audit events and metrics need none. */
#define PLEXUS_CAP_SMTP_HOOKS (1u << 0)    /* connect, MAIL FROM, RCPT TO */
#define PLEXUS_CAP_MESSAGE_HOOK (1u << 1)  /* message received */
#define PLEXUS_CAP_AUTH_HOOK (1u << 2)     /* authentication (SMTP and IMAP) */
#define PLEXUS_CAP_EVENTS (1u << 3)        /* event consumers */
#define PLEXUS_CAP_TIMERS (1u << 4)
#define PLEXUS_CAP_HTTP (1u << 5)          /* routes under /api/plugins/<name>/ */
#define PLEXUS_CAP_MESSAGE_READ (1u << 6)  /* open stored messages */
#define PLEXUS_CAP_SUBMIT (1u << 7)        /* submit new messages */
#define PLEXUS_CAP_MAILBOX_ADMIN (1u << 8) /* create mailboxes and folders, set ACLs, delegates */
#define PLEXUS_CAP_DIRECTORY (1u << 9)     /* directory lookup and search */

typedef enum plexus_log_level {
    PLEXUS_LOG_ERROR = 3,
    PLEXUS_LOG_WARNING = 4,
    PLEXUS_LOG_INFO = 6,
    PLEXUS_LOG_DEBUG = 7
} plexus_log_level;

/* Opaque handles, owned by the host. */
typedef struct plexus_host plexus_host;                   /* this plugin, as the host sees it */
typedef struct plexus_message plexus_message;             /* one message, readable */
typedef struct plexus_stream plexus_stream;               /* the bytes of a message or a part */
typedef struct plexus_http_response plexus_http_response; /* the answer to an HTTP request */

/* Receives a variable-size result: called zero or more times during the host function. */
typedef void (*plexus_bytes_sink)(void* user, const void* data, size_t size);

/* ------------------------------------------------------------------------ */
/* Verdict hooks                                                             */

/* Where a session comes from. */
typedef struct plexus_session_info {
    uint32_t struct_size;
    const char* service;        /* "mx", "submission", "submissions", "imap", "imaps" */
    const char* client_address; /* IP address of the client */
    const char* helo;           /* SMTP EHLO/HELO name; "" before it or on IMAP */
    int tls;                    /* 1 when the connection is encrypted */
    const char* identity;       /* authenticated mailbox address; "" when none */
    const char* peer_certificate_dn; /* client certificate subject (RFC 4514); "" when none */
} plexus_session_info;

typedef enum plexus_verdict_action {
    PLEXUS_CONTINUE = 0,  /* no objection; later plugins and the host go on */
    PLEXUS_REJECT = 1,    /* permanent refusal (SMTP 5xx; default 550 5.7.1) */
    PLEXUS_DEFER = 2,     /* temporary refusal (SMTP 4xx; default 451 4.7.1) */
    PLEXUS_TAKE_OVER = 3  /* message hook only: accepted (250), the plugin delivers it itself */
} plexus_verdict_action;

/* Filled by a verdict hook; the host zeroes it (PLEXUS_CONTINUE) before the call.
 * smtp_code and enhanced_code, when set, must be of the action's class (5xx for
 * REJECT, 4xx for DEFER); otherwise the host uses its defaults. text must be
 * printable ASCII without CR/LF; it is sent to the client after the codes. */
typedef struct plexus_verdict {
    uint32_t struct_size;
    plexus_verdict_action action;
    uint16_t smtp_code;     /* 0: the default */
    char enhanced_code[16]; /* e.g. "5.7.1"; "" the default */
    char text[256];         /* "" a default text naming the plugin */
} plexus_verdict;

/* The envelope of a message, as accepted so far. */
typedef struct plexus_envelope {
    uint32_t struct_size;
    const char* sender;             /* MAIL FROM; "" for the null sender */
    const char* const* recipients;  /* RCPT TO addresses */
    size_t recipient_count;
} plexus_envelope;

typedef plexus_status (*plexus_connect_hook)(void* user, const plexus_session_info* session,
                                             plexus_verdict* verdict);
typedef plexus_status (*plexus_mail_from_hook)(void* user, const plexus_session_info* session,
                                               const char* sender, plexus_verdict* verdict);
/* `envelope` holds the recipients accepted before this one. */
typedef plexus_status (*plexus_rcpt_to_hook)(void* user, const plexus_session_info* session,
                                             const plexus_envelope* envelope, const char* recipient,
                                             plexus_verdict* verdict);
/* After the whole message arrived, before it is stored. The hook may read the
 * message, add headers (message_add_header) or replace its content
 * (message_replace_write), then return a verdict. Hooks run in configuration
 * order; a replacement is what later hooks read; the first REJECT, DEFER or
 * TAKE_OVER ends the chain. */
typedef plexus_status (*plexus_message_hook)(void* user, const plexus_session_info* session,
                                             const plexus_envelope* envelope, plexus_message* message,
                                             plexus_verdict* verdict);
/* After credentials were verified (SMTP AUTH, IMAP LOGIN/AUTHENTICATE);
 * session->identity is the account. REJECT refuses the login, DEFER answers a
 * temporary failure. */
typedef plexus_status (*plexus_auth_hook)(void* user, const plexus_session_info* session, const char* mechanism,
                                          plexus_verdict* verdict);

/* ------------------------------------------------------------------------ */
/* Event consumers                                                           */

/* One entry of the durable event log. Types are dotted names: auth.login,
 * auth.logout, message.received (local delivery), message.submitted (with remote
 * recipients), message.refused, message.read, mailbox.select,
 * mailbox.created, acl.changed, plugin.<name>.<type> (plugins' own)... */
typedef struct plexus_event {
    uint32_t struct_size;
    int64_t id;          /* unique and increasing: de-duplicate with it */
    int64_t time_us;     /* microseconds since the epoch */
    const char* type;
    const char* actor;   /* account address, national id, "plexusctl:<user>" or "plugin:<name>" */
    const char* client;  /* client IP address, or "local" */
    const char* object;  /* mailbox, folder, Message-ID... */
    const char* outcome; /* "success" or a failure reason */
    const char* detail_json; /* a JSON object */
} plexus_event;

/* At least once, in order: an event is given again until the consumer returns
 * PLEXUS_OK. PLEXUS_ERR_TEMPORARY retries the same event with backoff, for as
 * long as it takes (a repository is down). Any other error, or an exception,
 * retries too but after `event_max_attempts` (default 10) the event is set
 * aside as poison, reported by `plexusctl plugins`, and the next one comes;
 * PLEXUS_ERR_PERMANENT sets it aside at once. */
typedef plexus_status (*plexus_event_consumer)(void* user, const plexus_event* event);

typedef enum plexus_event_start {
    PLEXUS_EVENTS_FROM_NOW = 0,   /* a new consumer starts after the last event logged */
    PLEXUS_EVENTS_FROM_OLDEST = 1 /* a new consumer starts at the oldest event kept */
} plexus_event_start;

typedef struct plexus_consumer_spec {
    uint32_t struct_size;
    const char* name;          /* [a-z0-9_-]{1,32}; the position is kept per plugin and name */
    const char* type_prefixes; /* comma-separated type prefixes ("message.,auth."); "" or "*" = all */
    plexus_event_start start;
    plexus_event_consumer consume;
    void* user;
} plexus_consumer_spec;

/* ------------------------------------------------------------------------ */
/* Timers and HTTP                                                           */

/* Not PLEXUS_OK (or an exception): logged and counted; the timer goes on. */
typedef plexus_status (*plexus_timer_callback)(void* user);

/* A request under /api/plugins/<name>/, already authenticated by the API. */
typedef struct plexus_http_request {
    uint32_t struct_size;
    const char* method;        /* "GET", "POST"... */
    const char* path;          /* after /api/plugins/<name>, starting with '/' */
    const char* query;         /* without '?'; "" when none */
    const char* identity;      /* the authenticated account address */
    const char* content_type;  /* "" when none */
    const char* const* headers; /* name, value, name, value... */
    size_t header_count;       /* pairs */
    const void* body;
    size_t body_size;          /* at most the route's limit (1 MiB) */
} plexus_http_request;

/* Must call http_respond() once; without it the client gets 500. */
typedef plexus_status (*plexus_http_handler)(void* user, const plexus_http_request* request,
                                             plexus_http_response* response);

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */

typedef struct plexus_message_info {
    uint32_t struct_size;
    uint64_t size;          /* bytes */
    const char* message_id; /* Message-ID, "" when none */
    const char* subject;    /* raw (RFC 2047 words not decoded) */
    const char* from;       /* first From address (local@domain), "" when none */
    size_t part_count;      /* MIME entities, the root included */
} plexus_message_info;

/* One MIME entity; parts are numbered depth first, 0 being the whole message. */
typedef struct plexus_part_info {
    uint32_t struct_size;
    const char* section;       /* IMAP section: "" for the root, "1", "1.2"... */
    const char* content_type;  /* lower case "type/subtype" */
    const char* charset;       /* "" when none */
    const char* filename;      /* Content-Disposition filename or Content-Type name; "" */
    const char* disposition;   /* "inline", "attachment" or "" */
    const char* encoding;      /* "7bit", "base64", "quoted-printable"... */
    uint64_t size;             /* encoded body bytes */
    uint32_t depth;            /* 0 for the root */
    int is_multipart;
} plexus_part_info;

#define PLEXUS_WHOLE_MESSAGE SIZE_MAX

typedef enum plexus_read_mode {
    PLEXUS_READ_RAW = 0,     /* body bytes as stored (PLEXUS_WHOLE_MESSAGE: header and body) */
    PLEXUS_READ_DECODED = 1  /* body with its Content-Transfer-Encoding undone */
} plexus_read_mode;

/* ------------------------------------------------------------------------ */
/* Directory                                                                 */

/* A mailbox of the directory. Until the national directory is synced, the
 * host answers from its own mailboxes (source "local"). */
typedef struct plexus_directory_entry {
    uint32_t struct_size;
    const char* address;
    const char* type;          /* "PER", "ORG", "APP", "CAB" */
    const char* national_id;   /* RPPS/ADELI with its prefix; "" */
    const char* structure_id;  /* FINESS/SIRET; "" */
    const char* display_name;  /* "" when unknown */
    const char* profession;    /* "" when unknown */
    const char* city;          /* "" when unknown */
    const char* source;        /* "local", "ldap", "national-file" */
} plexus_directory_entry;

typedef struct plexus_directory_query {
    uint32_t struct_size;
    const char* text;        /* free text (name or address prefix); "" any */
    const char* national_id; /* exact; "" any */
    const char* profession;  /* "" any */
    const char* city;        /* "" any */
    uint32_t limit;          /* 0: 50; at most 1000 */
} plexus_directory_query;

typedef void (*plexus_directory_sink)(void* user, const plexus_directory_entry* entry);

/* ------------------------------------------------------------------------ */
/* Mailboxes, submission, audit                                              */

typedef struct plexus_mailbox_spec {
    uint32_t struct_size;
    const char* address;      /* in a local domain */
    const char* type;         /* "PER", "ORG", "APP", "CAB" */
    const char* national_id;  /* PER, CAB; "" */
    const char* structure_id; /* ORG, APP; "" */
    uint64_t quota_mb;        /* 0: the instance's default */
} plexus_mailbox_spec;

/* A new message from the plugin's technical identity (config key `submit_as`). */
typedef struct plexus_submission {
    uint32_t struct_size;
    const char* sender;   /* MAIL FROM: "" = submit_as; otherwise an address submit_as may send as */
    const char* const* recipients;
    size_t recipient_count;
    const void* content;  /* a complete RFC 5322 message, lines ending in CRLF */
    size_t content_size;
} plexus_submission;

typedef struct plexus_audit_event {
    uint32_t struct_size;
    const char* type;        /* [a-z0-9_.-]; logged as plugin.<name>.<type> */
    const char* actor;       /* "" = plugin:<name> */
    const char* client;      /* "" = "local" */
    const char* object;
    const char* outcome;     /* "" = "success" */
    const char* detail_json; /* a JSON object, or "" */
} plexus_audit_event;

/* ------------------------------------------------------------------------ */
/* The host's services                                                       */

typedef struct plexus_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char* host_version; /* plexusd's version */

    /* Logging and configuration */
    void (*log)(plexus_host* host, plexus_log_level level, const char* message);
    /* A key of the plugin's section [plugin.<name>]; NULL when absent. */
    const char* (*config_get)(plexus_host* host, const char* key);
    /* Says why the current callback is about to return an error (this thread only). */
    void (*set_error)(plexus_host* host, const char* message);

    /* Registration: during init() only (PLEXUS_ERR_INVALID afterwards). */
    plexus_status (*register_connect_hook)(plexus_host* host, plexus_connect_hook hook, void* user);
    plexus_status (*register_mail_from_hook)(plexus_host* host, plexus_mail_from_hook hook, void* user);
    plexus_status (*register_rcpt_to_hook)(plexus_host* host, plexus_rcpt_to_hook hook, void* user);
    plexus_status (*register_message_hook)(plexus_host* host, plexus_message_hook hook, void* user);
    plexus_status (*register_auth_hook)(plexus_host* host, plexus_auth_hook hook, void* user);
    plexus_status (*register_event_consumer)(plexus_host* host, const plexus_consumer_spec* spec);
    /* Calls `callback` every `interval_ms` (at least 100). */
    plexus_status (*register_timer)(plexus_host* host, uint32_t interval_ms, plexus_timer_callback callback,
                                    void* user);
    /* `method` "GET", "POST"... or "*" for any; `path` exact ("/status"), or a
     * prefix when its last character is an asterisk ("/teams/" then '*'). */
    plexus_status (*register_http_route)(plexus_host* host, const char* method, const char* path,
                                         plexus_http_handler handler, void* user);

    /* HTTP: answer a request (once). */
    plexus_status (*http_respond)(plexus_http_response* response, int status, const char* content_type,
                                  const void* body, size_t body_size);
    plexus_status (*http_set_header)(plexus_http_response* response, const char* name, const char* value);

    /* Messages: in a message hook, the message given; elsewhere, a stored one. */
    plexus_status (*message_open)(plexus_host* host, const char* mailbox, const char* folder, uint32_t uid,
                                  plexus_message** message);
    void (*message_close)(plexus_message* message); /* only for message_open()'s */
    plexus_status (*message_info)(plexus_message* message, plexus_message_info* info);
    /* The `index`-th field of that name (0 first) in the top-level header, unfolded. */
    plexus_status (*message_header)(plexus_message* message, const char* name, size_t index, plexus_bytes_sink sink,
                                    void* user);
    plexus_status (*message_part)(plexus_message* message, size_t index, plexus_part_info* info);
    plexus_status (*message_read)(plexus_message* message, size_t part, plexus_read_mode mode,
                                  plexus_stream** stream);
    /* Up to `capacity` bytes into `buffer`; *size is 0 at the end. */
    plexus_status (*stream_read)(plexus_stream* stream, void* buffer, size_t capacity, size_t* size);
    void (*stream_close)(plexus_stream* stream);
    /* In a message hook only: a header field prepended to the stored message.
     * PLEXUS_ERR_INVALID for a name that is not an RFC 5322 field name, a value
     * with CR, LF or other controls or over 900 bytes, and for fields a message
     * has at most once (From, To, Subject, Date, Message-ID...), Content-* and
     * MIME-Version: a prepended copy would override the sender's. */
    plexus_status (*message_add_header)(plexus_message* message, const char* name, const char* value);
    /* In a message hook only: the next bytes of a new content for the message
     * (a complete RFC 5322 message, CRLF lines); the first call starts it. */
    plexus_status (*message_replace_write)(plexus_message* message, const void* data, size_t size);

    /* Submission: accepted once durable; the queue id comes through `id_sink` (may be NULL). */
    plexus_status (*submit_message)(plexus_host* host, const plexus_submission* submission,
                                    plexus_bytes_sink id_sink, void* user);

    /* Mailboxes, folders, delegates and ACLs (RFC 4314 rights; "" removes the entry). */
    plexus_status (*mailbox_create)(plexus_host* host, const plexus_mailbox_spec* spec);
    plexus_status (*folder_create)(plexus_host* host, const char* mailbox, const char* folder);
    plexus_status (*delegate_add)(plexus_host* host, const char* org_mailbox, const char* person_mailbox);
    plexus_status (*acl_set)(plexus_host* host, const char* mailbox, const char* folder, const char* identifier,
                             const char* rights);

    /* Directory */
    plexus_status (*directory_lookup)(plexus_host* host, const char* address, plexus_directory_sink sink,
                                      void* user);
    plexus_status (*directory_search)(plexus_host* host, const plexus_directory_query* query,
                                      plexus_directory_sink sink, void* user);

    /* Per-plugin storage: durable when put/delete return PLEXUS_OK.
     * Keys: 1 to 256 bytes of UTF-8; values up to 1 MiB. */
    plexus_status (*storage_put)(plexus_host* host, const char* key, const void* value, size_t size);
    plexus_status (*storage_get)(plexus_host* host, const char* key, plexus_bytes_sink sink, void* user);
    plexus_status (*storage_delete)(plexus_host* host, const char* key);
    /* Keys with that prefix, in key order, each with its value. */
    plexus_status (*storage_list)(plexus_host* host, const char* prefix,
                                  void (*each)(void* user, const char* key, const void* value, size_t size),
                                  void* user);

    /* Audit: appended to the durable event log (durable when PLEXUS_OK). */
    plexus_status (*audit)(plexus_host* host, const plexus_audit_event* event);

    /* Metrics, exposed as plexus_plugin_<name>_<metric>; names [a-z_][a-z0-9_]*. */
    plexus_status (*metric_add)(plexus_host* host, const char* metric, const char* help, uint64_t amount);
    plexus_status (*metric_set)(plexus_host* host, const char* metric, const char* help, int64_t value);

    /* The name this plugin is configured under (`plexusctl plugin add --name`
     * may differ from the descriptor's); lives until shutdown. */
    const char* (*plugin_name)(plexus_host* host);
} plexus_host_api;

/* ------------------------------------------------------------------------ */
/* The plugin's side                                                         */

typedef struct plexus_plugin_descriptor {
    uint32_t struct_size;
    uint16_t abi_major;   /* PLEXUS_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* PLEXUS_ABI_MINOR */
    const char* name;     /* [a-z0-9-]{1,32}: the default name in the configuration */
    const char* version;  /* the plugin's own version */
    const char* description;
    uint64_t capabilities; /* PLEXUS_CAP_* */
    /* Registers what the plugin needs; may keep `api` and `host` until shutdown.
     * *state is handed back to shutdown(). Not PLEXUS_OK: plexusd does not
     * start, shutdown() is not called and the registrations are dropped, so
     * init() frees what it allocated before failing. */
    plexus_status (*init)(const plexus_host_api* api, plexus_host* host, void** state);
    /* After the last callback has returned; the plugin frees everything. */
    void (*shutdown)(void* state);
} plexus_plugin_descriptor;

typedef const plexus_plugin_descriptor* (*plexus_plugin_entry_fn)(void);

/* What the library exports (C linkage). */
PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* PLEXUS_PLUGIN_H */
