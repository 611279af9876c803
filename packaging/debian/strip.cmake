# CPACK_PRE_BUILD_SCRIPTS: strip the staged binary as dh_strip does (no .comment, no .note,
# no symbols that relocations don't need) before the .deb is made from the staging tree.
find_program(STRIP_EXECUTABLE NAMES strip REQUIRED)
file(GLOB_RECURSE binaries "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/sbin/vmatlasd")
if(NOT binaries)
  message(FATAL_ERROR "strip.cmake: no sbin/vmatlasd under ${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
endif()
foreach(bin IN LISTS binaries)
  execute_process(COMMAND ${STRIP_EXECUTABLE} --remove-section=.comment --remove-section=.note
                          --strip-unneeded ${bin}
                  COMMAND_ERROR_IS_FATAL ANY)
endforeach()
