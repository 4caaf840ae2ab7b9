# plexus_add_plugin(<name> <source>...): the target <name>, built as the module
# plexus-<name>.so that plexusd loads. Only plexus_plugin_entry() is exported
# (hidden visibility, and a version script so that no template instantiation
# leaks out either); C++ sources are compiled as C++17 at least.
# Cached: plexus_add_plugin() may be called from any directory of the project.
set(_plexus_sdk_cmake_dir "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "where PlexusPlugin.cmake is")

function(plexus_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME plexus-${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("CXX" IN_LIST languages)
    target_compile_features(${name} PRIVATE cxx_std_17)
  endif()
  if(NOT APPLE AND NOT WIN32)
    target_link_options(${name} PRIVATE "LINKER:--version-script=${_plexus_sdk_cmake_dir}/plexus-plugin.map")
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${_plexus_sdk_cmake_dir}/plexus-plugin.map")
  endif()
  target_link_libraries(${name} PRIVATE PlexusSDK::sdk)
endfunction()
