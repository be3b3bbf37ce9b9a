"""A message as the subscriber reads it: a Jinja2 template per kind (``templates/<kind>.txt``,
package data), its first line the subject, the rest the plain-text body; and the MIME
message around it, with its attachments (the receipt's invoice PDF).

Templates are plain text, never HTML: nothing a subscriber gave (a name) can become markup.
Nor can it become a header: the log may hold a name recorded with a line break before names
had to be one line, and every text that reaches a header (the recipient's name, the subject)
is made one line first (:func:`one_line`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = field(default=())


def one_line(text: str) -> str:
    """``text`` with each control character (line feed and carriage return among them) and
    each run of white space made one space, trimmed. Kept rather than left out, so the
    subscriber still reads their name; with no line break left it cannot end a header and
    start another (a ``Bcc:`` of someone else's choosing), and the e-mail library quotes
    whatever else a display name holds (``:``, ``,``, ``@``), so it stays one name."""
    return " ".join(_CONTROL.sub(" ", text).split())


@lru_cache(maxsize=1)
def _templates() -> Environment:
    # Plain text: no autoescaping (nothing is HTML); a missing value is an error, not "".
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)


def render(kind: str, context: Mapping[str, Any],
           attachments: tuple[Attachment, ...] = ()) -> Composed:
    """The message of ``kind`` for ``context``: the template's first line is the subject."""
    text = _templates().get_template(f"{kind}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return Composed(subject.strip(), body.lstrip("\n"), attachments)


def mime(composed: Composed, *, sender: str, name: str, address: str, message_id: str,
         date: datetime) -> EmailMessage:
    """The MIME message: From, To (``name`` made one line), Subject (one line), Date, a
    Message-ID derived from the message's key (so a message has one id wherever it is
    written), the text, the attachments. ValueError: an address it cannot write."""
    message = EmailMessage()
    sender_name, sender_address = parseaddr(sender)
    message["From"] = str(Address(sender_name, addr_spec=sender_address))
    message["To"] = str(Address(one_line(name), addr_spec=address))
    message["Subject"] = one_line(composed.subject)
    message["Date"] = format_datetime(date)
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:40]
    domain = sender_address.rpartition("@")[2] or "subledger"
    message["Message-ID"] = f"<{digest}@{domain}>"
    message.set_content(composed.body)
    for attachment in composed.attachments:
        message.add_attachment(attachment.content, maintype=attachment.maintype,
                               subtype=attachment.subtype, filename=attachment.filename)
    return message
