/*
 * test_keys - private keys: the generator, keys made independently with
 * openssl(1), the safe-file checks (mode, owner, symlink, file type),
 * refused key types, the published-key comparison and the fingerprint.
 * Runs as root for the chown cases (skipped otherwise).
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim_record.h"
#include "keys.h"

#define NOBODY 65534

static char test_dir[64];

/* path_in - a file name in the test directory (16 live at a time) */
static const char *
path_in(const char *name)
{
	static char paths[16][256];
	static unsigned next;
	char *path = paths[next++ % 16];

	snprintf(path, sizeof(paths[0]), "%s/%s", test_dir, name);
	return path;
}

/* run - a shell command that must succeed */
static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* capture - first line of a shell command's output */
static void capture(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
capture(char *out, size_t size, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (fgets(out, (int) size, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(f), 0);
}

/* slurp - a whole file into fresh memory */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(65536);

	assert_non_null(f);
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

/* load_ok - keys_load that must succeed */
static struct keys_key *
load_ok(const char *path, uid_t uid)
{
	char why[512] = "";
	struct keys_key *key = keys_load(path, uid, why, sizeof(why));

	if (key == NULL)
		fail_msg("keys_load %s: %s", path, why);
	return key;
}

/* load_fails - keys_load that must fail with a reason containing want */
static void
load_fails(const char *path, uid_t uid, const char *want)
{
	char why[512] = "";

	assert_null(keys_load(path, uid, why, sizeof(why)));
	if (strstr(why, want) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", path, why, want);
	if (strstr(why, path) == NULL)
		fail_msg("reason '%s' does not name the file", why);
}

/* genkey - a key made by openssl genpkey, mode 0600 */
static const char *
genkey(const char *name, const char *args)
{
	const char *path = path_in(name);

	run("openssl genpkey %s -out %s 2>/dev/null && chmod 0600 %s", args,
	    path, path);
	return path;
}

static int
setup_dir(void **state)
{
	(void) state;
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_keys.XXXXXX");
	return mkdtemp(test_dir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
	return system(cmd);
}

/* check_record - the record parses and keys_compare finds our key */
static void
check_record(const struct keys_key *key)
{
	struct dkim_record rec;
	char why[256] = "";
	unsigned warn = 99;

	assert_int_equal(dkim_record_parse(keys_record(key),
	                                   strlen(keys_record(key)), &rec, why,
	                                   sizeof(why)),
	                 DKIM_RECORD_OK);
	assert_int_equal(keys_compare(key, rec.key_type, rec.key, rec.key_len,
	                              &warn, why, sizeof(why)),
	                 KEYS_MATCH);
	assert_int_equal(warn, 0);
}

/* gen - run the generator */
static struct keys_key *
gen(const char *name, enum keys_alg alg, unsigned bits, int overwrite,
    char *why, size_t whylen)
{
	struct keys_gen g = {.alg = alg,
	                     .bits = bits,
	                     .owner = (uid_t) -1,
	                     .group = (gid_t) -1,
	                     .overwrite = overwrite};

	return keys_generate(path_in(name), &g, why, whylen);
}

/* The generator writes a 0600 file that loads back as the same key. */
static void
test_generate(void **state)
{
	static const struct {
		enum keys_alg alg;
		unsigned bits;
		size_t publen;
	} cases[] = {{KEYS_ALG_RSA, 2048, 294},
	             {KEYS_ALG_RSA, 3072, 422},
	             {KEYS_ALG_ED25519, 0, 32}};
	char why[512] = "", name[32];

	(void) state;
	for (size_t i = 0; i < 3; i++) {
		struct keys_key *made, *loaded;
		struct stat st;
		size_t len;

		snprintf(name, sizeof(name), "gen%zu.pem", i);
		made =
		    gen(name, cases[i].alg, cases[i].bits, 0, why, sizeof(why));
		if (made == NULL)
			fail_msg("generate: %s", why);
		assert_int_equal(stat(path_in(name), &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		loaded = load_ok(path_in(name), getuid());
		assert_int_equal(keys_alg(loaded), cases[i].alg);
		assert_int_equal(keys_bits(loaded), cases[i].alg == KEYS_ALG_RSA
		                                        ? cases[i].bits
		                                        : 256);
		keys_public(loaded, &len);
		assert_int_equal(len, cases[i].publen);
		assert_string_equal(keys_fingerprint(made),
		                    keys_fingerprint(loaded));
		assert_string_equal(keys_record(made), keys_record(loaded));
		assert_string_equal(keys_path(loaded), path_in(name));
		check_record(loaded);
		keys_free(made);
		keys_free(loaded);
	}
}

/* count_files - entries in the test directory starting with prefix */
static int
count_files(const char *prefix)
{
	DIR *d = opendir(test_dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* An existing key is never replaced unless asked; no temp files stay. */
static void
test_generate_no_overwrite(void **state)
{
	struct keys_key *first, *again;
	char why[512] = "", fp[64];

	(void) state;
	first = gen("keep.pem", KEYS_ALG_ED25519, 0, 0, why, sizeof(why));
	assert_non_null(first);
	snprintf(fp, sizeof(fp), "%s", keys_fingerprint(first));
	assert_null(gen("keep.pem", KEYS_ALG_ED25519, 0, 0, why, sizeof(why)));
	assert_non_null(strstr(why, "exists; refusing to overwrite"));
	keys_free(first);
	first = load_ok(path_in("keep.pem"), getuid());
	assert_string_equal(keys_fingerprint(first), fp);
	again = gen("keep.pem", KEYS_ALG_ED25519, 0, 1, why, sizeof(why));
	assert_non_null(again);
	assert_string_not_equal(keys_fingerprint(again), fp);
	keys_free(first);
	first = load_ok(path_in("keep.pem"), getuid());
	assert_string_equal(keys_fingerprint(first), keys_fingerprint(again));
	assert_int_equal(count_files("keep.pem"), 1);
	keys_free(first);
	keys_free(again);
}

/* Bad sizes and unwritable places are reasons, not crashes. */
static void
test_generate_errors(void **state)
{
	struct keys_gen g = {.alg = KEYS_ALG_RSA,
	                     .bits = 1024,
	                     .owner = (uid_t) -1,
	                     .group = (gid_t) -1};
	char why[512] = "";

	(void) state;
	assert_null(keys_generate(path_in("small.pem"), &g, why, sizeof(why)));
	assert_non_null(strstr(why, "not 1024"));
	g.bits = 2048;
	assert_null(
	    keys_generate("/nonexistent/dir/k.pem", &g, why, sizeof(why)));
	assert_non_null(strstr(why, "cannot create a temporary file"));
}

/* The generator can hand the file to the daemon's user. */
static void
test_generate_owner(void **state)
{
	struct keys_gen g = {
	    .alg = KEYS_ALG_ED25519, .owner = NOBODY, .group = NOBODY};
	struct keys_key *key;
	char why[512] = "";
	struct stat st;

	(void) state;
	if (geteuid() != 0)
		skip();
	key = keys_generate(path_in("owned.pem"), &g, why, sizeof(why));
	assert_non_null(key);
	assert_int_equal(stat(path_in("owned.pem"), &st), 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_mode & 07777, 0600);
	keys_free(key);
	keys_free(load_ok(path_in("owned.pem"), NOBODY));
	load_fails(path_in("owned.pem"), 0, "owned by nobody");
}

/* shell_fingerprint - the fingerprint recipe of keys.h, run by openssl */
static void
shell_fingerprint(const char *path, char *out, size_t size)
{
	char b64[64];

	capture(b64, sizeof(b64),
	        "openssl pkey -in %s -pubout -outform DER | "
	        "openssl dgst -sha256 -binary | base64 | tr -d =",
	        path);
	snprintf(out, size, "SHA256:%s", b64);
}

/* Keys made by openssl(1) load; fingerprint and p= agree with openssl. */
static void
test_openssl_keys(void **state)
{
	static const char *const cases[][3] = {
	    {"o-rsa.pem", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048",
	     "rsa"},
	    {"o-ed.pem", "-algorithm ED25519", "ed25519"},
	};
	char fp[128], p[1024], want[1200];

	(void) state;
	/* PKCS#1 ("BEGIN RSA PRIVATE KEY"), as older tools write it. */
	run("openssl genrsa -traditional -out %s 2048 2>/dev/null && "
	    "chmod 600 %s",
	    path_in("o-trad.pem"), path_in("o-trad.pem"));
	keys_free(load_ok(path_in("o-trad.pem"), getuid()));
	for (size_t i = 0; i < 2; i++) {
		const char *path = genkey(cases[i][0], cases[i][1]);
		struct keys_key *key = load_ok(path, getuid());

		shell_fingerprint(path, fp, sizeof(fp));
		assert_string_equal(keys_fingerprint(key), fp);
		capture(p, sizeof(p),
		        "openssl pkey -in %s -pubout -outform DER | %s base64 "
		        "-w0",
		        path, i == 1 ? "tail -c 32 |" : "");
		snprintf(want, sizeof(want), "v=DKIM1; k=%s; p=%s", cases[i][2],
		         p);
		assert_string_equal(keys_record(key), want);
		assert_non_null(
		    strstr(keys_pem(key), "-----BEGIN PRIVATE KEY-----\n"));
		check_record(key);
		keys_free(key);
	}
}

/* pkey_public - the published half of key as an EVP_PKEY */
static EVP_PKEY *
pkey_public(const struct keys_key *key)
{
	size_t len;
	const unsigned char *p = keys_public(key, &len);

	if (keys_alg(key) == KEYS_ALG_ED25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, p,
		                                   len);
	return d2i_PUBKEY(NULL, &p, (long) len);
}

/* keys_pkey is the private key: it signs what the public half verifies. */
static void
test_pkey_signs(void **state)
{
	static const char *const gen[] = {"-algorithm RSA -pkeyopt "
	                                  "rsa_keygen_bits:2048",
	                                  "-algorithm ED25519"};
	static const unsigned char msg[] = "sign me";

	(void) state;
	for (size_t i = 0; i < 2; i++) {
		struct keys_key *key = load_ok(
		    genkey(i ? "pk-ed.pem" : "pk-rsa.pem", gen[i]), getuid());
		EVP_PKEY *pub = pkey_public(key);
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		const char *md = i ? NULL : "SHA256";
		unsigned char sig[512];
		size_t siglen = sizeof(sig);

		assert_non_null(pub);
		assert_ptr_equal(keys_pkey(key), keys_pkey(key));
		assert_int_equal(EVP_PKEY_get_base_id(keys_pkey(key)),
		                 i ? EVP_PKEY_ED25519 : EVP_PKEY_RSA);
		assert_int_equal(EVP_PKEY_eq(keys_pkey(key), pub), 1);
		assert_int_equal(EVP_DigestSignInit_ex(c, NULL, md, NULL, NULL,
		                                       keys_pkey(key), NULL),
		                 1);
		assert_int_equal(
		    EVP_DigestSign(c, sig, &siglen, msg, sizeof(msg)), 1);
		EVP_MD_CTX_reset(c);
		assert_int_equal(
		    EVP_DigestVerifyInit_ex(c, NULL, md, NULL, NULL, pub, NULL),
		    1);
		assert_int_equal(
		    EVP_DigestVerify(c, sig, siglen, msg, sizeof(msg)), 1);
		EVP_MD_CTX_free(c);
		EVP_PKEY_free(pub);
		keys_free(key);
	}
}

/* The fingerprint is a function of the key, not of the load. */
static void
test_fingerprint_stable(void **state)
{
	const char *path = genkey("fp.pem", "-algorithm ED25519");
	struct keys_key *a = load_ok(path, getuid());
	struct keys_key *b = load_ok(path, getuid());

	(void) state;
	assert_string_equal(keys_fingerprint(a), keys_fingerprint(b));
	assert_int_equal(strlen(keys_fingerprint(a)), 7 + 43);
	assert_memory_equal(keys_fingerprint(a), "SHA256:", 7);
	keys_free(a);
	keys_free(b);
}

/* Group/other permission bits and foreign owners are refused. */
static void
test_unsafe_files(void **state)
{
	const char *path = genkey("perm.pem", "-algorithm ED25519");

	(void) state;
	run("chmod 0640 %s", path);
	load_fails(path, getuid(), "mode 0640 gives group or others access");
	run("chmod 0604 %s", path);
	load_fails(path, getuid(), "mode 0604");
	run("chmod 0660 %s", path);
	load_fails(path, getuid(), "mode 0660");
	run("chmod 0400 %s", path);
	keys_free(load_ok(path, getuid()));
	run("chmod 0600 %s", path);
	if (geteuid() != 0)
		return;
	run("chown %d %s", NOBODY, path);
	load_fails(path, 0, "owned by nobody, not by root or root");
	keys_free(load_ok(path, NOBODY));
	run("chmod 0644 %s", path);
	load_fails(path, 0,
	           "mode 0644 gives group or others access (use 0600 "
	           "or 0400); owned by nobody");
}

/* Symlinks, directories, FIFOs and missing files are refused. */
static void
test_not_a_key_file(void **state)
{
	const char *real = genkey("real.pem", "-algorithm ED25519");
	char realpath_[256];

	(void) state;
	snprintf(realpath_, sizeof(realpath_), "%s", real);
	run("ln -s %s %s", realpath_, path_in("link.pem"));
	load_fails(path_in("link.pem"), getuid(), "is a symbolic link");
	run("mkdir -m 0700 %s", path_in("dir.pem"));
	load_fails(path_in("dir.pem"), getuid(), "not a regular file");
	run("mkfifo -m 0600 %s", path_in("fifo.pem"));
	load_fails(path_in("fifo.pem"), getuid(), "not a regular file");
	load_fails(path_in("missing.pem"), getuid(),
	           "No such file or directory");
}

/* Weak, unsuitable, encrypted or absent keys are refused. */
static void
test_refused_keys(void **state)
{
	(void) state;
	load_fails(genkey("rsa1024.pem",
	                  "-algorithm RSA -pkeyopt rsa_keygen_bits:1024"),
	           getuid(), "RSA key of 1024 bits; relaygate needs 2048");
	load_fails(genkey("ec.pem", "-algorithm EC -pkeyopt "
	                            "ec_paramgen_curve:P-256"),
	           getuid(), "EC keys cannot sign DKIM mail");
	load_fails(genkey("ed448.pem", "-algorithm ED448"), getuid(),
	           "ED448 keys cannot sign DKIM mail");
	load_fails(
	    genkey("enc.pem", "-algorithm ED25519 -aes256 -pass pass:secret"),
	    getuid(), "the key is encrypted");
	run("echo garbage > %s && chmod 600 %s", path_in("junk.pem"),
	    path_in("junk.pem"));
	load_fails(path_in("junk.pem"), getuid(), "no PEM private key found");
	run(": > %s && chmod 600 %s", path_in("empty.pem"),
	    path_in("empty.pem"));
	load_fails(path_in("empty.pem"), getuid(), "no PEM private key found");
	run("head -c 70000 /dev/zero > %s && chmod 600 %s", path_in("huge.pem"),
	    path_in("huge.pem"));
	load_fails(path_in("huge.pem"), getuid(), "larger than 65536 bytes");
}

struct compare_case {
	const char *name;
	enum dkim_record_keytype type;
	unsigned char *p;
	size_t len;
	enum keys_match want;
	unsigned warn;
	const char *reason; /* NULL: why stays empty */
};

/* check_compare - one comparison */
static void
check_compare(const struct keys_key *key, const struct compare_case *c)
{
	char why[512] = "";
	unsigned warn = 99;
	enum keys_match m;

	m = keys_compare(key, c->type, c->p, c->len, &warn, why, sizeof(why));
	if (m != c->want)
		fail_msg("%s: result %d, want %d (%s)", c->name, m, c->want,
		         why);
	assert_int_equal(warn, c->warn);
	if (c->reason == NULL && why[0] != '\0')
		fail_msg("%s: unexpected reason '%s'", c->name, why);
	if (c->reason != NULL && strstr(why, c->reason) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", c->name, why, c->reason);
}

/* der - DER public key of a key file, by openssl(1) */
static unsigned char *
der(const char *key, const char *how, size_t *len)
{
	const char *out = path_in("out.der");

	run("openssl %s -in %s -outform DER -out %s 2>/dev/null", how, key,
	    out);
	return slurp(out, len);
}

/* A published RSA p= made by openssl(1) from one of three key files. */
struct published {
	const char *name;
	int from;        /* 0: our key, 1: another RSA key, 2: an EC key */
	const char *how; /* openssl subcommand writing the DER public key */
	enum keys_match want;
	unsigned warn;
	const char *reason;
};

/* RSA: SPKI and PKCS#1 of our key match, other keys do not. */
static void
test_compare_rsa_published(void **state)
{
	static const struct published cases[] = {
	    {"spki", 0, "pkey -pubout", KEYS_MATCH, 0, NULL},
	    {"pkcs1", 0, "rsa -RSAPublicKey_out", KEYS_MATCH, KEYS_WARN_PKCS1,
	     "bare PKCS#1 RSAPublicKey"},
	    {"other", 1, "pkey -pubout", KEYS_MISMATCH, 0,
	     "another RSA key (2048 bits, SHA256:"},
	    {"other-pkcs1", 1, "rsa -RSAPublicKey_out", KEYS_MISMATCH, 0,
	     "another RSA key"},
	    {"ec", 2, "pkey -pubout", KEYS_MALFORMED, 0, "p= holds a EC key"},
	};
	const char *files[3];
	struct keys_key *key;

	(void) state;
	files[0] = genkey("cmp-rsa.pem", "-algorithm RSA");
	files[1] = genkey("cmp-rsa2.pem", "-algorithm RSA");
	files[2] = genkey("cmp-ec.pem",
	                  "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
	key = load_ok(files[0], getuid());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct compare_case c = {
		    cases[i].name, DKIM_RECORD_KEY_RSA, NULL,           0,
		    cases[i].want, cases[i].warn,       cases[i].reason};

		c.p = der(files[cases[i].from], cases[i].how, &c.len);
		check_compare(key, &c);
		free(c.p);
	}
	keys_free(key);
}

/* RSA: junk, nothing, trailing bytes; an Ed25519 key is not ours. */
static void
test_compare_rsa_malformed(void **state)
{
	const char *ours = genkey("cmp-rsa3.pem", "-algorithm RSA");
	struct keys_key *key = load_ok(ours, getuid());
	unsigned char junk[300], *trail;
	size_t tlen;

	(void) state;
	memset(junk, 0x30, sizeof(junk));
	trail = der(ours, "pkey -pubout", &tlen);
	trail[tlen++] = 0;
	{
		const struct compare_case c[] = {
		    {"junk", DKIM_RECORD_KEY_RSA, junk, sizeof(junk),
		     KEYS_MALFORMED, 0, "neither a SubjectPublicKeyInfo"},
		    {"empty", DKIM_RECORD_KEY_RSA, junk, 0, KEYS_MALFORMED, 0,
		     "(0 bytes)"},
		    {"trailing", DKIM_RECORD_KEY_RSA, trail, tlen,
		     KEYS_MALFORMED, 0, "neither"},
		    {"ed-vs-rsa", DKIM_RECORD_KEY_ED25519, junk, 32,
		     KEYS_MISMATCH, 0, "holds an Ed25519 key; ours is RSA"},
		};

		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
			check_compare(key, &c[i]);
	}
	free(trail);
	keys_free(key);
}

/* The reverse cross case, checked against our Ed25519 key. */
static void
test_compare_rsa_vs_ed(void **state)
{
	const char *ed = genkey("x-ed.pem", "-algorithm ED25519");
	const char *rsa = genkey("x-rsa.pem", "-algorithm RSA");
	struct keys_key *key = load_ok(ed, getuid());
	struct compare_case c = {"rsa-vs-ed",
	                         DKIM_RECORD_KEY_RSA,
	                         NULL,
	                         0,
	                         KEYS_MISMATCH,
	                         0,
	                         "holds an RSA key; ours is Ed25519"};

	(void) state;
	c.p = der(rsa, "pkey -pubout", &c.len);
	check_compare(key, &c);
	free(c.p);
	keys_free(key);
}

/* Ed25519: raw 32 bytes only; SPKI is recognised but malformed. */
static void
test_compare_ed25519(void **state)
{
	const char *ours = genkey("cmp-ed1.pem", "-algorithm ED25519");
	const char *other = genkey("cmp-ed2.pem", "-algorithm ED25519");
	struct keys_key *key = load_ok(ours, getuid());
	size_t len;
	unsigned char *spki = der(ours, "pkey -pubout", &len);
	unsigned char *ospki;
	size_t olen;
	struct compare_case c[5];

	(void) state;
	ospki = der(other, "pkey -pubout", &olen);
	assert_int_equal(len, 44);
	c[0] = (struct compare_case){
	    "raw", DKIM_RECORD_KEY_ED25519, spki + 12, 32, KEYS_MATCH, 0, NULL};
	c[1] = (struct compare_case){"other",
	                             DKIM_RECORD_KEY_ED25519,
	                             ospki + 12,
	                             32,
	                             KEYS_MISMATCH,
	                             0,
	                             "another Ed25519 key (SHA256:"};
	c[2] = (struct compare_case){"spki",
	                             DKIM_RECORD_KEY_ED25519,
	                             spki,
	                             44,
	                             KEYS_MALFORMED,
	                             0,
	                             "SubjectPublicKeyInfo holding our key"};
	c[3] = (struct compare_case){"other-spki",
	                             DKIM_RECORD_KEY_ED25519,
	                             ospki,
	                             44,
	                             KEYS_MALFORMED,
	                             0,
	                             "p= has 44 bytes; an Ed25519 key has 32"};
	c[4] = (struct compare_case){
	    "short", DKIM_RECORD_KEY_ED25519, spki + 12, 31, KEYS_MALFORMED,
	    0,       "p= has 31 bytes"};
	for (size_t i = 0; i < 5; i++)
		check_compare(key, &c[i]);
	free(spki);
	free(ospki);
	keys_free(key);
}

static void
test_free_null(void **state)
{
	(void) state;
	keys_free(NULL);
	assert_string_equal(keys_alg_name(KEYS_ALG_RSA), "rsa");
	assert_string_equal(keys_alg_name(KEYS_ALG_ED25519), "ed25519");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_generate_no_overwrite),
	    cmocka_unit_test(test_generate_errors),
	    cmocka_unit_test(test_generate_owner),
	    cmocka_unit_test(test_openssl_keys),
	    cmocka_unit_test(test_pkey_signs),
	    cmocka_unit_test(test_fingerprint_stable),
	    cmocka_unit_test(test_unsafe_files),
	    cmocka_unit_test(test_not_a_key_file),
	    cmocka_unit_test(test_refused_keys),
	    cmocka_unit_test(test_compare_rsa_published),
	    cmocka_unit_test(test_compare_rsa_malformed),
	    cmocka_unit_test(test_compare_rsa_vs_ed),
	    cmocka_unit_test(test_compare_ed25519),
	    cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
