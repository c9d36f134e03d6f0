#ifndef NULLMILTER_NULL_FIELD_H
#define NULLMILTER_NULL_FIELD_H

/*
 * null_field - the header field the floor milters insert (nullmilter.c,
 * nullmserve.c): as long as relaygate's RSA-2048 DKIM-Signature.
 */

static const char null_name[] = "X-Null-Signature";
static const char null_value[] =
    "v=1; a=rsa-sha256; c=relaxed/relaxed; d=good.test; s=prezent-a;\r\n"
    "\tt=1764666000; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
    "\th=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;\r\n"
    "\tb=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "\t AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "\t AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "\t AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "\t AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

#endif
