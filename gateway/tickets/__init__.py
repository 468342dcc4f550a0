"""Tickets (工单): lifecycle, store, SLA clock and statistics."""
