# packaging.cmake - what "cmake --install" puts on a system besides the
# binaries, man pages and configuration (the systemd unit, sysusers.d and
# tmpfiles.d entries, the documentation), and the Debian package built from
# it with CPack:
#
#   cmake -S . -B build/deb -DCMAKE_INSTALL_PREFIX=/usr -DRELAYGATE_TESTS=OFF
#   cmake --build build/deb -j
#   (cd build/deb && cpack -G DEB)        # relaygate_0.1.0-1_amd64.deb
#
# Included from the top-level CMakeLists.txt.  The package is meant for
# CMAKE_INSTALL_PREFIX=/usr, where the configuration goes to /etc (the
# paths relaygate.conf names by default).  tests/pkg/deb.sh builds,
# installs and purges it.

# Where systemd looks for vendor units and entries, relative to the
# prefix (not CMAKE_INSTALL_LIBDIR, which may hold a multiarch triplet).
set(RELAYGATE_SYSTEMD_UNITDIR lib/systemd/system CACHE STRING
	"systemd unit directory, relative to CMAKE_INSTALL_PREFIX")
set(RELAYGATE_SYSUSERSDIR lib/sysusers.d CACHE STRING
	"sysusers.d directory, relative to CMAKE_INSTALL_PREFIX")
set(RELAYGATE_TMPFILESDIR lib/tmpfiles.d CACHE STRING
	"tmpfiles.d directory, relative to CMAKE_INSTALL_PREFIX")

# The unit names /usr/sbin and /etc/relaygate, so that it can be copied
# as it is onto a system installed with prefix /usr; an installation
# elsewhere gets its own paths.
set(unit_src ${CMAKE_CURRENT_LIST_DIR}/relaygate.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${unit_src})
file(READ ${unit_src} unit)
string(REPLACE "/usr/sbin/" "${CMAKE_INSTALL_FULL_SBINDIR}/" unit "${unit}")
string(REPLACE "/etc/relaygate/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/relaygate/"
	unit "${unit}")
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/relaygate.service
	CONTENT "${unit}" @ONLY)

install(FILES ${CMAKE_BINARY_DIR}/relaygate.service
	DESTINATION ${RELAYGATE_SYSTEMD_UNITDIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/relaygate.sysusers
	DESTINATION ${RELAYGATE_SYSUSERSDIR} RENAME relaygate.conf)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/relaygate.tmpfiles
	DESTINATION ${RELAYGATE_TMPFILESDIR} RENAME relaygate.conf)

# The operator's documentation beside the man pages: INSTALL (roll-out,
# rotation, alerting), the README and doc/*.md (relaygatectl's schemas and
# templates).
file(GLOB relaygate_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/doc/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/INSTALL ${PROJECT_SOURCE_DIR}/README.md
	${relaygate_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Every file installed under /etc is a conffile: dpkg keeps the operator's
# changes on upgrade and removes the files on purge.
file(GLOB advise_templates RELATIVE ${PROJECT_SOURCE_DIR}/conf/advise
	CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/conf/advise/*.txt)
set(conffiles "${CMAKE_INSTALL_FULL_SYSCONFDIR}/relaygate/relaygate.conf\n")
foreach(t IN LISTS advise_templates)
	string(APPEND conffiles
		"${CMAKE_INSTALL_FULL_SYSCONFDIR}/relaygate/advise/${t}\n")
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/deb/conffiles
	CONTENT "${conffiles}" @ONLY)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME relaygate)
set(CPACK_PACKAGE_VENDOR "relaygate")
set(CPACK_PACKAGE_CONTACT "relaygate maintainers <postmaster@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
	"SPF and DKIM enforcing milter for an outbound mail relay")
# The extended description; CPack puts the summary above it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"relaygate is a milter (Postfix, sendmail) for a hosting provider's
outbound relay. It checks that each sender domain's SPF record authorizes
the relay and that the provider's DKIM selectors are delegated to it by
CNAME, signs mail of configured domains with the provider's key, and tags,
defers or rejects mail of misconfigured ones with a reply saying what to
fix. relaygatectl checks domains, writes the message to a domain's DNS
administrator and manages the provider's keys.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries (libopendkim11, libspf2-2, libconfig9,
# libunbound8, libidn2-0, libpsl5, libssl3, libc6) come from
# dpkg-shlibdeps; adduser is the fallback where systemd-sysusers is absent.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "publicsuffix")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postfix | mail-transport-agent, dns-root-data")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${CMAKE_BINARY_DIR}/deb/conffiles
	${CMAKE_CURRENT_LIST_DIR}/deb/postinst
	${CMAKE_CURRENT_LIST_DIR}/deb/prerm
	${CMAKE_CURRENT_LIST_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
