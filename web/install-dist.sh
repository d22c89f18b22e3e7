#!/bin/sh
# meson install: copies the built front end (build/web/dist) to
# $DESTDIR$prefix/$2 (share/virtd/web), replacing what an older install left.
set -e
src="$1"
dst="$MESON_INSTALL_DESTDIR_PREFIX/$2"
[ -f "$src/index.html" ] || { echo "install-dist: $src/index.html missing: build first" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst"
cp -R "$src/." "$dst/"
echo "Installing $src to $dst"
