"""Telling people: events, e-mail and its outbox, calendar invitations and reminders."""
