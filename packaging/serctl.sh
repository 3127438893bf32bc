#!/bin/sh
# serctl as installed by the ser package: the packaged server's FIFO and
# database unless the environment names others, and run as the ser user
# when started by root so that the files it creates stay the server's.
: "${SER_FIFO:=/run/ser/ser_fifo}"
: "${SER_FIFO_DIR:=/run/ser/}"
if [ -z "${SER_DB_URL:-}" ] && [ -z "${SQL_HOST:-}" ]; then
	SER_DB_URL=sqlite:///var/lib/ser/ser.db
	export SER_DB_URL
fi
: "${SER_BIN:=/usr/sbin/ser}"
: "${SER_CFG:=/etc/ser/ser.cfg}"
export SER_FIFO SER_FIFO_DIR SER_BIN SER_CFG
bin=$(dirname "$(readlink -f "$0")")/../lib/ser/serctl
if [ "$(id -u)" = 0 ] && id ser >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
	exec setpriv --reuid=ser --regid=ser --init-groups -- "$bin" "$@"
fi
exec "$bin" "$@"
