"""Files a handling unit attaches to a ticket: 退单 evidence and 答复 attachments (see README.md)."""
