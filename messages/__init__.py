"""E-mails to subscribers: what the log makes due (``plan``), kept in an outbox and a table
of messages waiting for their date (``outbox``), written from templates (``compose``) and
sent through SMTP (``smtp``) by a follower of the log (``worker``). docs/messages.md."""
