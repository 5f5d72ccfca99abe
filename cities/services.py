"""Writes that span several cities records."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Mayor, MayoralTerm


@transaction.atomic
def mayoral_term_start(
    *, city, start_date, mayor=None, new_mayor_name="", end_date=None, end_current_term=False
):
    """Record a mayor taking office in ``city``; with ``end_current_term`` the sitting mayor's
    term ends the day before. Raises ValidationError and changes nothing when a rule fails."""
    if mayor is None:
        mayor = Mayor.objects.create(full_name=new_mayor_name.strip())
    if end_current_term and end_date is None:
        sitting = MayoralTerm.objects.current().filter(city=city).select_for_update().first()
        if sitting is not None:
            if sitting.start_date >= start_date:
                raise ValidationError(
                    {
                        "start_date": f"{sitting.mayor}'s current term began on "
                        f"{sitting.start_date:%d %b %Y}; the new term must start after that."
                    }
                )
            sitting.end_date = start_date - timedelta(days=1)
            sitting.save()
    term = MayoralTerm(mayor=mayor, city=city, start_date=start_date, end_date=end_date)
    term.full_clean()
    term.save()
    return term


@transaction.atomic
def board_seat_save(*, seat):
    """Save ``seat`` unless it overlaps another seat of the same mayor. The mayor's row is
    locked first, so two people saving overlapping seats at once cannot both succeed."""
    Mayor.objects.select_for_update().filter(pk=seat.mayor_id).first()
    seat.full_clean()
    seat.save()
    return seat
