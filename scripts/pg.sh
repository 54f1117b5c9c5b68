#!/bin/bash
# PostgreSQL releases newer than this machine's, each in a Debian root of its
# own (they need a newer C library): the plugin is built and tested against
# them there, while the daemons, built on this machine, talk to them over TCP
# as they would in production.
#
#   scripts/pg.sh root VERSION...      make (once, as root) the Debian root of each
#                                      release: $CDC_CACHE/roots/VERSION
#   scripts/pg.sh dir VERSION          print the root of a release (fails if not made)
#   scripts/pg.sh build VERSION DIR    build this checkout's plugin with that
#                                      server's PGXS, into DIR (under /tmp)
#   scripts/pg.sh run VERSION CMD...   run CMD inside the root as its "postgres"
#                                      user; this machine's /tmp is its /tmp;
#                                      with CDC_PG_PLUGIN=DIR, the server has the
#                                      plugin built into DIR
#   scripts/pg.sh bindir VERSION DIR   make DIR hold scripts named as the server's
#                                      programs that run them inside the root
#   scripts/pg.sh pgxsdir VERSION      the server's PGXS directory, as seen from here
#   scripts/pg.sh logical-conf BINDIR [FILE]
#                                      sql/logical.conf (or FILE) without the settings
#                                      the server in BINDIR does not know
#
# Running needs unprivileged user namespaces (Debian's default).  This
# machine's own server (15) needs none of this.  Roots live in
# $CDC_CACHE/roots; the test harness runs against one with CDC_PG=VERSION
# (t/run_tests.sh).  A fresh root takes about 3 minutes and 1.5 GB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CDC_CACHE=${CDC_CACHE:-/var/cache/cdc_kafka}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The Debian release that carries each PostgreSQL release.  forky has no
# debootstrap script here: sid's fits it.
suite_of()
{
	case $1 in
	17) echo "trixie trixie" ;;
	18) echo "forky sid" ;;
	*) echo "pg.sh: no Debian root for PostgreSQL $1 (15 is this machine's, 17 and 18 have roots)" >&2; exit 1 ;;
	esac
}

packages_of()
{
	# the server and its PGXS; the plugins bench/decode compares with
	echo "postgresql-$1 postgresql-server-dev-$1 build-essential" \
		"postgresql-$1-wal2json postgresql-$1-decoderbufs"
}

usage() { sed -n '/^#   scripts/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }

root_dir() { echo "$CDC_CACHE/roots/$1"; }

# A root is made in two steps, each with a stamp holding the hash of its
# recipe: the Debian system (debootstrap), then the packages.  A step
# whose stamp is missing or differs is redone, so a half-made root is
# finished and a changed package list only installs what is new.
system_recipe() { { suite_of "$1"; echo "$MIRROR"; } | sha256sum | cut -d' ' -f1; }
packages_recipe() { packages_of "$1" | sha256sum | cut -d' ' -f1; }

stamped() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

root_made()
{
	local dir
	dir=$(root_dir "$1")
	stamped "$dir/.cdc_kafka_system" "$(system_recipe "$1")" &&
		stamped "$dir/.cdc_kafka_packages" "$(packages_recipe "$1")"
}

# Unmounts whatever is mounted at or below DIR, deepest first.
unmount_under()
{
	local m
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
}

# apt inside a root, with /proc mounted for the maintainer scripts (and
# unmounted again whatever happens).  forky's Release file as served here
# has expired.
root_apt()
{
	local dir=$1 rc=0
	shift
	mount -t proc proc "$dir/proc"
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive LC_ALL=C \
		apt-get -o Acquire::Check-Valid-Until=false -y -qq "$@" || rc=$?
	umount "$dir/proc"
	return $rc
}

make_root()
{
	local v=$1 dir log suite script start
	root_made "$v" && return 0
	[ "$(id -u)" = 0 ] || { echo "pg.sh: making the root of PostgreSQL $v needs root" >&2; exit 1; }
	command -v debootstrap >/dev/null || { echo "pg.sh: debootstrap is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
	dir=$(root_dir "$v")
	log=$dir.log
	read -r suite script < <(suite_of "$v")
	start=$(date +%s)
	mkdir -p "$(dirname "$dir")"
	chmod a+rx "$CDC_CACHE" "$(dirname "$dir")"
	# Whatever an interrupted step left mounted goes first; the removal
	# never crosses into another file system.
	trap 'unmount_under "$dir"' EXIT
	unmount_under "$dir"
	if ! stamped "$dir/.cdc_kafka_system" "$(system_recipe "$v")"; then
		echo "pg.sh: making the Debian $suite root of PostgreSQL $v in $dir (minutes, once)" >&2
		rm -rf --one-file-system "$dir"
		mkdir -p "$dir"
		debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" \
			"/usr/share/debootstrap/scripts/$script" >"$log" 2>&1 ||
			{ tail -n 20 "$log" >&2; echo "pg.sh: debootstrap $suite failed (log: $log)" >&2; exit 1; }
		# No service starts inside the root, and no cluster is made: the
		# tests make their own.
		printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
		chmod 755 "$dir/usr/sbin/policy-rc.d"
		mkdir -p "$dir/etc/postgresql-common/createcluster.d"
		echo "create_main_cluster = false" >"$dir/etc/postgresql-common/createcluster.d/cdc_kafka.conf"
		system_recipe "$v" >"$dir/.cdc_kafka_system"
	fi
	echo "pg.sh: installing $(packages_of "$v") into the root of PostgreSQL $v" >&2
	{ root_apt "$dir" update && root_apt "$dir" install --no-install-recommends $(packages_of "$v") &&
		root_apt "$dir" clean; } >>"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; echo "pg.sh: installing PostgreSQL $v in its root failed (log: $log)" >&2; exit 1; }
	# where "run" shows a checkout's plugin (see build_plugin)
	touch "$dir/usr/lib/postgresql/$v/lib/cdc_kafka.so"
	packages_recipe "$v" >"$dir/.cdc_kafka_packages"
	trap - EXIT
	echo "pg.sh: root of PostgreSQL $v made in $(( $(date +%s) - start ))s" >&2
}

need_root_made()
{
	root_made "$1" || { echo "pg.sh: PostgreSQL $1 has no root yet (as root: scripts/pg.sh root $1)" >&2; exit 1; }
}

# The server's directories inside its root.
pg_bindir() { echo "/usr/lib/postgresql/$1/bin"; }
pg_pgxsdir() { echo "/usr/lib/postgresql/$1/lib/pgxs"; }

# Runs a command inside the root as its "postgres" user, without any
# privilege: a user namespace (unprivileged, as this machine's postgres
# user) binds this machine's /tmp, /dev and /proc into the root, and a
# second one, inside it, maps the root's postgres user onto the caller and
# changes root.  Files the servers write under /tmp belong to this
# machine's postgres user; the mounts exist only in that namespace and end
# with its last process, so none is ever left behind.
run_in_root()
{
	local v=$1 dir uid gid wd=/
	shift
	need_root_made "$v"
	if [ "$(id -u)" = 0 ]; then
		exec runuser -u postgres -- "$0" run "$v" "$@"
	fi
	dir=$(root_dir "$v")
	IFS=: read -r uid gid < <(awk -F: '$1 == "postgres" { print $3 ":" $4 }' "$dir/etc/passwd")
	case $PWD in /tmp | /tmp/*) wd=$PWD ;; esac
	exec unshare --user --map-root-user --mount --propagation private -- /bin/sh -c '
		dir=$1 uid=$2 gid=$3 wd=$4 path=$5 v=$6 plugin=$7
		shift 7
		mount --rbind /tmp "$dir/tmp" && mount --rbind /dev "$dir/dev" &&
			mount --rbind /proc "$dir/proc" || exit 1
		if [ -n "$plugin" ]; then
			mount --bind "$plugin/extension" "$dir/usr/share/postgresql/$v/extension" &&
				mount --bind "$plugin/cdc_kafka.so" "$dir/usr/lib/postgresql/$v/lib/cdc_kafka.so" || exit 1
		fi
		exec unshare --user --map-user="$uid" --map-group="$gid" --root="$dir" --wd="$wd" \
			-- /usr/bin/env PATH="$path" "$@"' \
		sh "$dir" "$uid" "$gid" "$wd" "$(pg_bindir "$v"):/usr/bin:/bin" "$v" "${CDC_PG_PLUGIN:-}" "$@"
}

# A directory of this machine's path that looks like the server's bindir:
# each program of the root's (and pg_regress) as a script that runs it
# inside the root.  Everything the tests pass them lives under /tmp, which
# is the same inside.
make_bindir()
{
	local v=$1 out=$2 p name
	need_root_made "$v"
	mkdir -p "$out"
	for p in "$(root_dir "$v")$(pg_bindir "$v")"/* \
		"$(root_dir "$v")$(pg_pgxsdir "$v")/src/test/regress/pg_regress"; do
		name=$(basename "$p")
		printf '#!/bin/sh\nexec %q run %q %q "$@"\n' "$ROOT/scripts/pg.sh" "$v" "${p#"$(root_dir "$v")"}" >"$out/$name"
		chmod 755 "$out/$name"
	done
	echo "$out"
}

# This checkout's plugin and extension, built with the server's PGXS inside
# its root (as this machine's postgres user, without privileges) into DIR,
# under /tmp: DIR/cdc_kafka.so, and DIR/extension, the root's extension
# directory with this checkout's files in it.  "run" with
# CDC_PG_PLUGIN=DIR shows the server these in place of the root's, in its
# private mount namespace: each test run has the plugin of its own
# checkout, and nothing is ever installed into the shared root.
build_plugin()
{
	local v=$1 out=$2 dir ext
	need_root_made "$v"
	if [ "$(id -u)" = 0 ]; then
		exec runuser -u postgres -- "$0" build "$v" "$out"
	fi
	case $(realpath -m "$out") in
	/tmp/*) ;;
	*) echo "pg.sh: $out is not under /tmp, which is all the root sees" >&2; exit 1 ;;
	esac
	dir=$(root_dir "$v")
	ext=/usr/share/postgresql/$v/extension
	rm -rf "$out"
	mkdir -p "$out/src"
	(cd "$ROOT" && cp -r Makefile cdc_kafka.control cdc_kafka--*.sql plugin "$out/src/")
	rm -f "$out"/src/plugin/*.o "$out"/src/plugin/*.d "$out"/src/plugin/*.bc
	CDC_PG_PLUGIN= "$0" run "$v" make -C "$out/src" PG_CONFIG="$(pg_bindir "$v")/pg_config" \
		WITH_DAEMONS=no with_llvm=no DESTDIR="$out/inst" all install >"$out/build.log" 2>&1 ||
		{ tail -n 30 "$out/build.log" >&2; echo "pg.sh: building the plugin for PostgreSQL $v failed" >&2; exit 1; }
	cp -r "$dir$ext" "$out/extension"
	rm -f "$out"/extension/cdc_kafka*
	cp "$out/inst$ext"/cdc_kafka* "$out/extension/"
	cp "$out/inst/usr/lib/postgresql/$v/lib/cdc_kafka.so" "$out/cdc_kafka.so"
}

# The settings the server whose programs are in BINDIR knows, one a line.
known_settings() { "$1/postgres" --describe-config | cut -f1; }

# sql/logical.conf (or FILE) for the server in BINDIR: a setting it does
# not know would stop it from starting, so such lines are left out
# (output_plugin_libraries came with a minor release; older ones lack it).
logical_conf()
{
	local bindir=$1 file=${2:-$ROOT/sql/logical.conf} known
	known=$(known_settings "$bindir") || { echo "pg.sh: cannot run $bindir/postgres" >&2; exit 1; }
	awk -v known="$known" '
		BEGIN { n = split(known, k, "\n"); for (i = 1; i <= n; i++) ok[k[i]] = 1 }
		/^[ \t]*[a-z_.]+[ \t]*=/ { name = $0; sub(/^[ \t]*/, "", name); sub(/[ \t]*=.*/, "", name)
			if (!(name in ok)) next }
		{ print }' "$file"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
root)
	[ $# -ge 1 ] || usage
	for v in "$@"; do make_root "$v"; done ;;
build)
	[ $# = 2 ] || usage
	build_plugin "$@" ;;
dir)
	[ $# = 1 ] || usage
	need_root_made "$1"
	root_dir "$1" ;;
pgxsdir)
	[ $# = 1 ] || usage
	need_root_made "$1"
	echo "$(root_dir "$1")$(pg_pgxsdir "$1")" ;;
bindir)
	[ $# = 2 ] || usage
	make_bindir "$1" "$2" ;;
run)
	[ $# -ge 2 ] || usage
	run_in_root "$@" ;;
logical-conf)
	[ $# -ge 1 ] && [ $# -le 2 ] || usage
	logical_conf "$@" ;;
*) usage ;;
esac
