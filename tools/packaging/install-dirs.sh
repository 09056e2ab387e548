#!/bin/sh
# SPDX-License-Identifier: MIT
# Which directories `make install` created, so that `make uninstall` removes
# exactly those (once empty) and never one that was there before, such as
# /usr/local/lib on a system that had it.
#
#   install-dirs.sh record LIST DIR...   append to LIST every DIR, or parent
#                                        of one, that does not exist yet
#   install-dirs.sh remove LIST          rmdir the listed directories that
#                                        are empty, deepest first; then LIST
#
# Paths are full paths (DESTDIR included).  LIST sits in the project's own
# doc directory, which the caller creates and lists as well.
set -e
op=$1 list=$2
shift 2
case $op in
record)
	new=
	for d in "$@"; do
		while [ "$d" != / ] && [ "$d" != . ] && [ ! -d "$d" ]; do
			new="$new$d
"
			d=$(dirname "$d")
		done
	done
	mkdir -p "$(dirname "$list")"
	{ [ -f "$list" ] && cat "$list"; printf '%s' "$new"; } | sort -u >"$list.new"
	mv "$list.new" "$list"
	;;
remove)
	[ -f "$list" ] || exit 0
	# Deepest first: longest paths first is enough for one tree.
	dirs=$(awk '{ print length($0) " " $0 }' "$list" | sort -rn | cut -d' ' -f2-)
	rm -f "$list"
	echo "$dirs" | while IFS= read -r d; do
		[ -n "$d" ] && [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
	;;
*)
	echo "usage: $0 record LIST DIR... | remove LIST" >&2
	exit 2
	;;
esac
