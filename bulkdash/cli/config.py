"""``bulkdash config path | show | init``: where the config file of profiles is, what it holds (secrets
hidden), or a commented example to start from."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bulkdash.cli.options import fail

COMMAND = "config"


def add_config_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser(
        COMMAND,
        help="where the config file is, what it holds (secrets hidden), or write an example",
        description="Profiles of real Weavr endpoints, for `bulkdash --profile NAME`.",
    )
    # SUPPRESS: `bulkdash --config X config show` must not be reset by this subparser's default.
    config.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="the file")
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    actions.add_parser("path", help="print the config file's path")
    actions.add_parser("show", help="print the profiles, secrets as ***")
    init = actions.add_parser("init", help="write a commented example (mode 0600)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    config.set_defaults(handler=config_command, honours=frozenset({"--config"}))


def config_command(args: argparse.Namespace) -> int:
    from bulkdash import config

    path = config.config_path(getattr(args, "config", None))
    try:
        if args.config_action == "path":
            print(path)
        elif args.config_action == "show":
            print(f"# {path}")
            print(config.show(config.load(path, warn=sys.stderr)), end="")
        else:
            config.init(path, force=args.force)
            print(f"wrote {path} (mode 0600); edit it, then run: bulkdash --profile sandbox")
    except config.ConfigError as exc:
        return fail(COMMAND, str(exc))
    return 0
