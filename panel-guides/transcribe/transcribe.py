#!/usr/bin/env python3
"""Transcribe the seed standards into panel guides, word for word.

Usage: python3 panel-guides/transcribe/transcribe.py [SEEDS_DIR] [--out DIR]

SEEDS_DIR defaults to ../shared/seeds (relative to the project root), DIR to panel-guides/ (loaded at start with the other guides: see the README, "Standards").
Python 3.11 standard library only. The statements, performance criteria, knowledge items,
guidance, titles and notes are read from the seed text files; only the small tables below
(ids, the panel, the scale labels, the outcome's pieces the documents do not word) are
written by hand, each quoting where in the document it comes from. Where the structure of a
document has to be interpreted, the parsing function says so with the document's section.

Typographic markup in the seed text (``**bold**``, ``<p>``/``<b>`` tags, the list bullet
``◆``, trailing blanks) is dropped; the words are kept as the documents give them, including
their spelling and spacing slips (e.g. "Licentiate ship", "encouragement , share").
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

CG_FILE = "city-and-guilds-9200-professional-recognition-awards.txt"
NOS_FILE = "nos-lead-manage-involvement-of-key-people.txt"
SVQ_FILE = "svq-housing-level4-assessment-guidance.txt"

# ---------------------------------------------------------------------------------------------
# Hand-written tables
# ---------------------------------------------------------------------------------------------

# Met / not yet met, scale 0-1 (issue 10). C&G section 4, "General guidance on evidence":
# "... to enable the centre assessor to make a judgement that a candidate has competently met
# the standard"; SVQ "Blank recording forms": "... that the performance evidence has been met".
MET_SCALE = [(0, "Not yet met"), (1, "Met")]

# One scoring seat. C&G section 4: "the centre assessor ... make an informed decision as to
# whether all the standards have been met"; SVQ "Who is involved in SVQs?": "the assessor: the
# person who assesses the candidates and decides if they are competent" (the Internal Verifier
# ensures assessors apply the standards uniformly: not a scoring seat). The NOS names no
# assessor: one assessor judges it as the other two (decision of the transcriber).
ONE_SEAT = ["independent_assessor"]

# C&G: per level, the guide id and the handbook's pages ("5 Standards": Level 4 pg 17 ...).
CG_LEVELS = {4: "cg-9200-l4", 5: "cg-9200-l5", 6: "cg-9200-l6", 7: "cg-9200-l7"}

# C&G evidence kinds (section 4, "Building a portfolio of evidence" and "Other types of
# evidence ..."): id, the handbook's heading, and a phrase whose sentence in the handbook is
# used as the description.
CG_EVIDENCE = [
    ("reflective_account", "Reflective account",
     "The reflective account must address each of the competency statements"),
    ("work_related_project", "Work related project", "A work-related project report such as"),
    ("training_record", "Training record and certificates of attendance/completion",
     "Certificates can only be used as evidence"),
    ("qualifications", "Qualifications", "Qualifications may be used as recognised prior"),
    ("minutes_of_meetings", "Minutes of meetings", "Minutes can only be used as evidence"),
    ("professional_discussion", "Professional discussions",
     "it may be appropriate for the assessor to ask"),
    ("expert_witness_testimony", "Expert Witness Testimony",
     "Where an account is given to meet a standard statement"),
    ("q_and_a", "Q & A", "it may be appropriate for the assessor to ask"),
]

# C&G gateway (section 3 "Candidate entry requirements", "Awards at a glance", section 4
# "Authenticity of Evidence"): id, title (hand-written), phrase of the handbook's sentence.
CG_GATEWAY = [
    ("age_group", "Age group approved 18+", "Age group approved\t18+"),
    ("professional_activity", "Entry requirement 1",
     "The ability to understand and practise a technical or professional activity"),
    ("occupational_currency", "Entry requirement 2",
     "Have current occupational currency with the ability to demonstrate"),
    ("authenticity_declaration", "Authenticity of Evidence",
     "The candidate is required to make a declaration that the evidence is their own work"),
]

# NOS: the seed has no title line; the title is the standard's name as the seed file and
# issue 10 give it.
NOS_ID = "nos-lead-manage-involvement-of-key-people"
NOS_TITLE = "Lead and manage the involvement of key people"

# SVQ: the mandatory units ("Structure of the SVQ", "Mandatory Units": H4 01, H4 02, H3 03).
SVQ_ID = "svq-housing-l4"
SVQ_MANDATORY = ["H4 01", "H4 02", "H3 03"]
# "Blank recording forms": id, the form's heading in the guidance.
SVQ_FORMS = [
    ("personal_statement", "Personal statement"),
    ("observation_record", "Observation record"),
    ("witness_testimony", "Witness testimony"),
    ("record_of_questions_and_answers", "Record of questions and candidate's answers"),
]


# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------

def clean(text: str) -> str:
    """Drop typographic markup, keep the words."""
    text = text.replace("\\*", "*")
    text = re.sub(r"\*\*|</?b>|</?p>|\[bookmark: [^\]]*\]", "", text)
    text = text.replace("◆ ", "").replace("◆", "")
    text = re.sub(r"^#+\s*", "", text)
    text = text.strip().strip("*").strip()
    return re.sub(r"[ \t]+$", "", text)


def paragraphs(lines: list[str]) -> list[str]:
    """Non-empty lines, cleaned (each line of the seeds is one paragraph or list item)."""
    return [c for c in (clean(line) for line in lines) if c]


def sentence(text: str, phrase: str) -> str:
    """The handbook's sentence containing `phrase` (word for word)."""
    at = text.find(phrase)
    if at < 0:
        sys.exit(f"phrase not found in seed: {phrase!r}")
    start = max(text.rfind(". ", 0, at) + 2, text.rfind("\n", 0, at) + 1)
    ends = [e for e in (text.find(". ", at), text.find(".\n", at), text.find("\n", at)) if e >= 0]
    end = min(ends) if ends else len(text)
    s = text[start:end].strip()
    return clean(s if s.endswith(".") or text[end:end + 1] != "." else s + ".")


def toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + "".join(f"  {value(x)},\n" for x in v) + "]"
    raise TypeError(v)


def table(header: str, fields: dict) -> str:
    body = "".join(f"{k} = {value(v)}\n" for k, v in fields.items() if v is not None)
    return f"\n{header}\n{body}"


def render(g: dict) -> str:
    out = [f"# {g['comment']}\n# Generated by panel-guides/transcribe/transcribe.py from ../shared/seeds: "
           "do not edit by hand.\n"]
    out.append("".join(f"{k} = {value(g[k])}\n"
                       for k in ("id", "title", "version", "level", "source", "description")
                       if g.get(k) is not None))
    out.append(table("[panel]", g["panel"]))
    out.append("\n[scale]\nmin = 0\nmax = 1\n")
    for score, label in MET_SCALE:
        out.append(table("[[scale.descriptors]]", {"score": score, "label": label}))
    for c in g["components"]:
        out.append(table("[[components]]", c))
    for gr in g["grades"]:
        out.append(table("[[grading.grades]]", gr))
    for section in ("kinds", "groups", "notes", "evidence_kinds", "gateway"):
        for item in g.get(section, []):
            out.append(table(f"[[{section}]]", item))
    if g.get("outcome"):
        out.append(table("[outcome]", g["outcome"]))
    for c in g["criteria"]:
        out.append(table("[[criteria]]", c))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# City & Guilds 9200 Professional Recognition Awards Handbook
# ---------------------------------------------------------------------------------------------

def cg_standards(lines: list[str]) -> dict[int, list[dict]]:
    """Section 5 "Standards": one block per "The Level N Award - Standard M" heading, up to
    "Appendix 1". In each block (as every page of section 5 is laid out): the standard's title,
    its summary line, "Standard Statements", "The candidate will[:]", the numbered statements
    ("1.1 ..."; Level 5 Standard 1 gives them on one line in <p> tags), "Additional guidance",
    then guidance paragraphs. A guidance paragraph starting with a statement's number starts
    that statement's guidance; a paragraph without a number belongs to the numbered one before
    it (the handbook's guidance boxes run on that way), and one starting in lower case or with
    "- " continues the paragraph before it (a page or list break)."""
    start = next(i for i, l in enumerate(lines) if l.startswith("The Level 4 Award - Standard 1"))
    end = next(i for i, l in enumerate(lines) if l.startswith("Appendix 1 Sources"))
    levels: dict[int, list[dict]] = {}
    block = None
    for line in lines[start:end]:
        m = re.match(r"The Level (\d) Award - Standard (\d)\s*$", line)
        if m:
            block = {"level": int(m.group(1)), "number": int(m.group(2)), "lines": []}
            levels.setdefault(block["level"], []).append(block)
        else:
            block["lines"].append(line)
    for blocks in levels.values():
        for b in blocks:
            raw = "\n".join(b.pop("lines"))
            raw = re.sub(r"</p>\s*<p>", "\n", raw)
            paras = paragraphs(raw.split("\n"))
            b["title"], b["summary"] = paras[0], paras[1]
            i_stmt = paras.index("Standard Statements")
            i_guid = paras.index("Additional guidance")
            assert paras[i_stmt + 1].startswith("The candidate will"), paras[i_stmt + 1]
            b["statements"] = []
            for p in paras[i_stmt + 2:i_guid]:
                m = re.match(r"(\d)\.(\d+) (.*)$", p)
                assert m and int(m.group(1)) == b["number"], p
                b["statements"].append({"n": f"{m.group(1)}.{m.group(2)}", "text": m.group(3),
                                        "guidance": []})
            by_n = {s["n"]: s for s in b["statements"]}
            current = None
            for p in paras[i_guid + 1:]:
                m = re.match(r"(\d\.\d+) (.*)$", p)
                if m and m.group(1) in by_n:
                    current = by_n[m.group(1)]
                    current["guidance"].append(m.group(2))
                elif current is None:
                    sys.exit(f"C&G level {b['level']} standard {b['number']}: guidance before "
                             f"any statement: {p[:60]}")
                elif p[0].islower() or p.startswith("- "):
                    sep = "\n" if p.startswith("- ") else " "
                    current["guidance"][-1] += sep + p
                else:
                    current["guidance"].append(p)
    return levels


def cg_guides(text: str) -> dict[str, str]:
    lines = text.split("\n")
    levels = cg_standards(lines)
    # "Awards at a glance": "City & Guilds Level 4 Award for Professional Recognition\t9200-01\t600/6106/6"
    titles = {int(m.group(1)): (m.group(0).split("\t")[0], m.group(2), m.group(3))
              for m in re.finditer(r"City & Guilds Level (\d) Award for Professional Recognition"
                                   r"\t(9200-0\d)\t(\S+)", text)}
    # Section 1 "The levels of Professional Recognition Awards": "Licentiate ship (LCGI)\tLevel 4"
    awards = {int(m.group(2)): m.group(1)
              for m in re.finditer(r"^(\w[\w ]* \([A-Za-z]+\))\tLevel (\d)\s*$", text, re.M)}
    # Section 3: "Level 4 – the candidate would typically:" and its list.
    descriptors = {}
    for lv in CG_LEVELS:
        i = next(i for i, l in enumerate(lines) if l.startswith(f"Level {lv} – the candidate"))
        items = [clean(lines[i])]
        for l in lines[i + 1:]:
            if l.startswith("Level ") or l.startswith("*** ") or l.startswith("4 Delivering"):
                break
            if l.startswith("- "):
                items.append(clean(l))
        descriptors[lv] = "\n".join(items)
    footnote = clean(next(l for l in lines if l.startswith("*** Professional standards")))
    assessment = sentence(text, "To achieve a Professional Recognition Award a candidate must")
    achieve = sentence(text, "To achieve an award the candidate must provide evidence for the 6")
    on_success = (sentence(text, "The awards are offered in industrial, business and professional")
                  + " " + sentence(text, "Further information about the ceremonies"))
    on_failure = sentence(text, "It is unlikely that one piece of evidence will meet every")
    # "Useful contacts": the UK candidates' lines.
    i = next(i for i, l in enumerate(lines) if l.startswith("**UK candidates"))
    contact = " ".join(clean(l) for l in lines[i:i + 8] if clean(l))
    evidence = [{"id": eid, "title": title, "description": sentence(text, phrase)}
                for eid, title, phrase in CG_EVIDENCE]
    gateway = []
    for gid, title, phrase in CG_GATEWAY:
        if "\t" in phrase:
            desc = clean(phrase.replace("\t", " "))
            assert phrase in text, phrase
        else:
            desc = sentence(text, phrase)
        gateway.append({"id": gid, "title": title, "description": desc})

    out = {}
    for lv, gid in CG_LEVELS.items():
        title, number, qan = titles[lv]
        std = levels[lv]
        assert len(std) == 6, (lv, len(std))
        guide = {
            "comment": f"Panel guide: {title} ({number}), transcribed from the City & Guilds 9200 "
                       "Professional Recognition Awards Handbook",
            "id": gid, "title": title, "version": "1", "level": lv,
            "source": "City & Guilds 9200 Professional Recognition Awards Handbook, March 2012 "
                      f"Version 1.2 (Apr 2013): Awards at a glance; 1 Introduction; 3 Candidate entry "
                      f"requirements; 4 Delivering the Professional Recognition Awards; 5 Standards "
                      f"(The Level {lv} Award - Standards 1-6); Useful contacts",
            "description": f"City & Guilds number {number}, QAN {qan}. {assessment}",
            "panel": {"seats": ONE_SEAT, "viva_required": False},
            "components": [{"id": "portfolio", "title": "Portfolio of Evidence", "weight": 100,
                            "description": assessment, "interview": False}],
            "grades": [{"name": "Not yet achieved"},
                       {"name": "Achieved", "min_each": 1, "description": achieve}],
            "kinds": [{"id": "standard_statement", "title": "Standard statement"}],
            "groups": [{"id": f"standard-{s['number']}",
                        "title": f"Standard {s['number']}: {s['title']}",
                        "description": s["summary"]} for s in std],
            "notes": [{"title": f"Level {lv} descriptor", "text": descriptors[lv]},
                      {"title": "Professional standards", "text": footnote}],
            "evidence_kinds": evidence,
            "gateway": gateway,
            "outcome": {"award": awards[lv], "on_success": on_success,
                        "on_failure": on_failure, "contact": contact},
            "criteria": [{"id": f"{lv}.{st['n']}", "kind": "standard_statement",
                          "area": s["title"], "group": f"standard-{s['number']}",
                          "requirement": st["text"], "indicators": st["guidance"],
                          "methods": ["portfolio"], "level": lv}
                         for s in std for st in s["statements"]],
        }
        out[f"{gid}.toml"] = render(guide)
    return out


# ---------------------------------------------------------------------------------------------
# NOS: Lead and manage the involvement of key people
# ---------------------------------------------------------------------------------------------

def nos_guide(text: str) -> dict[str, str]:
    """The seed's layout: the overview line, then for the performance criteria a section
    heading line followed by its "Pn ..." lines; " Knowledge and understanding"; then section
    headings each followed by "Kn ..." lines; then "Scope/range related to performance
    criteria", "Scope/range relating to knowledge and understanding" and "Values" blocks. A
    non-empty line that is not an item and comes before the first scope block is the heading
    of the items that follow it."""
    lines = text.split("\n")
    overview = clean(lines[0])
    groups, criteria = [], []
    heading = None
    i_scope = next(i for i, l in enumerate(lines) if "Scope/range related to performance" in l)
    for line in lines[1:i_scope]:
        c = clean(line)
        if not c or c == "Knowledge and understanding":
            continue
        m = re.match(r"([PK])(\d+) (.*)$", c)
        if m:
            kind = "performance_criterion" if m.group(1) == "P" else "knowledge_statement"
            criteria.append({"id": f"{m.group(1)}{m.group(2)}", "kind": kind, "area": heading["title"],
                             "group": heading["id"], "requirement": m.group(3),
                             "methods": ["portfolio"]})
        else:
            n = len(groups) + 1
            heading = {"id": f"section-{n}", "title": c}
            groups.append(heading)
    for g in groups:
        first = next(c for c in criteria if c["group"] == g["id"])
        g["description"] = ("Performance criteria" if first["kind"] == "performance_criterion"
                            else "Knowledge and understanding")
    i_scope_k = next(i for i, l in enumerate(lines) if "Scope/range relating to knowledge" in l)
    i_values = next(i for i, l in enumerate(lines) if l.strip() == "Values")
    notes = [
        {"title": "Overview", "text": overview},
        {"title": clean(lines[i_scope]), "text": "\n\n".join(paragraphs(lines[i_scope + 1:i_scope_k]))},
        {"title": clean(lines[i_scope_k]), "text": "\n\n".join(paragraphs(lines[i_scope_k + 1:i_values]))},
        {"title": "Values", "text": "\n".join(paragraphs(lines[i_values + 1:]))},
    ]
    guide = {
        "comment": f"Panel guide: National Occupational Standard \"{NOS_TITLE}\", transcribed from the NOS text",
        "id": NOS_ID, "title": NOS_TITLE, "version": "1", "level": None,
        "source": "National Occupational Standard: lead and manage the involvement of key people "
                  "(seed text): overview; performance criteria P1-P28 in three sections; knowledge "
                  "and understanding K1-K107 in fourteen sections; scope/range related to performance "
                  "criteria; scope/range relating to knowledge and understanding; values",
        "description": overview,
        # The NOS names no assessment method or assessor: one assessor judges each performance
        # criterion and knowledge statement met / not yet met on a portfolio of evidence.
        "panel": {"seats": ONE_SEAT, "viva_required": False},
        "components": [{"id": "portfolio", "title": "Portfolio of evidence", "weight": 100,
                        "description": "Evidence of practice against the performance criteria and "
                                       "knowledge and understanding (the NOS prescribes no method).",
                        "interview": False}],
        "grades": [{"name": "Not yet achieved"},
                   {"name": "Achieved", "min_each": 1,
                    "description": "Every performance criterion and knowledge statement met."}],
        "kinds": [{"id": "performance_criterion", "title": "Performance criterion"},
                  {"id": "knowledge_statement", "title": "Knowledge statement"}],
        "groups": groups,
        "notes": notes,
        "criteria": criteria,
    }
    return {f"{NOS_ID}.toml": render(guide)}


# ---------------------------------------------------------------------------------------------
# SVQ in Housing at level 4 (G9FK 24): Assessment Guidance
# ---------------------------------------------------------------------------------------------

def svq_unit(lines: list[str], code: str) -> tuple[dict, list[dict], list[dict]]:
    """One mandatory unit, from its "## **H4 01 ...**" heading to "## Evidence requirements"
    (or the next unit / "# Optional Units"). Within it, as the guidance lays each unit out:
    "Overview of Unit" paragraphs (the group's description); "Performance Criteria" (H3 03:
    "Performance evidence") with items "- n text"; "Behaviours which underpin effective
    performance" with "- n text"; "Knowledge and understanding" with sub-headings (General /
    Industry/sector specific / Context specific knowledge and understanding; H3 03: lead-in
    sentences ending in ':') and items "- a text", nested "  - " lines belonging to the item
    before. Paragraphs in the knowledge part that are neither heading nor item (H3 03) go to a
    note."""
    start = next(i for i, l in enumerate(lines) if re.match(rf"## \*\*{code} ", l))
    end = next(i for i in range(start + 1, len(lines))
               if re.match(r"## \*\*H\d \d\d |# Optional Units|## (\*\*)?Evidence requirements", lines[i]))
    body = lines[start:end]
    title = clean(body[0])
    uid = code.replace(" ", "-")
    overview, items, extra = [], [], []
    section = None  # "overview" | "pc" | "behaviour" | "knowledge"
    area = None
    counters: dict[str, int] = {}
    for raw in body[1:]:
        if not raw.strip():
            continue
        c = clean(raw)
        low = c.lower().rstrip(":")
        if raw.startswith("Note: "):
            continue
        if low == "overview of unit":
            section = "overview"
            continue
        if low in ("performance criteria", "performance evidence"):
            section, area = "pc", c.rstrip(":")
            continue
        if low.startswith("behaviours which underpin"):
            section, area = "behaviour", c.rstrip(":")
            continue
        if low == "knowledge and understanding":
            section, area = "knowledge", c
            continue
        if section == "overview":
            overview.append(c)
            continue
        m = re.match(r"- (\d+|[a-z]) (.*)$", raw.strip()) if raw.startswith("- ") else None
        if raw.startswith("  - ") and items:
            items[-1]["requirement"] += "\n- " + clean(raw.strip()[2:])
            continue
        if m:
            key, text = m.group(1), clean(m.group(2))
            if section == "pc":
                items.append({"id": f"{uid}.PC{key}", "kind": "performance_criterion", "area": area,
                              "group": uid, "requirement": text, "methods": ["portfolio"]})
            elif section == "behaviour":
                items.append({"id": f"{uid}.B{key}", "kind": "behaviour", "area": area,
                              "group": uid, "requirement": text, "methods": ["portfolio"]})
            else:
                prefix = counters[area]
                items.append({"id": f"{uid}.K{prefix}-{key}", "kind": "knowledge_item",
                              "area": area, "group": uid, "requirement": text,
                              "methods": ["portfolio"]})
            continue
        if raw.startswith("- ") and section == "knowledge":
            # "◆ major competitors ..." (H3 03: bullets without a letter, after "aware of:")
            n = sum(1 for it in items if it["area"] == area) + 1
            items.append({"id": f"{uid}.K{counters[area]}-{n}", "kind": "knowledge_item",
                          "area": area, "group": uid, "requirement": c, "methods": ["portfolio"]})
            continue
        if section == "knowledge":
            if c.endswith(":") or "knowledge and understanding" in low:
                area = c.rstrip(":")
                counters[area] = len(counters) + 1
            else:
                extra.append(c)
            continue
        if section in ("pc", "behaviour"):
            continue  # "You must be able to do the following:" lead-ins
        sys.exit(f"SVQ {code}: unplaced line {c[:60]}")
    # A lead-in that no item follows (H3 03: "You will have a full appreciation ...") is text
    # for the panel, not a heading.
    empty = [a for a in counters
             if not any(it["area"] == a for it in items) and "know and understand" not in a]
    extra = empty + extra
    group = {"id": uid, "title": title, "description": "\n\n".join(overview)}
    notes = [{"title": f"{title}: knowledge and understanding", "text": "\n\n".join(extra)}] if extra else []
    return group, items, notes


def svq_guide(text: str) -> dict[str, str]:
    lines = text.split("\n")
    title = clean(next(l for l in lines if l.startswith("# **Assessment Guidance")))
    award = title.replace("Assessment Guidance for the ", "")
    groups, criteria, notes = [], [], []
    # "Who is involved in SVQs?": the roles, for the panel.
    i = next(i for i, l in enumerate(lines) if l.startswith("## Who is involved in SVQs?"))
    j = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("## "))
    notes.append({"title": "Who is involved in SVQs?", "text": "\n".join(paragraphs(lines[i + 1:j]))})
    # "Structure of the SVQ": the framework and the rule for the optional units.
    i = next(i for i, l in enumerate(lines) if l.startswith("## SVQ in Housing level 4 Framework"))
    j = next(k for k, l in enumerate(lines) if l.startswith("#### Theme 1"))
    notes.append({"title": clean(lines[i]), "text": "\n".join(paragraphs(lines[i + 1:j]))})
    for code in SVQ_MANDATORY:
        g, items, n = svq_unit(lines, code)
        groups.append(g)
        criteria.extend(items)
        notes.extend(n)
    rule = sentence(text, "In order to achieve this Unit, the candidate must demonstrate")
    rule2 = sentence(text, "This means all of the stated Outcomes and behaviours")
    # "Blank recording forms": each form's field labels as its description.
    forms = []
    i_forms = next(i for i, l in enumerate(lines) if l.startswith("# Blank recording forms"))
    heads = {clean(lines[k]): k for k in range(i_forms, len(lines)) if lines[k].startswith("#")}
    order = sorted(heads.values())
    for fid, ftitle in SVQ_FORMS:
        key = next(h for h in heads if h.lower().startswith(ftitle.lower()))
        k = heads[key]
        nxt = next((o for o in order if o > k), len(lines))
        labels = [re.sub(r"\s+", " ", p).strip() for p in paragraphs(lines[k + 1:nxt])]
        labels = [l.replace("\t", "; ") for l in labels]
        forms.append({"id": fid, "title": key, "description": "; ".join(labels)})
    on_failure = sentence(text, "You should treat assessment plans as working documents")
    guide = {
        "comment": f"Panel guide: {award}, mandatory units, transcribed from the SQA assessment guidance",
        "id": SVQ_ID, "title": award, "version": "1", "level": 4,
        "source": f"{title}, SQA, November 2009 (DB5162): Who is involved in SVQs?; Structure of the "
                  "SVQ; Mandatory Units (H4 01, H4 02, H3 03); Blank recording forms",
        "description": "The mandatory units of the SVQ: performance criteria, behaviours which "
                       "underpin effective performance, and knowledge and understanding.",
        "panel": {"seats": ONE_SEAT, "viva_required": False},
        "components": [{"id": "portfolio", "title": "Workplace evidence", "weight": 100,
                        "description": sentence(text, "Evidence will normally be gathered in the wor"),
                        "interview": False}],
        "grades": [{"name": "Not yet achieved"},
                   {"name": "Achieved", "min_each": 1, "description": f"{rule} {rule2}"}],
        "kinds": [{"id": "performance_criterion", "title": "Performance criterion"},
                  {"id": "knowledge_item", "title": "Knowledge and understanding"}],
        "groups": groups,
        "notes": notes,
        "evidence_kinds": forms,
        "outcome": {"award": award, "on_failure": on_failure,
                    "contact": "Scottish Qualifications Authority, www.sqa.org.uk"},
        "criteria": criteria,
    }
    return {f"{SVQ_ID}.toml": render(guide)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("seeds", nargs="?", default=str(ROOT.parent / "shared" / "seeds"))
    ap.add_argument("--out", default=str(ROOT / "panel-guides"))
    args = ap.parse_args()
    seeds, out = pathlib.Path(args.seeds), pathlib.Path(args.out)
    files = {}
    files.update(cg_guides((seeds / CG_FILE).read_text(encoding="utf-8")))
    files.update(nos_guide((seeds / NOS_FILE).read_text(encoding="utf-8")))
    files.update(svq_guide((seeds / SVQ_FILE).read_text(encoding="utf-8")))
    out.mkdir(parents=True, exist_ok=True)
    for name, body in sorted(files.items()):
        (out / name).write_text(body, encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
