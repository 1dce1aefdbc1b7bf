"""aiosmtpd handler of the local stack's SMTP sink (deploy/local/lib/smtp.sh).

  /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.MailDir FOLDER

Every message accepted is written to FOLDER/NNNN.eml (0001.eml, 0002.eml ...,
numbering goes on after a restart), exactly as received, with a Return-Path
and one Delivered-To line per envelope recipient in front, as a mail
delivery agent would write them. A file appears whole (written aside, then
renamed), so a test polling the folder never reads half a message.

Fault injection without stopping the server: a recipient whose local part
starts with "tempfail" is refused with 451 (a 4xx: try again later), one
starting with "reject" with 550 (a 5xx: permanent). For one starting with
"slow" the message is kept at once but the answer comes 3 s later (a test
can break something while the sender waits for it).
"""
import asyncio
import os
import re

_NAME = re.compile(r"^([0-9]+)\.eml$")


class MailDir:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        numbers = [int(m.group(1)) for m in map(_NAME.match, os.listdir(folder)) if m]
        self.last = max(numbers, default=0)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.MailDir takes one argument: the mail folder")
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox temporarily unavailable (test sink)"
        if local.startswith("reject"):
            return "550 5.1.1 No such user here (test sink)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if not data.endswith(b"\n"):
            data += b"\r\n"  # the CRLF before "." belongs to the SMTP dialogue
        head = "Return-Path: <%s>\r\n" % (envelope.mail_from or "")
        for rcpt in envelope.rcpt_tos:
            head += "Delivered-To: %s\r\n" % rcpt
        self.last += 1
        name = "%04d.eml" % self.last
        tmp = os.path.join(self.folder, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head.encode("ascii", "replace") + data)
        os.rename(tmp, os.path.join(self.folder, name))
        if any(r.split("@", 1)[0].lower().startswith("slow") for r in envelope.rcpt_tos):
            await asyncio.sleep(3)
        return "250 2.0.0 Message accepted as %s" % name
