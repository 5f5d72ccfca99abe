"""Celery tasks: thin wrappers around engagements.services."""

from dataclasses import asdict

from celery import shared_task

from . import services


@shared_task
def poll_inbox():
    """Read the CRM mailbox (every minute from the beat schedule). Safe to run twice at once:
    the second finds the lease taken; safe after a crash: messages are recorded by Message-ID."""
    return asdict(services.inbox_poll())
