"""SMS: a provider interface (HTTP gateway, local outbox), durable retried sending, signed inbound replies.

Public API: ``service.queue_sms`` / ``app[keys.SMS].queue`` (in the caller's transaction); replies
arrive as bus events ``sms.received``.
"""
