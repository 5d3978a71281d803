# Read by CMake builds under cargo (see config.toml): WAMR's FetchContent of simde uses the
# system headers (libsimde-dev installs them in /usr/include/simde) and never touches the network.
set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "" FORCE)
set(FETCHCONTENT_FULLY_DISCONNECTED ON CACHE BOOL "" FORCE)
