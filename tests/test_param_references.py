"""Every quoted Chinese phrase in a parameter's ``reference`` occurs in the seed it names
(issue 16; STYLE: "reference = seed document number with a phrase the seed really contains").

A reference names a seed by its tag ``(000)`` … ``(004)`` or by the seed's own document
number. Quoted phrases are the text in 「」 or “”, and the text after '：' (up to '；', ' (' or
the end). Phrases are compared with whitespace removed and half-width punctuation read as
full-width (the seeds mix both: 001 writes "(含三、四级…)"). The seeds live in
``../shared/seeds/`` beside the repository (CI clones shared/ there), else /work/shared/seeds.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SEED_DIRS = (REPO.parent / "shared" / "seeds", Path("/work/shared/seeds"))
# each seed's own document numbers, read off its first page by hand
SEED_NUMBERS = {
    "000": ("狮民〔2022〕51号",),
    "001": ("龙政〔2022〕63号",),
    "002": ("永福县民政局2023",),
    "003": ("南民救助〔2020〕23号", "泉民保〔2020〕2号", "闽民救〔2020〕20号"),
    "004": ("龙政办〔2021〕65号",),
}
_HALF_TO_FULL = str.maketrans({"(": "（", ")": "）", ",": "，", ":": "：", ";": "；",
                               "!": "！", "?": "？"})
_QUOTES = re.compile(r"[\"'“”‘’「」]")


def _seeds_dir() -> Path | None:
    return next((d for d in SEED_DIRS if d.is_dir() and any(d.glob("00*.txt"))), None)


def normalize(text: str) -> str:
    return _QUOTES.sub("", re.sub(r"\s+", "", text)).translate(_HALF_TO_FULL)


def seeds_named(reference: str) -> set[str]:
    named = set(re.findall(r"[(（](00[0-4])[)）]", reference))
    named |= {seed for seed, numbers in SEED_NUMBERS.items()
              if any(number in reference for number in numbers)}
    return named


def quoted_phrases(reference: str) -> list[str]:
    """The Chinese phrases a reference quotes (see the module docstring)."""
    phrases = re.findall(r"「([^」]+)」", reference) + re.findall(r"“([^”]+)”", reference)
    for after in re.findall(r"：(.*)", reference):
        if after.startswith(("「", "“")):
            continue
        phrase = re.split(r"；|; | \(| — |「", after)[0]
        phrase = re.split(r" (?=[A-Za-z])", phrase)[0].strip()
        phrases.append(phrase)
    return [p for p in phrases if re.search(r"[\u4e00-\u9fff]", p)]


def _references(params_dir: Path):
    """(file, key, reference) for every reference in params/ (YAML at any depth, CSV rows)."""
    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "reference" and isinstance(value, str):
                    yield where, value
                else:
                    yield from walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, f"{where}[{i}]")

    for path in sorted(params_dir.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for where, ref in walk(doc, ""):
            yield str(path.relative_to(params_dir.parent)), where, ref
    for path in sorted(params_dir.rglob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row_no, row in enumerate(csv.DictReader(fh), start=1):
                if row.get("reference"):
                    yield str(path.relative_to(params_dir.parent)), f"row {row_no}", \
                        row["reference"]


def test_phrase_extraction_finds_what_a_reference_quotes():
    ref = "狮民〔2022〕51号 (000) 二(二)：个人自付医疗费用超过4万元以上对象 (001 uses 4.2万)"
    assert seeds_named(ref) == {"000"}
    assert quoted_phrases(ref) == ["个人自付医疗费用超过4万元以上对象"]
    ref = "龙政办〔2021〕65号 (004) 四：「列支比例不低于5%」；「3%以内列支」"
    assert seeds_named(ref) == {"004"} and quoted_phrases(ref) == ["列支比例不低于5%",
                                                                   "3%以内列支"]
    assert quoted_phrases("assumption: no seed") == []
    # half-width brackets and spaces of a seed still match
    assert normalize("重度残疾人(含三、四级智力、精神残疾)") in normalize(
        "符合政策的重度残疾人 (含三、四级智力、精神残疾)、重病人员")


def test_every_quoted_phrase_occurs_in_the_seed_it_names():
    seeds_dir = _seeds_dir()
    if seeds_dir is None:
        pytest.skip(f"seed documents not found (looked in {', '.join(map(str, SEED_DIRS))})")
    seeds = {p.name[:3]: normalize(p.read_text(encoding="utf-8"))
             for p in seeds_dir.glob("00*.txt")}
    checked, wrong = 0, []
    for file, key, ref in _references(REPO / "params"):
        named = seeds_named(ref)
        if not named:
            continue
        for phrase in quoted_phrases(ref):
            checked += 1
            if not any(normalize(phrase) in seeds[s] for s in named if s in seeds):
                wrong.append(f"{file} {key}: 「{phrase}」 is not in seed {sorted(named)}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 20  # the check ran over the seed-based references


def test_no_national_default_cites_a_regions_seed():
    """POLICY.md §10: a national default is a national rule or an assumption, never another
    region's rule — a params/national reference that names a seed must be an assumption."""
    offenders = [f"{file} {key}" for file, key, ref in _references(REPO / "params")
                 if file.startswith("params/national/") and seeds_named(ref)
                 and not ref.lower().startswith("assumption")]
    assert not offenders, "\n".join(offenders)
