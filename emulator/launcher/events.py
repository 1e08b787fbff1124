"""EventBridge: TestEventPattern."""

from .registry import patch


@patch("test-event-pattern")
def _test_event_pattern() -> None:
    """AWS: TestEventPattern answers {"Result": true|false}: whether the event matches the
    pattern. An invalid pattern is InvalidEventPatternException; an event that is not a JSON
    object with the mandatory fields id, account, source, time, region, resources and detail-type
    is refused (ValidationException here). moto: an empty body (not implemented), although its
    own EventPattern matcher, the one PutEvents routes with, works."""
    import json

    from moto.events.exceptions import ValidationException
    from moto.events.models import EventPattern, EventPatternParser
    from moto.events.responses import EventsHandler

    mandatory = ("id", "account", "source", "time", "region", "resources", "detail-type")

    def test_event_pattern(self) -> str:
        raw_pattern = self._get_param("EventPattern")
        pattern = EventPatternParser(raw_pattern).parse()
        try:
            event = json.loads(self._get_param("Event") or "")
        except ValueError:
            raise ValidationException("Parameter Event is not valid. Reason: not JSON")
        if not isinstance(event, dict):
            raise ValidationException("Parameter Event is not valid. Reason: not a JSON object")
        missing = [field for field in mandatory if field not in event]
        if missing:
            raise ValidationException(f"Parameter Event is not valid. Reason: missing {', '.join(missing)}")
        return json.dumps({"Result": EventPattern(raw_pattern, pattern).matches_event(event)})

    EventsHandler.test_event_pattern = test_event_pattern
