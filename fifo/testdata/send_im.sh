#!/bin/sh
# The admin guide's "Sending IM From Shell Script" (a here-document with no
# final empty line; the reply FIFO hh is made first so the reply can be
# checked), then its "uptime FIFO Request" (example 3).
set -e
cd "$DIR"
set -- from sh
mkfifo hh ser_receiver_1114
cat hh > hh.out &
cat > "$FIFO" <<EOF
:t_uac_from:hh
NOTIFY
sip:originator@foo.bar
sip:receiver@127.0.0.1
foo: bar_special_header
x: y
p_header: p_value
Contact: <sip:devnull@192.168.0.100:9>
Content-Type: text/plain; charset=UTF-8

Hello world!!!! $@
.
EOF
wait
cat hh.out
cat ser_receiver_1114 &
cat > "$FIFO" <<EOF
:uptime:ser_receiver_1114

EOF
wait
