/*
 * Birthday and predicted-range probing (see birthday.h). Pure logic.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "punchd/birthday.h"

#define BDAY_PORT_MIN	1024

int
birthday_strategy(int ours, int theirs, int *role, const char **why)
{
	int easy_us = ours == BDAY_SIDE_EASY, easy_them = theirs == BDAY_SIDE_EASY;

	*role = BDAY_NONE;
	if (easy_us && easy_them) {
		*why = "both sides map independently of the destination";
		return BDAY_DIRECT;
	}
	if (easy_us || easy_them) {
		int other = easy_us ? theirs : ours;

		if (other == BDAY_SIDE_SEQ) {
			*role = easy_us ? BDAY_EASY : BDAY_NONE;
			*why = "one side maps per destination with sequential "
			    "ports: the other probes the predicted range";
			return BDAY_PREDICT;
		}
		if (other == BDAY_SIDE_RANDOM) {
			*role = easy_us ? BDAY_EASY : BDAY_HARD;
			*why = "one side maps per destination with random "
			    "ports: birthday probing";
			return BDAY_BIRTHDAY;
		}
		*why = "the other side's mapping is unknown";
		return BDAY_DIRECT;
	}
	if (ours == BDAY_SIDE_RANDOM || theirs == BDAY_SIDE_RANDOM) {
		*why = "both sides map per destination, one with random ports: "
		    "no port can be guessed";
		return BDAY_RELAY;
	}
	if (ours == BDAY_SIDE_SEQ && theirs == BDAY_SIDE_SEQ) {
		*why = "both sides map per destination with sequential ports: "
		    "each probes the other's predicted range, strides 1 and 2";
		*role = BDAY_EASY;
		return BDAY_PREDICT;
	}
	*why = "NAT behaviour unknown on at least one side";
	return BDAY_DIRECT;
}

void
birthday_defaults(struct birthday_cfg *cfg, int role)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = role;
	cfg->window = 10;
	if (role == BDAY_HARD) {
		/* 256 sockets, each re-sent every 2 s */
		cfg->sockets = 256;
		cfg->pps = 128;
		cfg->budget = 1280;
	} else {
		/* 2048 distinct probes over 10 s */
		cfg->pps = 205;
		cfg->budget = 2048;
	}
}

/* splitmix64: small, seedable, good enough to pick ports */
static uint64_t
birthday_rand(struct birthday *b)
{
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int
birthday_start(struct birthday *b, const struct birthday_cfg *cfg,
    const struct birthday_cb *cb, double now, uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	b->state = BDAY_FAILED;
	if (!(cfg->pps > 0) || cfg->budget == 0 || !(cfg->window > 0) ||
	    (cfg->role != BDAY_HARD && cfg->role != BDAY_EASY) ||
	    (cfg->role == BDAY_HARD && (cfg->sockets == 0 ||
	    cfg->sockets > BIRTHDAY_MAX_SOCKETS ||
	    cb->open_cb == NULL || cb->close_cb == NULL)) ||
	    cb->send_cb == NULL) {
		snprintf(b->reason, sizeof(b->reason), "probing not started: "
		    "unbounded or incomplete configuration");
		return -1;
	}
	b->cfg = *cfg;
	b->cb = *cb;
	b->state = BDAY_RUNNING;
	b->start = b->last_send = now;
	b->winner_sock = -1;
	b->rng = seed;
	return 0;
}

/* a random port of the hard side not probed yet */
static uint16_t
birthday_pick(struct birthday *b)
{
	uint16_t p;

	if (b->cfg.ports != NULL && b->cfg.nports > 0)
		return b->cfg.ports[b->pos++ % b->cfg.nports];
	if (b->ntried >= 65536 - BDAY_PORT_MIN)
		memset(b->tried, 0, sizeof(b->tried)), b->ntried = 0;
	do
		p = BDAY_PORT_MIN +
		    birthday_rand(b) % (65536 - BDAY_PORT_MIN);
	while (b->tried[p / 8] & (1 << (p % 8)));
	b->tried[p / 8] |= 1 << (p % 8);
	b->ntried++;
	return p;
}

static void
birthday_send_one(struct birthday *b)
{
	unsigned sock;

	if (b->cfg.role == BDAY_EASY) {
		b->cb.send_cb(b->cb.arg, -1, birthday_pick(b));
		b->sent++;
		return;
	}
	/* round robin; a socket opens on its first turn */
	sock = b->sent % b->cfg.sockets;
	if (sock == b->opened) {
		b->opened++;
		if (b->cb.open_cb(b->cb.arg, (int)sock) == -1) {
			b->nosock[sock / 8] |= 1 << (sock % 8);
			b->open_failed++;
		}
	}
	/* a socket that failed to open keeps its turn, unsent: a host out
	 * of descriptors gets fewer packets out, never more */
	if (!(b->nosock[sock / 8] & (1 << (sock % 8))))
		b->cb.send_cb(b->cb.arg, (int)sock, 0);
	b->sent++;
}

static void
birthday_close_all(struct birthday *b)
{
	unsigned i;

	if (b->cfg.role != BDAY_HARD)
		return;
	for (i = 0; i < b->opened; i++)
		if ((int)i != b->winner_sock &&
		    !(b->nosock[i / 8] & (1 << (i % 8))))
			b->cb.close_cb(b->cb.arg, (int)i);
	b->opened = 0;
}

static void
birthday_give_up(struct birthday *b, double now)
{
	b->state = BDAY_FAILED;
	b->end = now;
	if (b->cfg.role == BDAY_EASY)
		snprintf(b->reason, sizeof(b->reason), "%s probing sent %u "
		    "probes in %.0f s, no crossing",
		    b->cfg.ports != NULL ? "predicted-range" : "birthday",
		    b->sent, b->last_send - b->start);
	else
		snprintf(b->reason, sizeof(b->reason), "birthday: %u sockets "
		    "sent %u packets in %.0f s, no probe crossed%s",
		    b->opened - b->open_failed, b->sent,
		    b->last_send - b->start,
		    b->open_failed ? " (some sockets failed to open)" : "");
	birthday_close_all(b);
}

double
birthday_tick(struct birthday *b, double now)
{
	double		 stop, hold;
	unsigned	 due, n = 0;

	if (b->state != BDAY_RUNNING)
		return -1;
	stop = b->start + b->cfg.window;
	/* packets allowed by now: one at start, then pps (the epsilon: at
	 * the deadline we return, start + sent / pps, one more is due
	 * whatever the rounding) */
	due = now >= stop ? (unsigned)ceil(b->cfg.window * b->cfg.pps) :
	    (unsigned)floor((now - b->start) * b->cfg.pps + 1e-9) + 1;
	if (due > b->cfg.budget)
		due = b->cfg.budget;
	while (b->sent < due && n++ < BIRTHDAY_BURST && now < stop) {
		birthday_send_one(b);
		b->last_send = now;
	}
	if (b->sent < b->cfg.budget && now < stop)
		return b->start + b->sent / b->cfg.pps;
	/* nothing more to send: wait for late answers, then give up; the
	 * hard side holds its sockets (receiving is free) to the window's
	 * end, since the easy side may still be probing */
	hold = (b->cfg.role == BDAY_HARD ? stop : b->last_send) +
	    BIRTHDAY_GRACE;
	if (now >= hold) {
		birthday_give_up(b, now);
		return -1;
	}
	return hold;
}

int
birthday_input(struct birthday *b, double now, int sock, uint16_t port)
{
	if (b->state != BDAY_RUNNING)
		return 0;
	if (b->cfg.role == BDAY_HARD) {
		if (sock < 0 || (unsigned)sock >= b->opened ||
		    (b->nosock[sock / 8] & (1 << (sock % 8))))
			return 0;
		b->winner_sock = sock;
	} else
		b->winner_port = port;
	b->state = BDAY_WON;
	b->won_at = b->end = now;
	if (b->cfg.role == BDAY_EASY)
		snprintf(b->reason, sizeof(b->reason), "%s probing crossed at "
		    "port %u after %u probes in %.1f s",
		    b->cfg.ports != NULL ? "predicted-range" : "birthday",
		    port, b->sent, now - b->start);
	else
		snprintf(b->reason, sizeof(b->reason), "birthday: socket %d "
		    "of %u crossed after %u packets in %.1f s", sock,
		    b->opened, b->sent, now - b->start);
	birthday_close_all(b);
	return 1;
}

void
birthday_stop(struct birthday *b, const char *why)
{
	if (b->state != BDAY_RUNNING)
		return;
	b->state = BDAY_FAILED;
	snprintf(b->reason, sizeof(b->reason), "probing stopped after %u "
	    "packets: %s", b->sent, why);
	birthday_close_all(b);
}
