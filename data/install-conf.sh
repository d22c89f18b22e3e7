#!/bin/sh
# meson install: puts the example configuration file $1 in
# $DESTDIR/$2/virtd.conf unless one is there already, so that `meson
# install` onto a running host keeps the administrator's file (the Debian
# package installs into an empty DESTDIR and leaves the rest to dpkg's
# conffile handling).
set -e
dst="${DESTDIR:+$DESTDIR}$2"
mkdir -p "$dst"
if [ -e "$dst/virtd.conf" ]; then
    echo "Keeping $dst/virtd.conf (the example is $1)"
else
    cp "$1" "$dst/virtd.conf"
    chmod 0644 "$dst/virtd.conf"
    echo "Installing $1 to $dst/virtd.conf"
fi
