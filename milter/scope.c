/*
 * scope - is a client subject to the policy?
 */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "scope.h"
#include "util.h"

/* scope_parse - text address to bytes; returns the length, 0 if bad */
static size_t
scope_parse(const char *text, unsigned char *buf)
{
	if (inet_pton(AF_INET, text, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, buf) == 1)
		return 16;
	return 0;
}

/* scope_prefix_equal - the first bits bits of a and b agree */
static int
scope_prefix_equal(const unsigned char *a, const unsigned char *b,
                   unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	unsigned char mask = (unsigned char) (0xffu << (8 - rest));

	if (memcmp(a, b, bytes) != 0)
		return 0;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & mask) == 0;
}

/* scope_network_match - address within network */
int
scope_network_match(const char *network, const char *address)
{
	unsigned char net[16], addr[16];
	char text[64];
	const char *slash = strchr(network, '/');
	size_t nlen, alen;
	long bits;

	util_strlcpy(text, network, sizeof(text));
	if (slash != NULL && (size_t) (slash - network) < sizeof(text))
		text[slash - network] = '\0';
	nlen = scope_parse(text, net);
	alen = scope_parse(address, addr);
	if (nlen == 0 || nlen != alen)
		return 0;
	bits = slash != NULL ? strtol(slash + 1, NULL, 10) : (long) nlen * 8;
	if (bits < 0 || bits > (long) nlen * 8)
		return 0;
	return scope_prefix_equal(net, addr, (unsigned) bits);
}

/* scope_in - networks, then SASL */
int
scope_in(const struct config *cfg, const char *client_addr, const char *auth)
{
	const char *addr = client_addr;

	if (addr == NULL || strcmp(addr, "local") == 0)
		addr = "127.0.0.1";
	for (size_t i = 0; i < cfg->scope_networks.n; i++)
		if (scope_network_match(cfg->scope_networks.v[i], addr))
			return 1;
	return cfg->scope_sasl && auth != NULL && auth[0] != '\0';
}
