"""EventBridge: TestEventPattern, and the `account` of a delivered event."""

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


@patch("events-deliver-account")
def _events_deliver_account() -> None:
    """AWS: `account`, "the 12-digit number identifying an AWS account", is among the fields that
    "appear in all events delivered to an event bus" (EventBridge User Guide, "AWS service event
    metadata"), and a target without an input transformer receives the whole event. A
    `PutEventsRequestEntry` has no account field: the sender cannot write it. moto: sets it (the
    calling account) but the default template of its EventTemplateParser, which builds what a
    target receives, leaves `account` out although its paths map reads it."""
    from moto.events.utils import EventTemplateParser

    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )
