#!/usr/bin/env bash
# tools/debian13.sh: crm on PostgreSQL 17, the server Debian 13 ships, on this machine.
#
#   tools/debian13.sh test [NAME...]   the whole suite (or the named tests) against PostgreSQL 17
#   tools/debian13.sh demo             the demo against PostgreSQL 17
#   tools/debian13.sh shell            a shell in the Debian 13 root (for debugging)
#
# Needs root (debootstrap, mount, chroot).  The first run builds a Debian 13
# ("trixie") root with debootstrap in $CRM_DEBIAN13_ROOT (default
# /var/cache/crm/debian13; a few minutes, about 500 MB with PostgreSQL 17 and
# the test packages), later runs reuse it.  Each run copies the checkout (the
# files git knows, with their uncommitted changes) into the root's /crm and
# runs PG_MAJOR=17 tools/dev.sh there under chroot, so the packages (the
# server, ICU 76, the drivers) are Debian 13's own.  /proc, /sys, /dev and
# /dev/shm are mounted into the root for the run and unmounted after it.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
R=${CRM_DEBIAN13_ROOT:-/var/cache/crm/debian13}
MIRROR=${CRM_DEBIAN13_MIRROR:-http://deb.debian.org/debian}

die() { printf 'tools/debian13.sh: %s\n' "$*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }

cmd=${1:-}
case "$cmd" in
	test|demo|shell) shift ;;
	*) sed -n '2,15p' "$0"; [ -z "$cmd" ] || die "unrecognized command \"$cmd\""; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mount and chroot): run it as root or with sudo"

# one run per root at a time
mkdir -p "$(dirname "$R")"
exec 8>"$R.lock"
flock 8

if [ ! -e "$R/.crm-ready" ]; then
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	fi
	say "building a Debian 13 root in $R (first run only)"
	rm -rf "$R"
	debootstrap --variant=minbase trixie "$R" "$MIRROR" >"$R.debootstrap.log" 2>&1 ||
		{ tail -20 "$R.debootstrap.log"; die "debootstrap failed (log: $R.debootstrap.log)"; }
	touch "$R/.crm-ready"
fi

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
mount_in() {	# mount_in TARGET ARGS...: mount ARGS on $R/TARGET, undone on exit
	local target="$R/$1"; shift
	mkdir -p "$target"
	mount "$@" "$target"
	mounted+=("$target")
}
mount_in proc -t proc proc
mount_in sys -t sysfs sysfs
mount_in dev --bind /dev
mount_in dev/pts --bind /dev/pts
# PostgreSQL's dynamic shared memory: a tmpfs of the root's own
mount_in dev/shm -t tmpfs -o mode=1777,size=1g tmpfs
cp -L /etc/resolv.conf "$R/etc/resolv.conf"

say "copying the checkout into $R/crm"
rm -rf "$R/crm"
mkdir -p "$R/crm"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
	(cd "$ROOT" && xargs -0 tar --no-recursion -cf - --ignore-failed-read 2>/dev/null) |
	tar -C "$R/crm" -xf -

case "$cmd" in
	shell) chroot "$R" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		PG_MAJOR=17 bash -c 'cd /crm && exec bash' ;;
	*) chroot "$R" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		PG_MAJOR=17 /crm/tools/dev.sh "$cmd" "$@" ;;
esac
