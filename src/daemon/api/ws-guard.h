/* The stream under a console WebSocket, so that one client cannot freeze
 * or grow the daemon through libsoup.
 *
 * libsoup 3's SoupWebsocketConnection reads its input in a loop for as
 * long as data is there, so a client that sends without pause keeps the
 * main loop from ever running anything else; and it answers every ping
 * with a pong queued without limit, so a client sending pings and reading
 * nothing grows the daemon without end. Neither has a public knob. This
 * stream sits between libsoup and the connection: its input says "would
 * block" once in every VD_WS_GUARD_TURN bytes (libsoup then waits for the
 * next main loop iteration), and while the connection's output is full,
 * i.e. the client is not reading what it is sent, it reads nothing more
 * from that client (a TCP-style back-pressure: the client's writes block).
 * The output is the connection's own.
 */
#pragma once

#include <gio/gio.h>

#define VD_WS_GUARD_TURN (64 * 1024)

/* A stream over @base (a reference is taken); closing it closes @base. */
GIOStream *vd_ws_guard_new(GIOStream *base);
