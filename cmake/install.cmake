# What `cmake --install` puts where, and the Debian packages CPack builds
# from it. Two components, two packages:
#   sopir         the program, its man page and bash completion, the shipped
#                 procedures, the docs, and the hourly deadline timer
#   libsopir-dev  the engine library, its headers and CMake package
#                 (find_package(sopir) gives sopir::engine)
include(CMakePackageConfigHelpers)

set(SOPIR_INSTALL_WORKFLOWSDIR ${CMAKE_INSTALL_DATADIR}/sopir/workflows)
set(SOPIR_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/sopir)
# SOPIR_STATE_DIR (the top CMakeLists.txt): the databases the timer serves,
# /var/lib/sopir/NAME.db for sopir-tick@NAME.
set(SOPIR_SYSTEMD_UNITDIR lib/systemd/system CACHE STRING
  "Where the systemd units go, relative to the prefix")

# --- the program ---
install(TARGETS sopir RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sopir)
install(FILES ${PROJECT_BINARY_DIR}/sopir.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT sopir)
install(FILES ${PROJECT_BINARY_DIR}/sopir.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME sopir COMPONENT sopir)
# The procedures with their scenario tests beside them: a test file names
# its procedure relative to itself, so `sopir sop test` runs there as is.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/workflows/ DESTINATION ${SOPIR_INSTALL_WORKFLOWSDIR}
  COMPONENT sopir FILES_MATCHING PATTERN "*.yaml" PATTERN "*.json" PATTERN "README.md")
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/CLI.md
  ${PROJECT_SOURCE_DIR}/docs/AUDIT.md ${PROJECT_SOURCE_DIR}/docs/SCHEMA.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT sopir)
install(FILES ${PROJECT_SOURCE_DIR}/examples/embed.cc ${PROJECT_SOURCE_DIR}/examples/CMakeLists.txt
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT dev)
# Holiday calendars (workflows/calendars/*.yaml) come with the procedures: a
# procedure finds its calendar in the folder calendars beside it.

foreach(unit sopir-tick@.service sopir-tick@.timer)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/${unit}.in ${PROJECT_BINARY_DIR}/packaging/${unit} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/${unit} DESTINATION ${SOPIR_SYSTEMD_UNITDIR}
    COMPONENT sopir)
endforeach()

# --- the engine as a CMake package ---
install(TARGETS sopir_engine EXPORT sopirTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
# `cmake --install --strip` and CPack (CPACK_STRIP_FILES) strip programs and
# shared libraries only; the archive's debug information goes too.
install(CODE "if(CMAKE_INSTALL_DO_STRIP AND EXISTS \"${CMAKE_STRIP}\")
  execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:sopir_engine>\")
endif()" COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/include/sopir DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev)
install(EXPORT sopirTargets NAMESPACE sopir:: DESTINATION ${SOPIR_INSTALL_CMAKEDIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sopirConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sopirConfig.cmake INSTALL_DESTINATION ${SOPIR_INSTALL_CMAKEDIR}
  PATH_VARS SOPIR_INSTALL_WORKFLOWSDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sopirConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sopirConfig.cmake ${PROJECT_BINARY_DIR}/sopirConfigVersion.cmake
  DESTINATION ${SOPIR_INSTALL_CMAKEDIR} COMPONENT dev)

# --- the Debian packages: cpack -G DEB in the build directory ---
set(CPACK_PACKAGE_NAME sopir)
set(CPACK_PACKAGE_VENDOR "sopir project")
set(CPACK_PACKAGE_CONTACT "sopir maintainers <maintainers@sopir.example>")
# Each package's description: its first line is the synopsis (so no
# CPACK_PACKAGE_DESCRIPTION_SUMMARY, which CPack would put before it).
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)  # the packages carry no debug information
# The program, the man page and the units name their installed paths, so
# the package installs under the prefix they were built for: configure with
# -DCMAKE_INSTALL_PREFIX=/usr for a Debian package.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "sopir: install prefix ${CMAKE_INSTALL_PREFIX}; a Debian package wants -DCMAKE_INSTALL_PREFIX=/usr")
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL sopir dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_SOPIR_PACKAGE_NAME sopir)
set(CPACK_DEBIAN_SOPIR_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SOPIR_PACKAGE_DEPENDS "adduser")
# libpq5 is opened at run time, only for a postgresql:// database, so
# dpkg-shlibdeps cannot see it; an office on SQLite runs without it.
set(CPACK_DEBIAN_SOPIR_PACKAGE_RECOMMENDS "libpq5, bash-completion, less, graphviz")
set(CPACK_DEBIAN_SOPIR_DESCRIPTION
  "run shelter standard operating procedures case by case\nsopir drives each case of a shelter through its procedure (YAML state\nmachines) and keeps every step in a hash-chained log for audit.")
configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/postinst.in ${PROJECT_BINARY_DIR}/packaging/debian/postinst @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/postrm.in ${PROJECT_BINARY_DIR}/packaging/debian/postrm @ONLY)
set(CPACK_DEBIAN_SOPIR_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/packaging/debian/postinst ${PROJECT_BINARY_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libsopir-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "sopir (= ${PROJECT_VERSION}), libboost-dev (>= 1.74), libyaml-cpp-dev, libsqlitecpp-dev, libspdlog-dev, nlohmann-json3-dev, libssl-dev, libpq5, libsodium-dev, pkg-config")
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "sopir engine: static library and headers\nThe sopir engine (procedures, decide(), the SQLite store, audit) for\nprograms that embed it: find_package(sopir) gives the target sopir::engine.")
include(CPack)
