"""API tokens for agents, handling units, admins and peer platforms: hashed at rest, scoped, revocable."""
