"""Calendar (iCalendar, RFC 5545) items for the CRM's dates, built with ``icalendar``.

Every date the CRM keeps is a day, not a moment (follow-ups, due dates, event days,
deadlines), so each item is an all-day event: ``DTSTART;VALUE=DATE`` with an exclusive
``DTEND`` the day after the last day, which every calendar shows on the same day whatever the
viewer's time zone. UIDs name the record (``follow-up-42@host``), so a calendar that refreshes a
feed or imports an .ics again updates the item instead of adding a second one.
"""

from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as CalendarEvent

# How often subscribed calendars are asked to refresh a feed.
REFRESH = timedelta(hours=1)


def _host():
    return urlparse(settings.SITE_URL).hostname or "mmc-crm"


def item_uid(kind, pk):
    return f"{kind}-{pk}@{_host()}"


def new_calendar(name):
    calendar = Calendar()
    calendar.add("prodid", "-//Mayors Migration Council//City Engagement CRM//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    return calendar


def all_day(*, uid, summary, first, last=None, url="", description="", location="", changed=None):
    """One all-day item from ``first`` to ``last`` (inclusive; one day when omitted)."""
    item = CalendarEvent()
    item.add("uid", uid)
    item.add("dtstamp", timezone.now())
    if changed is not None:
        item.add("last-modified", changed)
    item.add("summary", summary)
    item.add("dtstart", first)
    item.add("dtend", (last or first) + timedelta(days=1))
    # A deadline or a to-do does not make the person busy all day.
    item.add("transp", "TRANSPARENT")
    if location:
        item.add("location", location)
    if url:
        full = f"{settings.SITE_URL}{url}"
        item.add("url", full)
        description = f"{description}\n\n{full}".strip()
    if description:
        item.add("description", description)
    return item


def _city_names(cities):
    return ", ".join(city.name for city in cities)


def follow_up_item(engagement):
    """An engagement's follow-up on its due day (prefetch ``cities``)."""
    cities = _city_names(engagement.cities.all())
    return all_day(
        uid=item_uid("follow-up", engagement.pk),
        summary=f"Follow up: {engagement.summary}",
        first=engagement.follow_up_date,
        url=engagement.get_absolute_url(),
        description=f"{engagement.get_kind_display()} on {engagement.date:%d %b %Y}"
        + (f" with {cities}" if cities else ""),
        changed=engagement.updated_at,
    )


def ta_due_item(ta_request):
    """A TA request's due date (select ``city``)."""
    return all_day(
        uid=item_uid("ta-due", ta_request.pk),
        summary=f"TA due: {ta_request.topic} ({ta_request.city.name})",
        first=ta_request.due_date,
        url=ta_request.get_absolute_url(),
        description=f"{ta_request.get_priority_display()} priority, "
        f"{ta_request.get_status_display().lower()}",
        changed=ta_request.updated_at,
    )


def event_item(event, delegation=""):
    """The days of a multilateral event."""
    description = event.get_process_display()
    if delegation:
        description += f"\nDelegation: {delegation}"
    return all_day(
        uid=item_uid("event", event.pk),
        summary=event.name,
        first=event.start_date,
        last=event.end_date,
        url=event.get_absolute_url(),
        location=event.place,
        description=description,
    )


def registration_deadline_item(event):
    return all_day(
        uid=item_uid("event-registration", event.pk),
        summary=f"Registration closes: {event.name}",
        first=event.registration_deadline,
        url=event.get_absolute_url(),
    )


def event_items(event, delegation=""):
    items = [event_item(event, delegation)]
    if event.registration_deadline:
        items.append(registration_deadline_item(event))
    return items


def ics_response(calendar, filename, *, download=True):
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response
