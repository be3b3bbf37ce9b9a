"""What text the ledger accepts, written once as patterns that the checks below apply and the
API's schemas publish, so a client can know before sending what will be refused.

- An **identifier** (a plan or coupon id, a tier) is ASCII: a letter or digit, then letters,
  digits, ``.``, ``_`` or ``-``; at most 64 characters.
- A **name** (a subscriber's, a plan's, a coupon's) and a **reference** (an external
  reference, a payment token, a gateway's reference) are one line: a name becomes an
  e-mail's display name or part of its subject, a reference an id elsewhere, a URL
  parameter or a header, where a line break would end the header and start another. Each
  holds no control character, no tab and no line break, and something other than white
  space.
- **Free text** (a description, a reason, a comment) may run over several lines: it may
  hold any character but the control characters (C0 and C1), except tab, line feed and
  carriage return. A **reason** that must be given (a balance adjustment's) is free text
  with something other than white space.

Patterns are ECMAScript- and Python-compatible, anchored with ``^`` and ``$``, and always
matched whole (``re.fullmatch``): ``$`` alone would let a trailing line feed through.
"""

from __future__ import annotations

import re

from .errors import InvalidInput

CONTROLS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
"""Control characters, but tab, line feed and carriage return."""
LINE_BREAKS = "\\t\\n\\r"
SPACES = (LINE_BREAKS + " \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
          "\\ufeff")
"""What counts as white space (listed, so Python and ECMAScript agree)."""

IDENTIFIER = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
FREE_TEXT = f"^[^{CONTROLS}]*$"
REASON = f"^[^{CONTROLS}]*[^{SPACES}{CONTROLS}][^{CONTROLS}]*$"
ONE_LINE = f"^[^{CONTROLS}{LINE_BREAKS}]*[^{SPACES}{CONTROLS}][^{CONTROLS}{LINE_BREAKS}]*$"
NAME = REFERENCE = ONE_LINE
EMAIL = (f"^[^@{SPACES}{CONTROLS}]{{1,64}}@[^@{SPACES}{CONTROLS}]+"
         f"\\.[^@{SPACES}{CONTROLS}]+$")

MAX_NAME = 200
MAX_REFERENCE = 255
MAX_EMAIL = 254
MAX_COMMENT = 500

_IDENTIFIER = re.compile(IDENTIFIER)
_FREE_TEXT = re.compile(FREE_TEXT)
_REASON = re.compile(REASON)
_ONE_LINE = re.compile(ONE_LINE)
_EMAIL = re.compile(EMAIL)


def check_identifier(value: object, field: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(
            f"{field} must be 1-64 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _matching(value: object, pattern: re.Pattern[str], max_length: int, refusal: str) -> str:
    if not isinstance(value, str) or len(value) > max_length or not pattern.fullmatch(value):
        raise InvalidInput(refusal)
    return value


def check_name(value: object, field: str, max_length: int = MAX_NAME) -> str:
    return _matching(value, _ONE_LINE, max_length,
                     f"{field} must be text of 1 to {max_length} characters, not all white space,"
                     " without control characters or line breaks")


def check_reason(value: object, field: str, max_length: int = MAX_COMMENT) -> str:
    return _matching(value, _REASON, max_length,
                     f"{field} must be text of 1 to {max_length} characters, not all white space,"
                     " without control characters (line breaks are kept)")


def check_reference(value: object, field: str, max_length: int = MAX_REFERENCE) -> str:
    return _matching(value, _ONE_LINE, max_length,
                     f"{field} must be 1 to {max_length} characters, not all white space,"
                     " without control characters or line breaks")


def check_free_text(value: object, field: str, max_length: int = MAX_COMMENT) -> str:
    return _matching(value, _FREE_TEXT, max_length,
                     f"{field} must be text of at most {max_length} characters without"
                     " control characters")


def check_email(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value):
        raise InvalidInput("email must be an e-mail address such as ada@example.com")
    return value


def email_key(email: str) -> str:
    """An e-mail address as the ledger compares it: whole, ignoring case (Unicode case
    folding), so ``Ada@Example.com`` finds ``ada@example.com``."""
    return email.casefold()
