# The Plexus plugin SDK: find_package(PlexusSDK 1.0 REQUIRED) gives the
# header-only target PlexusSDK::sdk and plexus_add_plugin().
include("${CMAKE_CURRENT_LIST_DIR}/PlexusSDKTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/PlexusPlugin.cmake")
