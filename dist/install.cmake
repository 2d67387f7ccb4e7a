# Run by `cmake --install` (install(SCRIPT) at the end of the top-level CMakeLists.txt),
# after install(CODE) has set SOBRE_DIST, SOBRE_STAGE and the SOBRE_*DIR folders (as
# configured: relative to the install prefix, or absolute).
#
# dist/sobre.json and dist/sobre.service are written for a system install: they name
# /usr/bin/sobre, /usr/share/sobre/web and /etc/sobre/sobre.json. Here those paths become
# the ones this install really uses (CMAKE_INSTALL_PREFIX is the --prefix given to
# `cmake --install`, or the configured one), and the two files are installed. A config
# file already in place is the operator's: it is kept, never overwritten.

foreach(dir BINDIR DATADIR SYSCONFDIR UNITDIR)
  if(IS_ABSOLUTE "${SOBRE_${dir}}")
    set(full_${dir} "${SOBRE_${dir}}")
  else()
    set(full_${dir} "${CMAKE_INSTALL_PREFIX}/${SOBRE_${dir}}")
  endif()
endforeach()
set(sobre_bin "${full_BINDIR}/sobre")
set(sobre_web "${full_DATADIR}/sobre/web")
set(sobre_conf "${full_SYSCONFDIR}/sobre/sobre.json")

file(READ "${SOBRE_DIST}/sobre.json" text)
string(REPLACE "/usr/share/sobre/web" "${sobre_web}" text "${text}")
file(WRITE "${SOBRE_STAGE}/sobre.json" "${text}")

file(READ "${SOBRE_DIST}/sobre.service" text)
string(REPLACE "/usr/bin/sobre" "${sobre_bin}" text "${text}")
string(REPLACE "/etc/sobre/sobre.json" "${sobre_conf}" text "${text}")
file(WRITE "${SOBRE_STAGE}/sobre.service" "${text}")

# file(INSTALL) adds $DESTDIR itself and records the files in install_manifest.txt.
file(INSTALL DESTINATION "${full_UNITDIR}" TYPE FILE FILES "${SOBRE_STAGE}/sobre.service")
if(EXISTS "$ENV{DESTDIR}${sobre_conf}")
  message(STATUS "Kept: $ENV{DESTDIR}${sobre_conf} (the example is ${SOBRE_STAGE}/sobre.json)")
else()
  file(INSTALL DESTINATION "${full_SYSCONFDIR}/sobre" TYPE FILE FILES "${SOBRE_STAGE}/sobre.json")
endif()
