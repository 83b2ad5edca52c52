"""README's table of `crawl`/`render` options says the defaults the parser has: the table is what users read."""

import argparse
import re

from conftest import ROOT

from boxcrawl.commands import build_parser, subcommands

# defaults README puts in words, as the parser holds them
IN_WORDS = {
    "none": (None, (), []),
    "by extension": (None,),
    "off": (False,),
    "any": (None,),
    "all": ((),),  # --lang: no filter
    "0 (none)": ("0",),
    "HOST-PID-xxxx": (None,),
    "Chromium's own": (None,),
    "Ray's own": (None,),  # --ray-address: ray.init()'s own search
    "--tabs": (None,),  # --ray-cpus-per-task: one CPU a tab
    "bert-base-uncased (bundled)": (None,),
}


def shown(action: argparse.Action) -> object:
    if isinstance(action, argparse._StoreFalseAction):
        return False  # the flag is off unless given
    value = action.default
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # 0 is not "off"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}x{value[1]}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if value in (None, (), [], False) else str(value)


def table_rows() -> list[tuple[int, list[str], list[str]]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("`crawl` and `render` share these options (`--help` lists them all):")
    rows = []
    for number, line in enumerate(lines[start + 4 :], start + 5):  # after the sentence, a blank, the head
        if not line.startswith("|"):
            break
        names, default = line.split(" | ")[:2]
        options = re.findall(r"`(--[\w-]+)", names)
        values = [v.strip() for v in default.split(" / ")]
        rows.append((number, options, values if len(values) == len(options) else values * len(options)))
    return rows


def crawl_and_render_options() -> dict[str, argparse.Action]:
    commands = subcommands(build_parser())
    return {o: a for name in ("render", "crawl") for a in commands[name]._actions for o in a.option_strings}


def test_every_option_is_in_readme():
    """In the options table, or in the commands table's `crawl`/`render` rows (seeds, --out, --scope, ...)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line.startswith(("| `boxcrawl crawl ", "| `boxcrawl render "))]
    spans = re.findall(r"`([^`]*)`", "".join(rows))
    named = {o for _, options, _ in table_rows() for o in options} | set(re.findall(r"--[\w-]+", " ".join(spans)))
    missing = sorted(o for o in crawl_and_render_options() if o.startswith("--") and o not in named | {"--help"})
    assert not missing, f"crawl/render options README does not describe: {missing}"


def test_the_options_table_says_the_parsers_defaults():
    actions = crawl_and_render_options()
    rows = table_rows()
    assert len(rows) > 25
    wrong = []
    for number, options, values in rows:
        for option, said in zip(options, values):
            assert option in actions, f"README line {number}: {option} is no option of crawl or render"
            if said.startswith("`"):  # an environment variable or a command, not a value
                continue
            has = shown(actions[option])
            if said != has and has not in IN_WORDS.get(said, ()):
                wrong.append(f"README line {number}: {option} says {said!r}, the parser has {has!r}")
    assert not wrong, "\n".join(wrong)
