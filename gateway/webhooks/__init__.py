"""Outbound webhooks: signed, durable, retried deliveries of domain events to units and named peers.

Public API: ``service.enqueue`` / ``app[keys.WEBHOOKS].enqueue`` (in the caller's transaction),
``signing.verify_signature`` (for receivers), ``outbox`` (the durable worker core, also used by SMS).
"""
