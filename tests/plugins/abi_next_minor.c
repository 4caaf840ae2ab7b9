/* A plugin built for a newer ABI minor than the host's: it may call services
 * the host lacks, so plexusd must refuse it, naming both versions. */
#include <plexus/plugin.h>

static plexus_status future_init(const plexus_host_api* api, plexus_host* host, void** state)
{
    (void)api;
    (void)host;
    *state = 0;
    return PLEXUS_OK;
}

static void future_shutdown(void* state) { (void)state; }

static const plexus_plugin_descriptor descriptor = {
    sizeof(plexus_plugin_descriptor), PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR + 1, "future-minor", "1.1.0",
    "Built for an ABI minor newer than this host's", 0, future_init, future_shutdown,
};

PLEXUS_EXPORT const plexus_plugin_descriptor* plexus_plugin_entry(void) { return &descriptor; }
