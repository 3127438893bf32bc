#!/bin/sh
# Builds the Debian package of ser: packaging/build-deb.sh [output-dir]
# (default: dist/ in the repository). Needs Go, gcc (cgo, for the
# embedded SQLite), dpkg-deb and gzip; no root (the files are owned by
# root in the package through dpkg-deb --root-owner-group).
# Prints the path of the .deb it wrote.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

mkdir -p "$root/DEBIAN" "$root/usr/sbin" "$root/usr/lib/ser" "$root/lib/systemd/system" \
	"$root/usr/share/ser" "$root/usr/share/man/man5" "$root/usr/share/man/man8" \
	"$root/usr/share/bash-completion/completions" "$root/usr/share/doc/ser" "$root/etc/ser"

cd "$repo"
export CGO_ENABLED=1
go build -ldflags='-s -w' -o "$root/usr/sbin/ser" .
go build -ldflags='-s -w' -o "$root/usr/lib/ser/serctl" ./serctl
install -m 0755 "$here/serctl.sh" "$root/usr/sbin/serctl"
install -m 0644 "$here/ser.service" "$root/lib/systemd/system/ser.service"
install -m 0644 "$here/serctl.bash-completion" "$root/usr/share/bash-completion/completions/serctl"
for page in ser.8 serctl.8 ser.cfg.5; do
	sec=${page##*.}
	gzip -9n <"$here/man/$page" >"$root/usr/share/man/man$sec/$page.gz"
done

# The configuration template: the built-in default configuration with the
# packaged paths (FIFO and reply FIFOs in /run/ser, the database in
# /var/lib/ser), syslog, and workers in the foreground (the unit runs
# ser -D). postinst fills in the host's domain as /etc/ser/ser.cfg.
tmpl=$root/usr/share/ser/ser.cfg.in
{
	echo "# /etc/ser/ser.cfg: ser's built-in default configuration as installed by"
	echo "# the ser package (FIFO in /run/ser, database in /var/lib/ser, logs to"
	echo "# syslog). See ser.cfg(5); check changes with: ser -c -f /etc/ser/ser.cfg"
	echo "#"
	sed -e 's|^fork=no\b.*|fork=yes            # workers; the systemd unit keeps ser in the foreground (-D)|' \
		-e 's|^log_stderror=yes\b.*|log_stderror=no     # syslog (the journal), with each line'"'"'s priority|' \
		-e 's|^fifo="/tmp/ser_fifo"|fifo="/run/ser/ser_fifo"\nfifo_dir="/run/ser/"  # serctl'"'"'s reply FIFOs (the service has a private /tmp)\ndb_url="sqlite:///var/lib/ser/ser.db"|' \
		core/default.cfg
} >"$tmpl"
for want in '^fork=yes' '^log_stderror=no' '^fifo="/run/ser/ser_fifo"' '^fifo_dir="/run/ser/"' '^db_url="sqlite:///var/lib/ser/ser.db"' '@DOMAIN@'; do
	if ! grep -q "$want" "$tmpl"; then
		echo "build-deb.sh: core/default.cfg changed: no $want in the packaged configuration" >&2
		exit 1
	fi
done
chmod 0644 "$tmpl"

version=$("$root/usr/sbin/ser" -V | sed -n 's/^version: ser \([^ ]*\) .*/\1/p')
arch=$(dpkg --print-architecture)
size=$(du -sk "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CTRL
Package: ser
Version: $version
Architecture: $arch
Maintainer: ser developers <ser@localhost>
Installed-Size: $size
Depends: libc6, adduser | passwd
Section: net
Priority: optional
Description: SIP Express Router rebuilt in Go
 ser is SER 0.8/0.9's SIP registrar, stateless and stateful proxy and
 redirect server, programmed by SER's routing language (ser.cfg), with
 its FIFO/unix socket management interface, serctl, an XML-RPC bridge and
 a web console. Installs a systemd unit (Type=notify), a configuration
 made from the built-in default for the host's domain, man pages and bash
 completion for serctl.
CTRL
for s in postinst prerm postrm; do
	install -m 0755 "$here/debian/$s" "$root/DEBIAN/$s"
done
cp "$repo/README.md" "$root/usr/share/doc/ser/README.md"
gzip -9n "$root/usr/share/doc/ser/README.md"

deb=$out/ser_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
