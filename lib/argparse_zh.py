"""The operator commands' own messages are Chinese; argparse's (a missing argument, a number that is not one, an
unknown option) are English. This puts them into Chinese for the command line: argparse looks its messages up
through the module's gettext function each time it prints one, so `install()` (called by manage.py) gives it a
catalogue of its own. Messages not in the catalogue stay as they are."""

import argparse

MESSAGES = {
    "usage: ": "用法：",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "invalid %(type)s value: %(value)r": "取值不对：%(value)r（应为整数或数字）",
    "invalid choice: %(value)r (choose from %(choices)s)": "不是可选的值：%(value)r（可选：%(choices)s）",
    "expected one argument": "缺少取值",
    "expected at most one argument": "最多只能有一个取值",
    "expected at least one argument": "至少要有一个取值",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "unrecognized arguments: %s": "不认识的参数：%s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须填写其中一个",
    "ambiguous option: %(option)s could match %(matches)s": "参数 %(option)s 不明确，可能是：%(matches)s",
    "show this help message and exit": "显示本帮助并退出",
    "options": "选项",
    "positional arguments": "位置参数",
}
PLURALS = {"expected %s argument": "应有 %s 个取值"}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return PLURALS.get(singular, singular if n == 1 else plural)


def install() -> None:
    """argparse's messages in Chinese from now on (this process)."""
    argparse._ = gettext
    argparse.ngettext = ngettext
