"""The headless command line. Imports no Qt: the GUI is loaded only when no command is given.

Every failure is one line on stderr and an exit code; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from . import __version__
from .core.findings import Finding, Severity, has_errors
from .core.importer import import_config
from .core.render import render
from .core.validate import validate_bytes
from .core.yamltext import MAX_CONFIG_BYTES, decode_config_bytes

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report as one line, with the exit code to use."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message} (see --help)")


def _read(path: str) -> bytes:
    file = Path(path)
    try:
        if file.is_dir():
            raise CliError(f"{path}: is a directory, not a config file")
        with file.open("rb") as stream:  # bounded: /dev/zero or a pipe has no size to stat
            data = stream.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            size = max(file.stat().st_size, len(data)) / (1024 * 1024)
            raise CliError(f"{path}: {size:.1f} MB is too large for a LiteLLM config (max 8 MB)")
        return data
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except PermissionError:
        raise CliError(f"{path}: permission denied") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _print_findings(findings: Sequence[Finding], out: TextIO) -> None:
    for finding in findings:
        print(finding.line(), file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    """`validate PATH`: one line per finding; 0 when no errors, 1 when errors."""
    findings = validate_bytes(_read(args.path))
    _print_findings(findings, sys.stdout)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    print(f"{args.path}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return EXIT_FINDINGS if errors else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """`import --dry-run PATH`: the config the Master would hold, every secret shown as ***."""
    if not args.dry_run:
        raise CliError(
            "import without --dry-run writes into a stack's Master and needs a stack profile; "
            "stack profiles arrive with the remote milestone. Use --dry-run to preview."
        )
    text, problem = decode_config_bytes(_read(args.path))
    if problem is not None or text is None:
        _print_findings([problem] if problem else [], sys.stderr)
        return EXIT_FINDINGS
    result = import_config(text)
    _print_findings(result.findings, sys.stderr)
    if has_errors(result.findings) and not result.items:
        return EXIT_FINDINGS
    sys.stdout.write(render(result.items, redact=True))
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="llmproxy-desktop",
        description="Admin for self-hosted LiteLLM gateways. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # The GUI's smoke-test option; declared here so "--quit-after-ms 100" is not read as a command.
    parser.add_argument("--quit-after-ms", type=int, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    validate = commands.add_parser("validate", help="check a LiteLLM config.yaml")
    validate.add_argument("path")
    validate.set_defaults(run=cmd_validate)
    importer = commands.add_parser("import", help="preview the first-boot import of a config")
    importer.add_argument("--dry-run", action="store_true", help="print, write nothing")
    importer.add_argument("path")
    importer.set_defaults(run=cmd_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `llmproxy-desktop` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args, rest = build_parser().parse_known_args(args_list)
        if args.command is None:
            from .ui.app import run_gui  # Qt only when a window is wanted

            if args.quit_after_ms is not None:
                rest = [f"--quit-after-ms={args.quit_after_ms}", *rest]
            return run_gui(rest)
        if rest:
            raise CliError(f"unrecognised arguments: {' '.join(rest)}")
        code: int = args.run(args)
        return code
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last line of defence: one sentence, never a traceback
        print(f"error: unexpected {type(exc).__name__}; please report this.", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
