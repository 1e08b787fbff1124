"""CloudWatch Logs: space-delimited filter patterns (`[field, field=value, ...]`), as VPC flow log
records are read.
"""

import fnmatch
import re
from typing import Any

from .registry import patch


_FLOW_COMPARISON = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*(!=|>=|<=|=|>|<)\s*(.+?)\s*$")


def _split_top_level(text: str, separator: str) -> list[str]:
    """`text` split on `separator` outside double quotes."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(text):
        if text[i] == '"':
            quoted = not quoted
        if not quoted and text.startswith(separator, i):
            parts.append(current)
            current = ""
            i += len(separator)
            continue
        current += text[i]
        i += 1
    parts.append(current)
    return parts


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class SpaceDelimitedPattern:
    """A CloudWatch Logs filter pattern for space-delimited events: `[name, name=value, ...]`.

    Each field is `...` (any number of fields), a bare name, or conditions on that name joined by
    `&&` / `||`: `=` and `!=` (a number compares numerically; text may use `*`), `>`, `<`, `>=`,
    `<=` (numbers). Without `...` an event must have exactly as many fields as the pattern. An
    event's fields are split on spaces; text in double quotes or square brackets is one field."""

    def __init__(self, pattern: str):
        body = pattern.strip()
        if not (body.startswith("[") and body.endswith("]")):
            raise ValueError("a space-delimited pattern is enclosed in [ ]")
        self.fields: list[Any] = []
        for raw in _split_top_level(body[1:-1], ","):
            field = raw.strip()
            if not field:
                raise ValueError("empty field")
            if field == "...":
                self.fields.append(None)
                continue
            alternatives, names = [], set()
            for alternative in _split_top_level(field, "||"):
                conditions = []
                for term in _split_top_level(alternative, "&&"):
                    term = term.strip()
                    if re.fullmatch(r"[A-Za-z_][\w.-]*", term):
                        names.add(term)
                        continue
                    match = _FLOW_COMPARISON.match(term)
                    if not match:
                        raise ValueError(f"cannot read {term!r}")
                    names.add(match.group(1))
                    conditions.append((match.group(2), match.group(3).strip().strip('"')))
                alternatives.append(conditions)
            if len(names) > 1:
                raise ValueError(f"conditions of one field name one field: {field!r}")
            self.fields.append(alternatives)

    @staticmethod
    def tokens(message: str) -> list[str]:
        return [
            t.strip('"') if t.startswith('"') else t[1:-1] if t.startswith("[") else t
            for t in re.findall(r'"[^"]*"|\[[^\]]*\]|\S+', message)
        ]

    @staticmethod
    def _holds(op: str, wanted: str, value: str) -> bool:
        wanted_number, number = _number(wanted), _number(value)
        if op in ("=", "!="):
            if wanted_number is not None and number is not None:
                equal = wanted_number == number
            else:
                equal = fnmatch.fnmatchcase(value, wanted)
            return equal if op == "=" else not equal
        if wanted_number is None or number is None:
            return False
        return {">": number > wanted_number, "<": number < wanted_number, ">=": number >= wanted_number}.get(
            op, number <= wanted_number
        )

    def _field_matches(self, alternatives, value: str) -> bool:
        return any(all(self._holds(op, wanted, value) for op, wanted in conditions) for conditions in alternatives)

    def _match(self, fields: list[Any], values: list[str]) -> bool:
        if not fields:
            return not values
        head, rest = fields[0], fields[1:]
        if head is None:
            return any(self._match(rest, values[skip:]) for skip in range(len(values) + 1))
        return bool(values) and self._field_matches(head, values[0]) and self._match(rest, values[1:])

    def matches(self, message: str) -> bool:
        return self._match(self.fields, self.tokens(message))


@patch("logs-space-delimited-filter")
def _logs_space_delimited_filter() -> None:
    """AWS (CloudWatch Logs User Guide, "Filter pattern syntax", "Using filter patterns to match
    terms in space-delimited log events"): FilterLogEvents (and subscription/metric filters) take
    `[field, field=value, ...]` patterns over space-delimited events such as VPC flow log records
    (`[version, account, eni, src, dst, srcport, dstport=5432, protocol, packets, bytes, start,
    end, action=REJECT, status]`); an unreadable pattern is InvalidParameterException. moto: a
    pattern starting with `[` matches every event."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.utils import EventMessageFilter

    original_init = EventMessageFilter.__init__
    original_matches = EventMessageFilter.matches

    def init(self, pattern: str):
        self._pw_space_delimited = None
        if pattern and pattern.strip().startswith("["):
            try:
                self._pw_space_delimited = SpaceDelimitedPattern(pattern)
            except ValueError as err:
                raise InvalidParameterException(f"Invalid filter pattern: {err}") from None
            return
        original_init(self, pattern)

    def matches(self, message: str) -> bool:
        if self._pw_space_delimited is not None:
            return self._pw_space_delimited.matches(message)
        return original_matches(self, message)

    EventMessageFilter.__init__ = init
    EventMessageFilter.matches = matches
