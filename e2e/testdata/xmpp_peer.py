#!/usr/bin/python3
# An XMPP user for ser's jabber gateway tests (Debian's python3-slixmpp).
# Usage: xmpp_peer.py JID PASSWORD HOST PORT
# Prints "READY" once online, "RECV <bare from> <body>" per message,
# "PRES <bare from> <type>" per presence; reads "SEND <jid> <body>" and "SUB <jid>" (ask for
# a presence subscription) lines.
import asyncio
import sys

import slixmpp


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("presence", self.presence)
        self.add_event_handler("disconnected", lambda e: out("DISCONNECTED"))

    async def start(self, event):
        self.send_presence()
        await self.get_roster()
        asyncio.get_event_loop().add_reader(sys.stdin, self.command)
        out("READY")

    def command(self):
        line = sys.stdin.readline()
        if not line:
            self.disconnect()
            return
        parts = line.rstrip("\n").split(" ", 2)
        if parts[0] == "SEND" and len(parts) == 3:
            self.send_message(mto=parts[1], mbody=parts[2], mtype="chat")
            out("SENT")
        elif parts[0] == "SUB" and len(parts) >= 2:
            self.send_presence(pto=parts[1], ptype="subscribe")
            out("SUBSCRIBED")

    def message(self, msg):
        if msg["type"] in ("chat", "normal", "groupchat", "error"):
            out("RECV %s %s" % (msg["from"].bare, msg["body"]))

    def presence(self, p):
        out("PRES %s %s" % (p["from"].bare, p["type"]))


def out(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    jid, pw, host, port = sys.argv[1:5]
    x = Peer(jid, pw)
    x["feature_mechanisms"].unencrypted_plain = True
    x.connect((host, int(port)), disable_starttls=True, force_starttls=False)
    x.process(forever=True)
