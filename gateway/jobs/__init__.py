"""Durable background work: a job derives its work from committed rows and remembers how far it got in
a cursor row written in the same transaction as its results, so a crash or a database outage loses
nothing and counts nothing twice; a timer-driven worker runs it every few seconds and retries on failure.
"""
