#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from lib.argparse_zh import install

    install()  # the command line's own messages (a missing or malformed argument) in Chinese
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
