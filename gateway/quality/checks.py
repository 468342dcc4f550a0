"""The quality checks: one finished call's two legs (speaker-labelled, timed transcript segments), its
call record and the ticket the agent wrote → findings, each with evidence (the words, which leg, the
time in the recording) and a severity. Pure CPU work; the service runs it in a worker thread.

Service conduct: greeting, closing, forbidden words, talking over the citizen (both legs speaking at
once), long unannounced silences, holds, a transfer the citizen was not told of.
Ticket against what was said: category or urgency lowered, a place, time or person the citizen gave
that the ticket lacks (found by the understanding layer's LAC tagger, place finder and time parser),
emergency words without emergency handling, an out-of-scope matter accepted, and an on-call answer
(直接答复) that contradicts the knowledge-base entry it was quoted from (numbers with their units, or
a 需要/不需要-style polarity that differs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from gateway.quality.rules import Rules
from gateway.understanding.emergency import detect_emergency
from gateway.understanding.normalise import normalise
from gateway.understanding.scope import out_of_scope

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Segment:
    speaker: str  # "citizen" | "agent"
    start: float  # seconds into the recording
    end: float
    text: str


@dataclass(frozen=True)
class TicketFacts:
    number: str
    category: str
    urgent: bool
    content: str
    location: str = ""
    caller_name: str = ""
    elements: dict[str, Any] = field(default_factory=dict)
    rejected: bool = False  # 不予受理 (e.g. out of scope, redirected)
    resolved_on_call: bool = False
    reply_text: str = ""

    def text(self) -> str:
        parts = [self.content, self.location, self.caller_name, self.reply_text]
        parts += [str(v) for v in self.elements.values() if v]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Material:
    call_id: str
    segments: tuple[Segment, ...]
    call_time: datetime
    holds: int = 0
    on_hold_seconds: float = 0
    transferred: bool = False
    emergency_handled: bool = False  # sent to 110/119/120/122 (handoff or transfer), or an urgent ticket
    ticket: TicketFacts | None = None
    kb_answers: tuple[tuple[str, str], ...] = ()  # (entry id, answer) of the entries in force


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    speaker: str | None = None
    text: str = ""  # the evidence: the words as transcribed
    start: float | None = None  # seconds into the recording
    end: float | None = None

    @property
    def key(self) -> str:
        """Stable across re-runs of the same material: what keeps a supervisor's verdict attached."""
        return f"{self.check}@{self.start if self.start is not None else '-'}"


# What the ticket-side checks need from the understanding layer: places, times, people in a text.
@dataclass(frozen=True)
class Mentions:
    places: list[str]
    times: list[str]
    people: list[str]
    intervals: list[tuple[str, ...] | None] = field(default_factory=list)  # each time's [from, to], ISO

    def time_known(self, interval: tuple[str, ...] | None) -> bool:
        """An interval overlapping one of these times: 昨天晚上八点 said, 12月3日20时 written."""
        return interval is not None and any(i is not None and i[0] <= interval[1] and interval[0] <= i[1]
                                            for i in self.intervals)


Extractor = Callable[[str, datetime], Mentions]


def inspect(material: Material, rules: Rules, extract: Extractor | None = None) -> list[Finding]:
    findings = _conduct(material, rules)
    if material.ticket is not None:
        findings += _ticket(material, material.ticket, rules, extract)
    return findings


def score(findings: list[Finding], rules: Rules) -> float:
    """100 − Σ weight(check) × factor(severity), never below 0 (rules.toml documents the weights)."""
    lost = sum(rules.weights[f.check] * rules.severity_factor[f.severity] for f in findings)
    return round(max(0.0, 100.0 - lost), 1)


# ---- service conduct ---------------------------------------------------------------------------------


def _said(segments: list[Segment], phrases: tuple[str, ...]) -> tuple[Segment, str] | None:
    for s in segments:
        compact = _compact(s.text)
        for p in phrases:
            if _compact(p) in compact:
                return s, p
    return None


def _compact(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?：:；;]", "", text)


def _conduct(m: Material, rules: Rules) -> list[Finding]:
    out: list[Finding] = []
    agent = [s for s in m.segments if s.speaker == "agent"]
    citizen = [s for s in m.segments if s.speaker == "citizen"]
    if agent:
        first = agent[0].start
        opening = [s for s in agent if s.start <= first + rules.greeting_within]
        if _said(opening, rules.greeting) is None:
            out.append(Finding("greeting", "low", "没有规范问候语", "agent", agent[0].text, agent[0].start,
                               agent[0].end))
        last = agent[-1].end
        ending = [s for s in agent if s.end >= last - rules.closing_window]
        # A transfer announced as the agent's last words (请不要挂机，正在为您转接) stands in for a farewell.
        handed_over = m.transferred and _said(agent[-1:], rules.announce_transfer) is not None
        if not handed_over and _said(ending, rules.closing) is None:
            out.append(Finding("closing", "low", "没有规范结束语", "agent", agent[-1].text, agent[-1].start,
                               agent[-1].end))
    for s in agent:
        compact = _compact(s.text)
        for word in rules.forbidden:
            if _compact(word) in compact:
                out.append(Finding("forbidden_words", "high", f"服务禁语：{word}", "agent", s.text, s.start, s.end))
                break
    for a in agent:
        for c in citizen:
            # The agent cut in: started while the citizen was speaking, and both went on together.
            if c.start < a.start < c.end and min(a.end, c.end) - a.start >= rules.overlap_seconds:
                out.append(Finding("talk_over", "medium", f"抢话：与市民同时说话 {min(a.end, c.end) - a.start:.1f} 秒",
                                   "agent", a.text, a.start, min(a.end, c.end)))
                break
    out += _silences(m, agent, rules)
    if m.holds > rules.max_holds or m.on_hold_seconds > rules.max_hold_seconds:
        out.append(Finding("holds", "medium", f"保持 {m.holds} 次，共 {m.on_hold_seconds:.0f} 秒"))
    if m.transferred and _said(agent, rules.announce_transfer) is None:
        final = agent[-1] if agent else None
        out.append(Finding("transfer_unannounced", "medium", "转接前没有告知市民", "agent",
                           final.text if final else "", final.start if final else None,
                           final.end if final else None))
    return out


def _silences(m: Material, agent: list[Segment], rules: Rules) -> list[Finding]:
    out = []
    ordered = sorted(m.segments, key=lambda s: s.start)
    spoken_until = ordered[0].end if ordered else 0.0
    previous: Segment | None = ordered[0] if ordered else None
    for s in ordered[1:]:
        gap = s.start - spoken_until
        if gap > rules.silence_seconds and previous is not None:
            wait = rules.announce_wait if previous.speaker == "agent" else rules.citizen_wait
            announced = _said([previous], wait) is not None
            if not announced:
                out.append(Finding("long_silence", "low", f"冷场 {gap:.0f} 秒", previous.speaker, previous.text,
                                   spoken_until, s.start))
        if s.end > spoken_until:
            spoken_until, previous = s.end, s
    return out


# ---- ticket against what was said ---------------------------------------------------------------------


def _ticket(m: Material, t: TicketFacts, rules: Rules, extract: Extractor | None) -> list[Finding]:
    out: list[Finding] = []
    citizen = [s for s in m.segments if s.speaker == "citizen"]
    order = rules.category_order
    for category, words in rules.category_said.items():
        hit = _naming(citizen, words, rules.category_asked)
        if hit is None or category not in order or t.category not in order:
            continue
        if order.index(t.category) > order.index(category):
            s, word = hit
            out.append(Finding("category_lowered", "high", f"市民说“{word}”，工单分类为 {t.category}",
                               "citizen", s.text, s.start, s.end))
            break
    emergency = None
    for s in citizen:
        found = detect_emergency(normalise(s.text))
        if found is not None and found.confidence >= rules.emergency_min_confidence:
            emergency = (s, found)
            break
    if emergency is not None and not m.emergency_handled:
        s, found = emergency
        message = f"听到紧急情况（{found.service}：{found.evidence}）但未按紧急处置"
        out.append(Finding("emergency_unhandled", "high", message, "citizen", s.text, s.start, s.end))
    elif not t.urgent and (hit := _affirmed(citizen, rules.urgent_said)) is not None and emergency is None:
        s, word = hit
        out.append(Finding("urgency_lowered", "medium", f"市民说“{word}”，工单未标紧急", "citizen", s.text,
                           s.start, s.end))
    if not t.rejected:
        for s in citizen:
            scope = out_of_scope(normalise(s.text))
            if scope is not None and scope.confidence >= rules.scope_min_confidence:
                out.append(Finding("out_of_scope_accepted", "medium", f"非受理范围（{scope.reason}）却受理",
                                   "citizen", s.text, s.start, s.end))
                break
    if extract is not None:
        out += _missing(citizen, t, m.call_time, extract, rules)
    if t.resolved_on_call and t.reply_text and m.kb_answers:
        out += _contradiction(m, t)
    return out


_NEGATION = ("不", "别", "没", "无")


def _affirmed(segments: list[Segment], phrases: tuple[str, ...]) -> tuple[Segment, str] | None:
    """Like _said, but a phrase right after a negation (不急, 别着急) does not count."""
    for s in segments:
        compact = _compact(s.text)
        for p in phrases:
            core = _compact(p)
            if any(compact[max(0, i - 1):i] not in _NEGATION for i in _occurrences(compact, core)):
                return s, p
    return None


def _naming(segments: list[Segment], words: tuple[str, ...], asked: tuple[str, ...]) -> tuple[Segment, str] | None:
    """The citizen naming this call's category: not a word said of a past case (投诉过), nor in a question
    about where or how to complain (投诉快递丢件找哪个部门) unless they say they want to (我要投诉)."""
    for s in segments:
        compact = _compact(s.text)
        question = any(_compact(a) in compact for a in asked)
        for w in words:
            core = _compact(w)
            for i in _occurrences(compact, core):
                past = compact[i + len(core):i + len(core) + 1] == "过"
                wanted = compact[max(0, i - 1):i] in ("要", "想")
                if not past and (wanted or not question):
                    return s, w
    return None


def _occurrences(text: str, word: str) -> list[int]:
    return [i for i in range(len(text)) if word and text.startswith(word, i)]


def _present(mention: str, ticket_text: str) -> bool:
    core = _compact(mention)
    return not core or core in _compact(ticket_text) or fuzz.partial_ratio(core, _compact(ticket_text)) >= 85


def _missing(citizen: list[Segment], t: TicketFacts, call_time: datetime, extract: Extractor,
             rules: Rules) -> list[Finding]:
    out = []
    ticket_text = t.text()
    ticket_mentions = extract(ticket_text, call_time)
    reported: set[str] = set()
    for s in citizen:
        said = extract(s.text, call_time)
        for check, label, found, known in (("place_missing", "地点", said.places, ticket_mentions.places),
                                           ("time_missing", "时间", said.times, ticket_mentions.times),
                                           ("person_missing", "人物", said.people, ticket_mentions.people)):
            if check in reported:
                continue
            for n, mention in enumerate(found):
                if check == "time_missing" and (_HABIT.sub("", _compact(mention)) in rules.time_vague
                                                or _DURATION.match(mention) or _YEARS.match(_compact(mention))
                                                or ticket_mentions.time_known(
                        said.intervals[n] if n < len(said.intervals) else None)):
                    continue
                if not _present(mention, ticket_text) and mention not in known:
                    reported.add(check)
                    severity = "medium" if check == "place_missing" else "low"
                    out.append(Finding(check, severity, f"市民说的{label}“{mention}”工单中没有", "citizen", s.text,
                                       s.start, s.end))
                    break
    return out


_UNITS = "个工作日|工作日|天|日|小时|个月|月|年|周岁|岁|元|块|万元|%|公里|平方米|米|次|人|份|张|摄氏度|℃|度"
_NUMBER = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNITS})")
_POLAR = ("需要", "可以", "能", "收费", "允许", "要求")
_QUOTED, _MARGIN = 40.0, 1.5
# 每天/天天/每晚…: a habit; what is left (晚上) is judged as a time on its own.
_HABIT = re.compile(r"^(每天|天天|每晚|每个?星期.?|每个?礼拜.?|每周.?|每逢|每次)")
# 去年, 明年, 今年: a whole year is background, too coarse to be a fact the ticket must record.
_YEARS = re.compile(r"^(去年|前年|今年|明年|后年|那年|当年)$")
# "一个礼拜", "三天": how long, not when — not a time the ticket must record.
_DURATION = re.compile(r"^[一二两三四五六七八九十几半多\d]+个?(天|日|礼拜|星期|周|月|年|小时|分钟)(多|了)?$")


def _numbers(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for value, unit in _NUMBER.findall(_arabic(text)):
        unit = {"块": "元", "工作日": "个工作日", "日": "天", "月": "个月", "摄氏度": "度", "℃": "度"}.get(unit, unit)
        out.setdefault(unit, set()).add(value.rstrip("0").rstrip(".") if "." in value else value)
    return out


def _arabic(text: str) -> str:
    """Chinese numerals to digits (十五个工作日 → 15个工作日), for comparing amounts as said and as written."""
    import cn2an

    try:
        return str(cn2an.transform(text, "cn2an"))
    except (ValueError, KeyError, IndexError):
        return text


def _polarity(text: str) -> dict[str, set[tuple[bool, str]]]:
    """Each polarity word → {(affirmed?, the two characters it governs)}: 不需要到窗口 → (False, "到窗")."""
    # 需本人 is 需要本人; 无需/不用/不必 are 不需要 (a KB entry and an agent say it in either form).
    text = _compact(re.sub(r"无需|不需(?!要)|不用|不必", "不需要", text))
    text = re.sub(r"(?<![不无])需(?!要)", "需要", text)
    out: dict[str, set[tuple[bool, str]]] = {}
    for word in _POLAR:
        for match in re.finditer(word, text):
            negated = text[max(0, match.start() - 1):match.start()] in ("不", "没", "无", "免")
            out.setdefault(word, set()).add((not negated, text[match.end():match.end() + 2]))
    if "免费" in text:
        out.setdefault("收费", set()).add((False, ""))
    return out


def _flipped(said: set[tuple[bool, str]], kb: set[tuple[bool, str]]) -> bool:
    """The same word governing the same thing with the other polarity; failing a shared object, the KB
    saying it one way only and the answer only the other way."""
    if any(p != q and o == r and o for p, o in said for q, r in kb):
        return True
    if {o for _, o in said} & {o for _, o in kb} - {""}:
        return False
    said_ways, kb_ways = {p for p, _ in said}, {p for p, _ in kb}
    return len(kb_ways) == 1 and len(said_ways) == 1 and said_ways != kb_ways


def _contradiction(m: Material, t: TicketFacts) -> list[Finding]:
    """The entry the answer was quoted from is the one whose answer is most like it (the console's
    引用为答复 copies it; the agent may then edit). An edit that changes a number or a polarity is a
    contradiction; one that only rewords is not."""
    ranked = sorted(((fuzz.partial_ratio(_compact(a), _compact(t.reply_text)), e, a) for e, a in m.kb_answers),
                    reverse=True)
    best, entry, answer = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    # Quoted from it: clearly like it, and clearly more like it than like any other entry.
    if best < _QUOTED or best < _MARGIN * runner_up:
        return []
    said_numbers, kb_numbers = _numbers(t.reply_text), _numbers(answer)
    problems = [f"{unit}: 答复 {'/'.join(sorted(v))}，知识库 {'/'.join(sorted(kb_numbers[unit]))}"
                for unit, v in said_numbers.items() if unit in kb_numbers and not v & kb_numbers[unit]]
    said_polar, kb_polar = _polarity(t.reply_text), _polarity(answer)
    problems += [f"“{w}”：答复与知识库肯定/否定相反" for w in said_polar
                 if w in kb_polar and _flipped(said_polar[w], kb_polar[w])]
    if not problems:
        return []
    agent = [s for s in m.segments if s.speaker == "agent"]
    spoken = max(agent, key=lambda s: fuzz.partial_ratio(_compact(s.text), _compact(t.reply_text)), default=None)
    return [Finding("answer_contradicts_kb", "high", f"直接答复与知识库 {entry} 不一致：" + "；".join(problems),
                    "agent", spoken.text if spoken else t.reply_text, spoken.start if spoken else None,
                    spoken.end if spoken else None)]
