"""`jiuzhu --help` (CONTRACT §1): every option says what it is for, every command has an
example in the top-level help and in its own."""

import argparse

import pytest

from jiuzhu_sim.cli import build_parser


def _commands(parser, prefix="jiuzhu"):
    """(name, parser) of every command and sub-command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from _commands(sub, f"{prefix} {name}")


COMMANDS = list(_commands(build_parser()))


@pytest.mark.parametrize("name,parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_and_argument_has_help_text(name, parser):
    missing = [a.option_strings[-1] if a.option_strings else a.dest for a in parser._actions
               if not isinstance(a, argparse._SubParsersAction)
               and not (a.help and a.help.strip())]
    assert missing == [], f"{name}: no help for {missing}"


def test_top_level_help_lists_an_example_of_every_command(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    top = [n for n, _ in COMMANDS if n.count(" ") == 1]
    assert len(top) >= 8
    examples = text[text.index("examples:"):]
    assert [n for n in top if f"\n  {n} " not in examples] == []


@pytest.mark.parametrize("name,parser", [c for c in COMMANDS if c[0].count(" ") == 1],
                         ids=[n for n, _ in COMMANDS if n.count(" ") == 1])
def test_each_command_help_ends_with_its_example(name, parser, capsys):
    text = parser.format_help()
    assert "example:" in text and f"\n  {name} " in text[text.index("example:"):]
