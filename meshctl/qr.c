/*
 * QR codes for `meshctl invite`: in the terminal with UTF-8 half blocks
 * (two modules per character cell, as `qrencode -t UTF8` draws them: light
 * modules are the blocks, so it reads on a dark terminal), and as a PNG.
 * libqrencode has no PNG writer; a greyscale PNG is three chunks (IHDR,
 * IDAT = zlib of the rows, IEND), written here with zlib's deflate and CRC.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <zlib.h>

#include "meshctl.h"

#define QR_BORDER	2	/* quiet zone in the terminal, in modules */
#define QR_PNG_BORDER	4	/* ISO/IEC 18004 asks for 4 */
#define QR_PNG_SCALE	8	/* pixels per module */

static QRcode *
qr_make(const char *text)
{
	/* case-sensitive: the upper-case code goes into alphanumeric segments */
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static int
qr_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->data[y * q->width + x] & 1;
}

int
qr_print(FILE *f, const char *text)
{
	QRcode	*q;
	int	 x, y, top, bot;

	if ((q = qr_make(text)) == NULL)
		return -1;
	for (y = -QR_BORDER; y < q->width + QR_BORDER; y += 2) {
		for (x = -QR_BORDER; x < q->width + QR_BORDER; x++) {
			top = !qr_dark(q, x, y);
			bot = y + 1 < q->width + QR_BORDER && !qr_dark(q, x,
			    y + 1);
			fputs(top && bot ? "\xe2\x96\x88" : top ?
			    "\xe2\x96\x80" : bot ? "\xe2\x96\x84" : " ", f);
		}
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}

static int
png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint32_t	be = htonl(len), crc;

	crc = crc32(0, (const Bytef *)type, 4);
	if (len > 0)
		crc = crc32(crc, data, len);
	crc = htonl(crc);
	return fwrite(&be, 4, 1, f) == 1 && fwrite(type, 4, 1, f) == 1 &&
	    (len == 0 || fwrite(data, len, 1, f) == 1) &&
	    fwrite(&crc, 4, 1, f) == 1 ? 0 : -1;
}

int
qr_write_png(const char *path, const char *text)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	QRcode		*q;
	uint8_t		 ihdr[13], *raw = NULL, *z = NULL, *row;
	uint32_t	 side, v;
	uLongf		 zlen;
	size_t		 rawlen;
	FILE		*f = NULL;
	int		 x, y, r = -1;

	if ((q = qr_make(text)) == NULL)
		return -1;
	side = (uint32_t)(q->width + 2 * QR_PNG_BORDER) * QR_PNG_SCALE;
	rawlen = (size_t)side * (side + 1);	/* a filter byte per row */
	if ((raw = malloc(rawlen)) == NULL ||
	    (z = malloc(compressBound(rawlen))) == NULL)
		goto out;
	for (y = 0; y < (int)side; y++) {
		row = raw + (size_t)y * (side + 1);
		row[0] = 0;	/* filter: none */
		for (x = 0; x < (int)side; x++)
			row[1 + x] = qr_dark(q, x / QR_PNG_SCALE -
			    QR_PNG_BORDER, y / QR_PNG_SCALE - QR_PNG_BORDER) ?
			    0x00 : 0xff;
	}
	zlen = compressBound(rawlen);
	if (compress2(z, &zlen, raw, rawlen, 9) != Z_OK)
		goto out;
	v = htonl(side);
	memcpy(ihdr, &v, 4);
	memcpy(ihdr + 4, &v, 4);
	ihdr[8] = 8;	/* bit depth */
	ihdr[9] = 0;	/* greyscale */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	if ((f = fopen(path, "wb")) == NULL)
		goto out;
	if (fwrite(sig, sizeof(sig), 1, f) != 1 ||
	    png_chunk(f, "IHDR", ihdr, sizeof(ihdr)) == -1 ||
	    png_chunk(f, "IDAT", z, (uint32_t)zlen) == -1 ||
	    png_chunk(f, "IEND", NULL, 0) == -1)
		goto out;
	r = 0;
out:
	if (f != NULL && fclose(f) == EOF)
		r = -1;
	free(raw);
	free(z);
	QRcode_free(q);
	return r;
}
