"""Control characters — C0 controls and DEL, except tab, line feed and carriage return (which a textarea or a
cell may hold) — in one place: what a database, a bank file or a page would refuse or hide, found in text and in
a file's bytes, and shown visibly where an error quotes them."""

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "含有不可见的控制字符，请删除后重新录入"


def has_control_characters(text: str) -> bool:
    """Invisible control characters (NUL and the like) that a database or a bank file would refuse."""
    return bool(CONTROL.search(text))


def visible(text: str) -> str:
    """The text with each control character shown as �."""
    return CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
