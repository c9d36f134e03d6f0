/*
 * keys - DKIM private keys: safe loading, public halves, comparison,
 * generation.  OpenSSL 3 only; no deprecated (RSA_*) interfaces.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keys.h"
#include "log.h"
#include "util.h"

/* A PEM private key is a few KiB; anything much larger is not one. */
#define KEYS_FILE_MAX 65536

/* "SHA256:" + 43 base64 characters + NUL, with room to spare */
#define KEYS_FP_SIZE 64

#define KEYS_ED25519_LEN 32

struct keys_key {
	char *path;
	enum keys_alg alg;
	unsigned bits;
	char *pem; /* PKCS#8 PEM, secret: wiped on free */
	size_t pem_len;
	unsigned char *spki; /* DER SubjectPublicKeyInfo */
	size_t spki_len;
	unsigned char *pub; /* as in p=: spki for RSA, raw for Ed25519 */
	size_t pub_len;
	char fingerprint[KEYS_FP_SIZE];
	char *record;
	EVP_PKEY *pubkey; /* public half only, for EVP_PKEY_eq() */
	EVP_PKEY *pkey;   /* the private key, parsed once, for signing */
};

/* keys_wipe_free - overwrite secret memory, then free it */
static void
keys_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

/* keys_strerror - errno as text, thread-safe (GNU strerror_r) */
static const char *
keys_strerror(int err, char *buf, size_t size)
{
	return strerror_r(err, buf, size);
}

/*
 * keys_ssl_why - a reason ending in OpenSSL's last error; empties the
 * thread's error queue so no stale error reaches libopendkim later.
 */
static int
keys_ssl_why(char *why, size_t whylen, const char *path, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return util_why(why, whylen, "%s: %s%s%s", path, what,
	                reason != NULL ? ": " : "",
	                reason != NULL ? reason : "");
}

/* keys_owner_name - user name of a uid, or the number */
static void
keys_owner_name(uid_t uid, char *out, size_t size)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, size, "%s", pw.pw_name);
	else
		snprintf(out, size, "uid %u", (unsigned) uid);
}

/*
 * keys_unsafe - the problems of an opened key file, as one reason, or 0
 * if it is safe to read.
 */
static int
keys_unsafe(const char *path, const struct stat *st, uid_t owner_uid, char *why,
            size_t whylen)
{
	char owner[128], expected[128], mode[96] = "", own[320] = "";

	if (!S_ISREG(st->st_mode))
		return util_why(why, whylen, "%s: not a regular file", path);
	if ((st->st_mode & 077) != 0)
		snprintf(mode, sizeof(mode),
		         "mode %04o gives group or others access (use 0600 or "
		         "0400)",
		         (unsigned) (st->st_mode & 07777));
	if (st->st_uid != 0 && st->st_uid != owner_uid) {
		keys_owner_name(st->st_uid, owner, sizeof(owner));
		keys_owner_name(owner_uid, expected, sizeof(expected));
		snprintf(own, sizeof(own), "owned by %s, not by root or %s",
		         owner, expected);
	}
	if (mode[0] == '\0' && own[0] == '\0')
		return 0;
	return util_why(why, whylen, "%s: unsafe key file: %s%s%s", path, mode,
	                mode[0] != '\0' && own[0] != '\0' ? "; " : "", own);
}

/*
 * keys_open_checked - open path for reading without following a final
 * symbolic link, and check the opened file (fstat: no race).  Returns
 * the descriptor or -1.
 */
static int
keys_open_checked(const char *path, uid_t owner_uid, char *why, size_t whylen)
{
	struct stat st;
	char ebuf[128];
	int fd;

	/* O_NONBLOCK: a FIFO put in place of the key must not hang us. */
	fd = open(path,
	          O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ELOOP)
		return util_why(why, whylen,
		                "%s: is a symbolic link; name the key file "
		                "itself",
		                path);
	if (fd < 0)
		return util_why(why, whylen, "%s: %s", path,
		                keys_strerror(errno, ebuf, sizeof(ebuf)));
	if (fstat(fd, &st) < 0) {
		util_why(why, whylen, "%s: fstat: %s", path,
		         keys_strerror(errno, ebuf, sizeof(ebuf)));
		close(fd);
		return -1;
	}
	if (keys_unsafe(path, &st, owner_uid, why, whylen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* keys_read_fd - read a whole (small) file; *len bytes, NUL-terminated */
static char *
keys_read_fd(int fd, const char *path, size_t *len, char *why, size_t whylen)
{
	char *buf = xmalloc(KEYS_FILE_MAX + 1), ebuf[128];
	size_t n = 0;
	ssize_t r;

	while (n <= KEYS_FILE_MAX &&
	       (r = read(fd, buf + n, KEYS_FILE_MAX + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			util_why(why, whylen, "%s: read: %s", path,
			         keys_strerror(errno, ebuf, sizeof(ebuf)));
			keys_wipe_free(buf, KEYS_FILE_MAX + 1);
			return NULL;
		}
		n += (size_t) r;
	}
	if (n > KEYS_FILE_MAX) {
		util_why(why, whylen, "%s: larger than %d bytes, not a key",
		         path, KEYS_FILE_MAX);
		keys_wipe_free(buf, KEYS_FILE_MAX + 1);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * keys_no_passphrase - PEM password callback: there is nobody to ask.
 * Without it OpenSSL would prompt on the controlling terminal.
 */
static int
keys_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void) buf;
	(void) size;
	(void) rwflag;
	(void) u;
	return -1;
}

/* keys_parse_pem - the private key in PEM text */
static EVP_PKEY *
keys_parse_pem(const char *text, size_t len, const char *path, char *why,
               size_t whylen)
{
	BIO *bio = BIO_new_mem_buf(text, (int) len);
	EVP_PKEY *pkey;

	if (bio == NULL)
		panic("BIO_new_mem_buf failed");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, keys_no_passphrase, NULL);
	BIO_free(bio);
	if (pkey != NULL)
		return pkey;
	if (memmem(text, len, "ENCRYPTED", 9) != NULL) {
		ERR_clear_error();
		util_why(why, whylen,
		         "%s: the key is encrypted; relaygate needs it "
		         "unencrypted (protect it with file permissions)",
		         path);
	} else {
		keys_ssl_why(why, whylen, path, "no PEM private key found");
	}
	return NULL;
}

/* keys_check_type - RSA 2048..4096 or Ed25519; anything else refused */
static int
keys_check_type(EVP_PKEY *pkey, const char *path, enum keys_alg *alg,
                unsigned *bits, char *why, size_t whylen)
{
	int id = EVP_PKEY_get_base_id(pkey);
	int b = EVP_PKEY_get_bits(pkey);

	if (id == EVP_PKEY_ED25519) {
		*alg = KEYS_ALG_ED25519;
		*bits = 256;
		return 0;
	}
	if (id != EVP_PKEY_RSA)
		return util_why(why, whylen,
		                "%s: %s keys cannot sign DKIM mail; use RSA "
		                "(2048 to 4096 bits) or Ed25519",
		                path, EVP_PKEY_get0_type_name(pkey));
	if (b < KEYS_RSA_MIN_BITS || b > KEYS_RSA_MAX_BITS)
		return util_why(why, whylen,
		                "%s: RSA key of %d bits; relaygate needs %d to "
		                "%d bits",
		                path, b, KEYS_RSA_MIN_BITS, KEYS_RSA_MAX_BITS);
	*alg = KEYS_ALG_RSA;
	*bits = (unsigned) b;
	return 0;
}

/* keys_fingerprint_spki - "SHA256:<unpadded base64>" of DER bytes */
static void
keys_fingerprint_spki(const unsigned char *spki, size_t len, char *out,
                      size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char b64[48]; /* 44 characters for 32 bytes */
	size_t n;

	if (EVP_Digest(spki, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		panic("EVP_Digest(SHA-256) failed");
	n = dkim_record_base64(md, mdlen, b64, sizeof(b64));
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(out, size, "SHA256:%s", b64);
}

/* keys_fingerprint_pkey - fingerprint of any public key */
static void
keys_fingerprint_pkey(EVP_PKEY *pkey, char *out, size_t size)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pkey, &der);

	if (len <= 0) {
		ERR_clear_error();
		snprintf(out, size, "(no fingerprint)");
		return;
	}
	keys_fingerprint_spki(der, (size_t) len, out, size);
	OPENSSL_free(der);
}

/* keys_pem_text - the private key as PKCS#8 PEM in fresh memory */
static char *
keys_pem_text(EVP_PKEY *pkey, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem;
	long n;

	if (bio == NULL ||
	    !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
		panic("PEM_write_bio_PrivateKey failed");
	n = BIO_get_mem_data(bio, &data);
	pem = xmalloc((size_t) n + 1);
	memcpy(pem, data, (size_t) n);
	pem[n] = '\0';
	*len = (size_t) n;
	/* The BIO held the secret too. */
	OPENSSL_cleanse(data, (size_t) n);
	BIO_free(bio);
	return pem;
}

/* keys_public_parts - SPKI DER, p= bytes and the public-only EVP_PKEY */
static void
keys_public_parts(struct keys_key *key, EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	const unsigned char *q;
	int len = i2d_PUBKEY(pkey, &der);

	if (len <= 0)
		panic("i2d_PUBKEY failed");
	key->spki = xmalloc((size_t) len);
	memcpy(key->spki, der, (size_t) len);
	key->spki_len = (size_t) len;
	OPENSSL_free(der);
	q = key->spki;
	key->pubkey = d2i_PUBKEY(NULL, &q, (long) key->spki_len);
	if (key->pubkey == NULL)
		panic("d2i_PUBKEY of our own key failed");
	if (key->alg == KEYS_ALG_RSA) {
		key->pub = xmalloc(key->spki_len);
		memcpy(key->pub, key->spki, key->spki_len);
		key->pub_len = key->spki_len;
		return;
	}
	key->pub = xmalloc(KEYS_ED25519_LEN);
	key->pub_len = KEYS_ED25519_LEN;
	if (EVP_PKEY_get_raw_public_key(pkey, key->pub, &key->pub_len) != 1 ||
	    key->pub_len != KEYS_ED25519_LEN)
		panic("EVP_PKEY_get_raw_public_key failed");
}

/* keys_record_type - the k= type of an algorithm */
static enum dkim_record_keytype
keys_record_type(enum keys_alg alg)
{
	return alg == KEYS_ALG_ED25519 ? DKIM_RECORD_KEY_ED25519
	                               : DKIM_RECORD_KEY_RSA;
}

/* keys_from_pkey - everything we keep about a checked private key */
static struct keys_key *
keys_from_pkey(EVP_PKEY *pkey, const char *path, enum keys_alg alg,
               unsigned bits)
{
	struct keys_key *key = xcalloc(1, sizeof(*key));
	size_t n;

	key->path = xstrdup(path);
	key->alg = alg;
	key->bits = bits;
	if (EVP_PKEY_up_ref(pkey) != 1)
		panic("EVP_PKEY_up_ref failed");
	key->pkey = pkey;
	key->pem = keys_pem_text(pkey, &key->pem_len);
	keys_public_parts(key, pkey);
	keys_fingerprint_spki(key->spki, key->spki_len, key->fingerprint,
	                      sizeof(key->fingerprint));
	n = dkim_record_render(keys_record_type(alg), key->pub, key->pub_len,
	                       NULL, 0);
	key->record = xmalloc(n + 1);
	dkim_record_render(keys_record_type(alg), key->pub, key->pub_len,
	                   key->record, n + 1);
	return key;
}

/* keys_load - open, check, read and parse a key file */
struct keys_key *
keys_load(const char *path, uid_t owner_uid, char *why, size_t whylen)
{
	struct keys_key *key = NULL;
	EVP_PKEY *pkey;
	enum keys_alg alg;
	unsigned bits;
	size_t len;
	char *text;
	int fd;

	if ((fd = keys_open_checked(path, owner_uid, why, whylen)) < 0)
		return NULL;
	text = keys_read_fd(fd, path, &len, why, whylen);
	close(fd);
	if (text == NULL)
		return NULL;
	pkey = keys_parse_pem(text, len, path, why, whylen);
	keys_wipe_free(text, KEYS_FILE_MAX + 1);
	if (pkey == NULL)
		return NULL;
	if (keys_check_type(pkey, path, &alg, &bits, why, whylen) == 0)
		key = keys_from_pkey(pkey, path, alg, bits);
	EVP_PKEY_free(pkey);
	return key;
}

/* keys_free - release a key and wipe its private text */
void
keys_free(struct keys_key *key)
{
	if (key == NULL)
		return;
	keys_wipe_free(key->pem, key->pem_len + 1);
	EVP_PKEY_free(key->pkey); /* OpenSSL clears the private parts */
	EVP_PKEY_free(key->pubkey);
	free(key->spki);
	free(key->pub);
	free(key->record);
	free(key->path);
	free(key);
}

/* keys_alg - algorithm */
enum keys_alg
keys_alg(const struct keys_key *key)
{
	return key->alg;
}

/* keys_alg_name - algorithm name */
const char *
keys_alg_name(enum keys_alg alg)
{
	return dkim_record_keytype_name(keys_record_type(alg));
}

/* keys_bits - size */
unsigned
keys_bits(const struct keys_key *key)
{
	return key->bits;
}

/* keys_path - file name */
const char *
keys_path(const struct keys_key *key)
{
	return key->path;
}

/* keys_pem - private key text */
const char *
keys_pem(const struct keys_key *key)
{
	return key->pem;
}

/* keys_pkey - the parsed private key */
EVP_PKEY *
keys_pkey(const struct keys_key *key)
{
	return key->pkey;
}

/* keys_public - p= bytes */
const unsigned char *
keys_public(const struct keys_key *key, size_t *len)
{
	*len = key->pub_len;
	return key->pub;
}

/* keys_fingerprint - SHA256 fingerprint */
const char *
keys_fingerprint(const struct keys_key *key)
{
	return key->fingerprint;
}

/* keys_record - TXT record text */
const char *
keys_record(const struct keys_key *key)
{
	return key->record;
}

/* keys_decode_spki - DER SubjectPublicKeyInfo, all bytes used, or NULL */
static EVP_PKEY *
keys_decode_spki(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, (long) len);

	if (pk != NULL && q != p + len) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	ERR_clear_error();
	return pk;
}

/* keys_decode_pkcs1 - DER PKCS#1 RSAPublicKey, all bytes used, or NULL */
static EVP_PKEY *
keys_decode_pkcs1(const unsigned char *p, size_t len)
{
	EVP_PKEY *pk = NULL;
	OSSL_DECODER_CTX *dctx;
	const unsigned char *q = p;
	size_t left = len;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pk, "DER", "type-specific", "RSA",
	                                     OSSL_KEYMGMT_SELECT_PUBLIC_KEY,
	                                     NULL, NULL);
	if (dctx == NULL)
		panic("OSSL_DECODER_CTX_new_for_pkey(RSA) failed");
	if (OSSL_DECODER_from_data(dctx, &q, &left) != 1 || left != 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return pk;
}

/* keys_compare_rsa - k=rsa: SPKI, else PKCS#1, then EVP_PKEY_eq() */
static enum keys_match
keys_compare_rsa(const struct keys_key *key, const unsigned char *p, size_t len,
                 unsigned *warn, char *why, size_t whylen)
{
	EVP_PKEY *pk = keys_decode_spki(p, len);
	enum keys_match m = KEYS_MISMATCH;
	char fp[KEYS_FP_SIZE];
	int pkcs1 = 0;

	if (pk == NULL && (pk = keys_decode_pkcs1(p, len)) != NULL)
		pkcs1 = 1;
	if (pk == NULL) {
		util_why(why, whylen,
		         "p= (%zu bytes) is neither a SubjectPublicKeyInfo nor "
		         "a PKCS#1 RSAPublicKey",
		         len);
		return KEYS_MALFORMED;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		util_why(why, whylen, "k=rsa, but p= holds a %s key",
		         EVP_PKEY_get0_type_name(pk));
		m = KEYS_MALFORMED;
	} else if (key->alg != KEYS_ALG_RSA) {
		util_why(why, whylen, "p= holds an RSA key; ours is Ed25519");
	} else if (EVP_PKEY_eq(key->pubkey, pk) == 1) {
		m = KEYS_MATCH;
		if (pkcs1 && warn != NULL)
			*warn |= KEYS_WARN_PKCS1;
		if (pkcs1)
			util_why(why, whylen,
			         "p= is a bare PKCS#1 RSAPublicKey: OpenDKIM "
			         "and others reject it; publish the "
			         "SubjectPublicKeyInfo");
	} else {
		keys_fingerprint_pkey(pk, fp, sizeof(fp));
		util_why(why, whylen, "p= holds another RSA key (%d bits, %s)",
		         EVP_PKEY_get_bits(pk), fp);
	}
	ERR_clear_error();
	EVP_PKEY_free(pk);
	return m;
}

/* keys_ed25519_fingerprint - fingerprint of raw Ed25519 bytes */
static void
keys_ed25519_fingerprint(const unsigned char *p, char *out, size_t size)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, p,
	                                           KEYS_ED25519_LEN);

	if (pk == NULL) {
		ERR_clear_error();
		snprintf(out, size, "(no fingerprint)");
		return;
	}
	keys_fingerprint_pkey(pk, out, size);
	EVP_PKEY_free(pk);
}

/* keys_compare_ed25519 - k=ed25519: p= must be the raw 32 bytes */
static enum keys_match
keys_compare_ed25519(const struct keys_key *key, const unsigned char *p,
                     size_t len, char *why, size_t whylen)
{
	EVP_PKEY *pk;
	char fp[KEYS_FP_SIZE];

	if (len != KEYS_ED25519_LEN) {
		pk = keys_decode_spki(p, len);
		if (pk != NULL && EVP_PKEY_eq(key->pubkey, pk) == 1)
			util_why(
			    why, whylen,
			    "p= is a SubjectPublicKeyInfo holding our key; "
			    "RFC 8463 requires the raw 32-byte key");
		else
			util_why(why, whylen,
			         "p= has %zu bytes; an Ed25519 key has 32",
			         len);
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return KEYS_MALFORMED;
	}
	if (key->alg != KEYS_ALG_ED25519) {
		util_why(why, whylen, "p= holds an Ed25519 key; ours is RSA");
		return KEYS_MISMATCH;
	}
	if (memcmp(key->pub, p, KEYS_ED25519_LEN) == 0)
		return KEYS_MATCH;
	keys_ed25519_fingerprint(p, fp, sizeof(fp));
	util_why(why, whylen, "p= holds another Ed25519 key (%s)", fp);
	return KEYS_MISMATCH;
}

/* keys_compare - is the published key ours? */
enum keys_match
keys_compare(const struct keys_key *key, enum dkim_record_keytype type,
             const unsigned char *p, size_t len, unsigned *warn, char *why,
             size_t whylen)
{
	if (warn != NULL)
		*warn = 0;
	if (type == DKIM_RECORD_KEY_ED25519)
		return keys_compare_ed25519(key, p, len, why, whylen);
	return keys_compare_rsa(key, p, len, warn, why, whylen);
}

/* keys_new_pkey - generate a key pair */
static EVP_PKEY *
keys_new_pkey(const struct keys_gen *gen, char *why, size_t whylen)
{
	EVP_PKEY *pkey;

	if (gen->alg == KEYS_ALG_ED25519) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else if (gen->bits == 2048 || gen->bits == 3072 ||
	           gen->bits == 4096) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) gen->bits);
	} else {
		util_why(why, whylen,
		         "RSA keys are made with 2048, 3072 or 4096 bits, "
		         "not %u",
		         gen->bits);
		return NULL;
	}
	if (pkey == NULL)
		keys_ssl_why(why, whylen, "keygen", "key generation failed");
	return pkey;
}

/* keys_write_all - write the whole buffer, retrying short writes */
static int
keys_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t) w;
	}
	return 0;
}

/* keys_fill_tmp - permissions, owner and content of the temporary file */
static int
keys_fill_tmp(int fd, const char *tmp, const char *pem,
              const struct keys_gen *gen, char *why, size_t whylen)
{
	char ebuf[128];

	if (fchmod(fd, 0600) < 0 ||
	    ((gen->owner != (uid_t) -1 || gen->group != (gid_t) -1) &&
	     fchown(fd, gen->owner, gen->group) < 0) ||
	    keys_write_all(fd, pem, strlen(pem)) < 0 || fsync(fd) < 0)
		return util_why(why, whylen, "%s: %s", tmp,
		                keys_strerror(errno, ebuf, sizeof(ebuf)));
	return 0;
}

/* keys_sync_dir - make the new directory entry durable */
static void
keys_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void) fsync(fd);
		close(fd);
	}
	free(copy);
}

/*
 * keys_publish_tmp - give the finished temporary file its name: link(2)
 * fails if the name exists, rename(2) replaces it.
 */
static int
keys_publish_tmp(const char *tmp, const char *path, int overwrite, char *why,
                 size_t whylen)
{
	char ebuf[128];

	if (overwrite ? rename(tmp, path) == 0 : link(tmp, path) == 0)
		return 0;
	if (errno == EEXIST)
		return util_why(why, whylen,
		                "%s: exists; refusing to overwrite a key",
		                path);
	return util_why(why, whylen, "%s: %s", path,
	                keys_strerror(errno, ebuf, sizeof(ebuf)));
}

/* keys_write_atomic - create path with mode 0600 holding pem, atomically */
static int
keys_write_atomic(const char *path, const char *pem, const struct keys_gen *gen,
                  char *why, size_t whylen)
{
	char *tmp = xasprintf("%s.XXXXXX", path), ebuf[128];
	int fd, rc;

	/* mkostemp: O_CREAT|O_EXCL on a fresh name, mode 0600. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		util_why(why, whylen, "%s: cannot create a temporary file: %s",
		         path, keys_strerror(errno, ebuf, sizeof(ebuf)));
		free(tmp);
		return -1;
	}
	rc = keys_fill_tmp(fd, tmp, pem, gen, why, whylen);
	if (close(fd) < 0 && rc == 0)
		rc = util_why(why, whylen, "%s: close: %s", tmp,
		              keys_strerror(errno, ebuf, sizeof(ebuf)));
	if (rc == 0)
		rc = keys_publish_tmp(tmp, path, gen->overwrite, why, whylen);
	if (rc < 0 || !gen->overwrite)
		(void) unlink(tmp);
	if (rc == 0)
		keys_sync_dir(path);
	free(tmp);
	return rc;
}

/* keys_generate - make, write and return a new key */
struct keys_key *
keys_generate(const char *path, const struct keys_gen *gen, char *why,
              size_t whylen)
{
	EVP_PKEY *pkey = keys_new_pkey(gen, why, whylen);
	struct keys_key *key;
	enum keys_alg alg;
	unsigned bits;

	if (pkey == NULL)
		return NULL;
	if (keys_check_type(pkey, path, &alg, &bits, why, whylen) < 0)
		panic("generated key fails its own check: %s", why);
	key = keys_from_pkey(pkey, path, alg, bits);
	EVP_PKEY_free(pkey);
	if (keys_write_atomic(path, key->pem, gen, why, whylen) < 0) {
		keys_free(key);
		return NULL;
	}
	return key;
}
