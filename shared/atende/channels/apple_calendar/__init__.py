"""Apple Calendar (iCloud CalDAV): a scheduled poll turns calendar changes into appointment
notices. iCloud has no webhooks, so this channel has a job and a calendar sync, no connector."""
