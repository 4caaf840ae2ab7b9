/* A shared library that is not a plugin: it does not export plexus_plugin_entry. */
#include <plexus/plugin.h>

PLEXUS_EXPORT int plexus_test_answer(void) { return 42; }
