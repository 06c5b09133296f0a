# Shell functions the scripts share (scripts/demo, scripts/deps, bench/run,
# bench/settings, e2e/nspawn/rootfs, e2e/vm/build-image). Source it:
#
#   . "$(dirname "$0")/../scripts/lib.sh"
#
# Every function writes its messages to stderr; what it prints on stdout is
# its result.

# ensure_packages PKG...: installs, with apt-get and without recommends, the
# Debian packages of the list that are not installed; says which.
ensure_packages() {
	local p missing=()
	for p; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	echo "installing: ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null; }
}

# policy_root DIR: DIR becomes a private copy of this machine's policy store
# (/etc/selinux and /var/lib/selinux), for semodule -p DIR -n and
# seconf --root DIR. The machine's own store is only read.
policy_root() {
	mkdir -p "$1/etc" "$1/var/lib"
	cp -a /etc/selinux "$1/etc/"
	cp -a /var/lib/selinux "$1/var/lib/"
}

# refpolicy_services DIR: extracts refpolicy's container.te and .fc (Debian
# 12's policy has no container types; selinux-policy-src ships them as
# source) under DIR and prints the directory that holds them.
refpolicy_services() {
	tar --zstd -xf /usr/src/selinux-policy-src.tar.zst -C "$1" \
		selinux-policy-src/policy/modules/services/container.te \
		selinux-policy-src/policy/modules/services/container.fc
	echo "$1/selinux-policy-src/policy/modules/services"
}

# debian_mirror SUITE [OVERRIDE]: the Debian mirror to debootstrap SUITE
# from. OVERRIDE when given; else the mirror apt already uses for SUITE
# (one-line or deb822 sources); else the mirror of this machine's own suite
# (Debian mirrors carry every release); else the first Debian mirror the
# sources name; else deb.debian.org.
debian_mirror() {
	local suite=$1 override=${2:-} m host_suite
	if [[ -n $override ]]; then
		echo "$override"
		return
	fi
	local srcs=(/dev/null)
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		if [[ -f $f ]]; then srcs+=("$f"); fi
	done
	_lib_mirror_of() { awk -v s="$1" '
		function flush() { if (ok && uri && !found) { print uri; found = 1 } ok = 0; uri = "" }
		FNR == 1    { flush() }
		/^deb[ \t]/ { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == s && !found) { print $2; found = 1 } }
		/^URIs:/    { uri = $2 }
		/^Suites:/  { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
		/^[ \t]*$/  { flush() }
		END         { flush() }' "${srcs[@]}"; }
	m=$(_lib_mirror_of "$suite")
	host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[[ -n $m || -z $host_suite ]] || m=$(_lib_mirror_of "$host_suite")
	[[ -n $m ]] || m=$(cat "${srcs[@]}" | sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?//p' |
		tr ' ' '\n' | grep -E '^https?://' | grep -v -e security -e '-updates' | head -n1 || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# debootstrap_min SUITE DIR MIRROR PACKAGES [LOG]: a minbase SUITE in DIR
# with PACKAGES (comma-separated), in a mount namespace of its own so that
# its /proc and /sys mounts go with it even if it is killed. With LOG, its
# output goes there and only its tail is shown on failure.
debootstrap_min() {
	local suite=$1 dir=$2 mirror=$3 pkgs=$4 log=${5:-}
	local cmd=(unshare -m --propagation private debootstrap --variant=minbase --components=main --include="$pkgs" "$suite" "$dir" "$mirror")
	if [[ -z $log ]]; then
		"${cmd[@]}" >&2
		return
	fi
	"${cmd[@]}" >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		[[ ! -f $dir/debootstrap/debootstrap.log ]] || tail -n 30 "$dir/debootstrap/debootstrap.log" >&2
		return 1
	}
}
