"""The help of the ``mtd`` console script and of each of its commands, for the docs.

Generated from :func:`mtd.cli.build_parser` while the docs build, so the reference
always shows the commands that exist.
"""

from __future__ import annotations

import argparse
import os

from mtd.cli import build_parser

WIDTH = "88"  # argparse wraps to $COLUMNS


def help_text() -> str:
    """``mtd --help`` followed by ``mtd <command> --help`` for every command."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser()
        parts = ["$ mtd --help", parser.format_help()]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    parts += [f"$ mtd {name} --help", sub.format_help()]
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(parts)


if __name__ == "__main__":
    print(help_text())
